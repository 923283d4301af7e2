"""Build notebooks/03_efficient_attention.ipynb from the cells below, executed, with outputs.

    .venv/bin/python notebooks/make_03.py        # rewrite and run the notebook (or: make notebooks)
    .venv/bin/python -m pytest --nbmake notebooks/03_efficient_attention.ipynb

Edit the cells here, not in Jupyter, so the notebook can always be regenerated.
"""
from __future__ import annotations

from pathlib import Path

from nbbuild import Notebook

NB = Notebook(Path(__file__).resolve().parent / "03_efficient_attention.ipynb")
md, code = NB.md, NB.code


# ----------------------------------------------------------------------------------------------
md(r"""
# Efficient attention: Longformer and Reformer, opened up

The models of notebooks 01 and 02 read a few hundred tokens. Their attention compares every
token with every other token, so doubling the text quadruples the work and the memory. The
Hugging Face course lists two families that get around it for long documents: **Longformer**
(a sliding window plus a few "global" tokens) and **Reformer** (locality-sensitive hashing, chunked
local attention and axial position encodings). This notebook opens them up with **minitf**:

1. **why**: the memory of the n x n score matrix;
2. the **attention patterns**, drawn: full, causal, Longformer's window + global tokens,
   Reformer's chunks, and LSH's buckets before and after sorting;
3. **checks**: each efficient attention equals a dense masked softmax you can write in three
   lines of NumPy;
4. **scaling**: time and peak memory as the sequence grows;
5. **LSH quality**: how far the hashed approximation is from the attention it approximates, as
   the number of hashing rounds grows;
6. **axial position encodings**: a 4096-position table from two small ones;
7. **the models**: `ReformerModelWithLMHead` and `LongformerForMaskedLM`, with their options.

Everything runs offline on a CPU in float32, in well under a minute. The two model checkpoints
in `weights/` are tiny and have **random weights**: their outputs mean nothing, but every step of
the machinery is the real one (the test suite checks it against transformers).
""")

code(r"""
import os
# One BLAS thread (set before NumPy loads): section 4 compares algorithms on one core, and on a
# busy machine a second BLAS thread makes the many small matmuls of chunked attention wait.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time
import tracemalloc
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# The repository root: the notebook runs from notebooks/ (pytest --nbmake) or from the root.
ROOT = Path.cwd() if (Path.cwd() / "weights").exists() else Path.cwd().parent
WEIGHTS = ROOT / "weights"

import minitf
from minitf.attention import (axial_position_embeddings, axial_position_table, causal_mask,
                              dense_attention_weights, draw_rotations, hash_vectors,
                              local_attention, local_global_mask, lsh_attention, normalize_keys,
                              position_parameter_counts, scaled_dot_product_attention,
                              sinusoidal_positions, sliding_window_attention, sort_by_bucket)
from minitf.backend import use_backend
from minitf.config import ReformerConfig

np.set_printoptions(precision=4, suppress=True, linewidth=110)
START = time.perf_counter()
print("minitf", minitf.__version__, "| backend:", minitf.backend.get_backend(), "| root:", ROOT)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 1. Why: the n x n score matrix

Attention computes `softmax(Q K^T / sqrt(d)) V`. The scores `Q K^T` hold one number for every
(query, key) pair: **n x n** of them per head. At 512 tokens (BERT's limit) that is 1 MiB per
head in float32, harmless. A book chapter of 64k tokens needs 16 GiB *per head*, and a layer
has 12 heads. The efficient variants only keep a band of the matrix:

- **Longformer**: each token sees `window // 2` tokens on each side: n x (window + 1) scores;
- **Reformer** (LSH or local): chunks of c tokens see themselves and the previous chunk:
  n x 2c scores per hashing round.
""")

code(r"""
def size(n_floats):
    # float32 numbers -> a readable size (4 bytes each)
    n_bytes = 4 * n_floats
    for unit in ["B", "KiB", "MiB", "GiB"]:
        if n_bytes < 1024 or unit == "GiB":
            return f"{n_bytes:,.0f} {unit}" if n_bytes >= 10 else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024


window, chunk, heads = 512, 64, 12
print(f"{'tokens':>7} | {'full n*n, 1 head':>16} | {'full, 12 heads':>14} | "
      f"{'Longformer w=512':>16} | {'LSH/local c=64':>14}")
for n in [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]:
    print(f"{n:7,d} | {size(n * n):>16} | {size(heads * n * n):>14} | "
          f"{size(n * (window + 1)):>16} | {size(n * 2 * chunk):>14}")
""")

md(r"""
The full matrix grows 4x per doubling, the bands 2x. (A fused "flash" kernel, such as minitf's
Numba backend, avoids *storing* the matrix, but still does all n² multiplications; the variants
here skip them.)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 2. Attention patterns

A pattern is a boolean "may attend" matrix: row i says which keys query i may look at.

- **full** (BERT): everything; **causal** (GPT-2): keys up to the query's own position.
- **Longformer** (`local_global_mask`): a band of `window // 2` on each side, plus *global* tokens
  (here tokens 0 and 20, e.g. `<s>` and a question) that see every token and are seen by every
  token. Padding (the last 3 tokens) is never attended, and padding rows are empty.
- **Reformer local** (`local_attention`): the sequence is cut into chunks of 8; a chunk sees
  itself and the chunk before it. The neighbour lookup wraps around, as in transformers: the
  first chunk's "previous" chunk is the *last* one (top-right corner). A causal model removes
  those keys with its causal mask.

For Longformer we also draw the real weights of one head on random q, k, v:
`sliding_window_attention(..., return_weights=True)` returns them in transformers' compact layout
(the global columns, then the band), and `dense_attention_weights` spreads them into n x n.
""")

code(r"""
n, d = 32, 16
rng = np.random.default_rng(0)
q, k, v = (rng.standard_normal((n, d), dtype=np.float32) for _ in range(3))      # [n, d] each

lf_window = 6                                        # 3 tokens on each side
is_global = np.zeros(n, int)
is_global[[0, 20]] = 1
is_real = np.ones(n, int)
is_real[-3:] = 0                                     # 3 padding tokens at the end

lf_mask = local_global_mask(n, lf_window, global_mask=is_global, padding_mask=is_real)[0]  # [n, n]
out, local_w, global_w = sliding_window_attention(q, k, v, lf_window, global_mask=is_global,
                                                  padding_mask=is_real, return_weights=True)
print("local weights", local_w.shape, "= [n, x global columns + window + 1]; global weights",
      global_w.shape, "= [n, x]")
lf_weights = dense_attention_weights(local_w, global_w, lf_window, global_mask=is_global,
                                     padding_mask=is_real)                          # [n, n]

qc, kc, vc = q[None, None], k[None, None], v[None, None]                           # [1, 1, n, d]
_, local_bi = local_attention(qc, kc, vc, chunk_length=8, return_weights="dense")
_, local_causal = local_attention(qc, kc, vc, chunk_length=8, causal=True, return_weights="dense")

patterns = {"full": np.ones((n, n)), "causal": causal_mask(n, n),
            "Longformer mask (window 6, 2 global)": lf_mask,
            "Longformer weights, one head": lf_weights,
            "Reformer local, chunks of 8": local_bi[0, 0] > 0,
            "Reformer local, causal": local_causal[0, 0] > 0}
fig, axes = plt.subplots(2, 3, figsize=(13, 8.6), layout="constrained")
for ax, (title, pattern) in zip(axes.flat, patterns.items()):
    ax.imshow(pattern, cmap="Blues" if pattern.dtype == bool or "full" in title else "viridis",
              vmin=0)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
fig.suptitle("Who may attend to whom (n = 32)");
""")

md(r"""
In the Longformer weights, the two global rows (0 and 20) spread over the whole sequence and
every row puts some weight in columns 0 and 20. Counting the links: full attention has n², the
window about n x (window + 1), and each global token adds 2n.
""")

# ----------------------------------------------------------------------------------------------
md(r"""
### LSH: attend only to what is probably close

Reformer's LSH layers use one projection for queries and keys ("shared QK"), so a query's
best keys are the vectors that point the same way as itself. **Hashing** finds them without
comparing all pairs: multiply every vector by a random matrix R [d, nb/2] and take
`argmax([x R, -x R])`, one of nb buckets; vectors at a small angle usually land in the same
bucket. Then **sort** the positions by bucket, cut the sorted sequence into chunks, and let each
chunk attend to itself and the chunk before it, exactly like local attention but in bucket
order.

To see buckets mean something, the inputs have structure: 64 tokens, each near one of 4
random directions (a "cluster", which a trained model's similar tokens would form).
""")

code(r"""
n_lsh, d_lsh, c_lsh, n_buckets = 64, 16, 8, 8
rng = np.random.default_rng(3)
centres = rng.standard_normal((4, d_lsh))
cluster = rng.integers(0, 4, n_lsh)                                   # [t]: each token's cluster
qk = (2 * centres[cluster] + 0.3 * rng.standard_normal((n_lsh, d_lsh))).astype(np.float32)
qk = qk[None, None]                                                   # [b=1, h=1, t, d]
v_lsh = rng.standard_normal((1, 1, n_lsh, d_lsh)).astype(np.float32)

R = draw_rotations(num_heads=1, head_dim=d_lsh, num_hashes=1, num_buckets=n_buckets, seed=0)
buckets = hash_vectors(qk, n_buckets, R)                              # [b, h, hashes, t]
order, undo = sort_by_bucket(buckets)                                 # [b, h, hashes * t] each
b0, sorted_pos = buckets[0, 0, 0], order[0, 0]
print("R:", R.shape, "= [heads, head_dim, num_hashes, num_buckets / 2]")
print("bucket of positions 0..15:", b0[:16])
print("positions in sorted order:", sorted_pos[:16], "...")
for c in range(4):
    print(f"cluster {c}: {np.sum(cluster == c):2d} tokens, buckets {sorted(set(b0[cluster == c].tolist()))}")

_, lsh_dense = lsh_attention(qk, v_lsh, num_buckets=n_buckets, num_hashes=1, chunk_length=c_lsh,
                             rotations=R, return_weights="dense")     # [b, h, t, t]
lsh_dense = lsh_dense[0, 0]

fig, axes = plt.subplots(2, 2, figsize=(12, 10.5), layout="constrained")
colors = plt.cm.tab10(cluster)
axes[0, 0].scatter(np.arange(n_lsh), b0, c=colors, s=25)
axes[0, 0].set(title="bucket of each position (colour = cluster)", xlabel="position", ylabel="bucket")
axes[0, 1].scatter(np.arange(n_lsh), b0[sorted_pos], c=colors[sorted_pos], s=25)
for edge in range(c_lsh, n_lsh, c_lsh):
    axes[0, 1].axvline(edge - 0.5, color="gray", lw=0.6)
axes[0, 1].set(title=f"after sort_by_bucket, cut into chunks of {c_lsh}", xlabel="sorted slot",
               ylabel="bucket")
top = np.quantile(lsh_dense[lsh_dense > 0], 0.98)                   # so the few peaks do not hide the rest
axes[1, 0].imshow(lsh_dense, cmap="viridis", vmax=top)
axes[1, 0].set(title="LSH attention weights, positions in order", xlabel="key", ylabel="query")
axes[1, 1].imshow(lsh_dense[np.ix_(sorted_pos, sorted_pos)], cmap="viridis", vmax=top)
axes[1, 1].set(title="the same weights in sorted order: chunk + previous chunk",
               xlabel="key (sorted slot)", ylabel="query (sorted slot)");
""")

md(r"""
Most clusters land in a single bucket; a cluster whose direction lies near a boundary between
buckets is split, and its pieces may end up in chunks that do not see each other. In sorted
order the pattern is Reformer's local pattern, a staircase of 8 x 16 blocks; in the original
order it looks scattered, but it joins tokens of the same cluster. The empty diagonal is the
**self mask**: with q = k a token would always attend mostly to itself, so its own key gets
-1e5 and is used only when nothing else is visible. Several rounds (`num_hashes`) with different
R add up their patterns, which catches neighbours that one round split apart (section 5).
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 3. Checks: each one is a masked softmax

None of the efficient layers is magic: each equals ordinary attention with a mask (up to float32
rounding), it just never builds the n x n matrix. We check that with a dense masked softmax in
NumPy. A row with nothing to attend (padding) gives zeros, as Longformer does.
""")

code(r"""
def masked_softmax(scores, allowed):
    # softmax over the allowed keys of each row; rows with no allowed key give 0
    s = np.where(allowed, scores, -np.inf)
    top = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


# Longformer: scores q k^T / sqrt(d), the mask of local_global_mask, and that's all.
dense_w = masked_softmax(q @ k.T / np.sqrt(d), lf_mask)                # [n, n]
diff_out = np.abs(dense_w @ v - out).max()
diff_w = np.abs(dense_w - lf_weights).max()
print(f"sliding_window_attention vs dense: output {diff_out:.1e}, weights {diff_w:.1e}")
assert diff_out < 1e-5 and diff_w < 1e-5
""")

md(r"""
**Reformer local attention**: the same, with the chunk mask. Chunk `i // c` of the query may see
chunk `j // c` of the key when it is the same chunk or the one before it, counted *circularly*
over the n / c chunks (the wrap-around of section 2; the causal version masks it away).
""")

code(r"""
t, c = 64, 8
rng = np.random.default_rng(1)
q4, k4, v4 = (rng.standard_normal((1, 1, t, d), dtype=np.float32) for _ in range(3))   # [b, h, t, d]
chunk_q = np.arange(t)[:, None] // c
chunk_k = np.arange(t)[None, :] // c
same_or_previous = (chunk_q - chunk_k) % (t // c) <= 1                  # [t, t], circular
scores = q4[0, 0] @ k4[0, 0].T / np.sqrt(d)
for causal in (False, True):
    allowed = same_or_previous & (causal_mask(t, t) if causal else True)
    expected = masked_softmax(scores, allowed) @ v4[0, 0]
    got, _ = local_attention(q4, k4, v4, chunk_length=c, num_chunks_before=1, causal=causal)
    diff = np.abs(got[0, 0] - expected).max()
    print(f"local_attention (causal={causal}) vs dense: {diff:.1e}")
    assert diff < 1e-5
""")

md(r"""
**LSH attention**, read from `minitf/attention/lsh.py`: the key is the shared vector
*normalised* (`normalize_keys`: divided by its root-mean-square, then by sqrt(d), so the scores
need no extra scaling), the score of a token with itself is replaced by -1e5, and, for one
hashing round, query i sees key j when their *sorted slots* fall in the same chunk or the one
before (circularly). `undo` from `sort_by_bucket` gives each position's sorted slot.

A second check needs no hashing at all: with only 2 chunks, "own chunk + previous chunk" is
everything, so LSH attention must equal full shared-QK attention whatever the buckets are.
""")

code(r"""
def shared_qk_scores(x):
    # x: [t, d] -> [t, t]: x against its normalised self, the self-score replaced by -1e5
    keys = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) / np.sqrt(x.shape[-1])
    s = x @ keys.T
    np.fill_diagonal(s, -1e5)
    return s


x = qk[0, 0]                                                          # the clustered inputs above
assert np.allclose(normalize_keys(x), x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) / np.sqrt(d_lsh))
slot_chunk = undo[0, 0] // c_lsh                                      # [t]: chunk of each position
allowed = (slot_chunk[:, None] - slot_chunk[None, :]) % (n_lsh // c_lsh) <= 1
expected_w = masked_softmax(shared_qk_scores(x), allowed)
got, got_w = lsh_attention(qk, v_lsh, num_buckets=n_buckets, num_hashes=1, chunk_length=c_lsh,
                           rotations=R, return_weights="dense")
diff_out = np.abs(got[0, 0] - expected_w @ v_lsh[0, 0]).max()
diff_w = np.abs(got_w[0, 0] - expected_w).max()
print(f"lsh_attention (1 round) vs dense with the bucket mask: output {diff_out:.1e}, weights {diff_w:.1e}")
assert diff_out < 1e-5 and diff_w < 1e-5

two_chunks = 2 * c_lsh                                                # every chunk sees everything
full_shared = masked_softmax(shared_qk_scores(x[:two_chunks]), True) @ v_lsh[0, 0, :two_chunks]
got, _ = lsh_attention(qk[:, :, :two_chunks], v_lsh[:, :, :two_chunks], num_buckets=n_buckets,
                       chunk_length=c_lsh, seed=123)
diff = np.abs(got[0, 0] - full_shared).max()
print(f"lsh_attention on 2 chunks vs full shared-QK attention: {diff:.1e}")
assert diff < 1e-5
""")

md(r"""
With several rounds the rounds are sorted one after the other and chunked together (as in
transformers), so the first chunk of a round looks back into the previous round; each round's
softmax is then weighted by how much weight it found (its log-normaliser). The "2 chunks = full
attention" shortcut only holds for one round.
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 4. Scaling: time and memory

One head (batch 1, head_dim 64, float32) at n = 256 ... 4096, all in plain NumPy:

- **full**: `scaled_dot_product_attention` under `use_backend("numpy")`, the n x n reference;
- **sliding window**: `sliding_window_attention`, window 256 (128 on each side);
- **LSH**: `lsh_attention`, 2 rounds, chunks of 64, the reference's default bucket count;
- **local**: `local_attention`, chunks of 64 plus the previous one.

Time is the best of 3 calls; peak memory is what `tracemalloc` saw allocated during one call
(NumPy reports its arrays to it), inputs excluded.
""")

code(r"""
def measure(fn, repeats=3):
    fn()                                              # warm-up
    best = min(_timed(fn) for _ in range(repeats))
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


lengths = [256, 512, 1024, 2048, 4096]
variants = {
    "full": lambda q, k, v: scaled_dot_product_attention(q, k, v),
    "sliding window": lambda q, k, v: sliding_window_attention(q, k, v, window=256),
    "LSH": lambda q, k, v: lsh_attention(q, v, num_buckets=None, num_hashes=2, chunk_length=64),
    "local": lambda q, k, v: local_attention(q, k, v, chunk_length=64),
}
results = {name: {"time": [], "memory": []} for name in variants}
rng = np.random.default_rng(0)
with use_backend("numpy"):
    for n in lengths:
        q_, k_, v_ = rng.standard_normal((3, 1, 1, n, 64), dtype=np.float32)   # [b, h, n, d] each
        row = []
        for name, fn in variants.items():
            seconds, peak = measure(lambda: fn(q_, k_, v_))
            results[name]["time"].append(seconds)
            results[name]["memory"].append(peak)
            row.append(f"{name} {seconds * 1e3:6.1f} ms {peak / 2**20:5.1f} MiB")
        print(f"n={n:5d}: " + " | ".join(row))
""")

code(r"""
fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
for name, r in results.items():
    ax_t.loglog(lengths, np.array(r["time"]) * 1e3, "o-", label=name)
    ax_m.loglog(lengths, np.array(r["memory"]) / 2**20, "o-", label=name)
for ax, what in ((ax_t, "time (ms), best of 3"), (ax_m, "peak memory (MiB), tracemalloc")):
    ax.set_xscale("log", base=2)
    ax.set_xlabel("sequence length n")
    ax.set_ylabel(what)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
ax_t.set_title("one head: full attention is O(n²), the others O(n)")
ax_m.set_title("memory: the n x n matrix (64 MiB at 4096) vs bands");

# full attention's memory is the score matrix: n² float32, 4x per doubling
growth = results["full"]["memory"][-1] / results["full"]["memory"][-2]
print(f"full attention memory x{growth:.1f} from 2048 to 4096; LSH x"
      f"{results['LSH']['memory'][-1] / results['LSH']['memory'][-2]:.1f}")
assert results["full"]["memory"][-1] > 4096 * 4096 * 4                 # the 64 MiB matrix is there
assert results["local"]["memory"][-1] < results["full"]["memory"][-1] / 3
""")

md(r"""
On short inputs full attention wins: it is one big matmul, while the efficient variants pay
for chunking, gathering and sorting. The lines cross somewhere around a thousand tokens (where
exactly depends on the machine), and from there the gap doubles with every doubling of n.
Memory tells the same story more cleanly, because it does not depend on the machine's speed.

For the full measurement, up to 16384 tokens and beyond, with the fused Numba kernel and
Longformer's global token too, run

    .venv/bin/python bench/attention_scaling.py

(`make bench` runs it last). It measures each cell in its own process, prints the crossover
lengths (from which each variant is faster than, and needs less memory than, full attention),
and saves the plots to `bench/results/attention_scaling.png`.
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 5. How good is LSH?

Local and Longformer attention are exact for the pattern they choose. LSH is an
*approximation* of shared-QK attention: a query only meets the keys that hashed near it, and
misses the others. What it approximates is full shared-QK attention (normalised keys, self
mask, no hashing: `shared_qk_scores` above). We measure the relative error
`||lsh - exact|| / ||exact||` on n = 1024 tokens as the number of hashing rounds grows, for two
kinds of inputs:

- **random** Gaussian vectors: no structure, the attention is spread over all 1024 keys, and a
  window of 128 keys cannot capture it;
- **clustered**: 128 groups of about 8 similar vectors, so each query's attention is concentrated
  on a few neighbours. Trained attention heads tend to look like this, and it is the case
  LSH was designed for.
""")

code(r"""
n_q, d_q, c_q = 1024, 64, 64
hash_rounds = [1, 2, 4, 8]
errors = {"random": [], "clustered": []}
for kind in errors:
    for rounds in hash_rounds:
        per_seed = []
        for seed in range(3):
            rng = np.random.default_rng(100 + seed)
            if kind == "random":
                x = rng.standard_normal((n_q, d_q), dtype=np.float32)
            else:
                groups = rng.standard_normal((128, d_q))
                x = (2 * groups[rng.integers(0, 128, n_q)] + 0.3 * rng.standard_normal((n_q, d_q)))
                x = x.astype(np.float32)
            val = rng.standard_normal((n_q, d_q), dtype=np.float32)
            exact = masked_softmax(shared_qk_scores(x), True) @ val            # [t, d]
            approx, _ = lsh_attention(x[None, None], val[None, None], num_buckets=None,
                                      num_hashes=rounds, chunk_length=c_q, seed=seed)
            per_seed.append(np.linalg.norm(approx[0, 0] - exact) / np.linalg.norm(exact))
        errors[kind].append(float(np.mean(per_seed)))
    print(f"{kind:9}: relative error for num_hashes {hash_rounds}: {np.round(errors[kind], 3)}")

# the exact reference is also lsh_attention itself with one chunk as long as the sequence
same, _ = lsh_attention(x[None, None], val[None, None], num_buckets=None, chunk_length=n_q)
assert np.abs(same[0, 0] - exact).max() < 1e-5

fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
for kind, errs in errors.items():
    ax.plot(hash_rounds, errs, "o-", label=kind)
ax.set_xscale("log", base=2)
ax.set_xticks(hash_rounds, [str(h) for h in hash_rounds])
ax.set(xlabel="num_hashes (hashing rounds)", ylabel="relative error vs exact shared-QK attention",
       title=f"LSH attention, n = {n_q}, chunks of {c_q}, mean of 3 seeds", ylim=(0, None))
ax.grid(alpha=0.3)
ax.legend();
assert errors["clustered"][-1] < errors["clustered"][0] / 2
assert errors["clustered"][-1] < errors["random"][-1]
""")

md(r"""
More rounds help: a neighbour that one rotation puts across a bucket or chunk boundary is
usually found by another, at the cost of one more pass of work and memory per round (the
Reformer paper trains with a few rounds and evaluates with more). On random inputs the error
stays large: the exact output averages almost all 1024 values (a vector with a small norm),
while one round averages at most 128 of them; extra rounds only help by covering more keys.
LSH pays off when attention is concentrated on a few similar keys.
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 6. Axial position encodings

A long model also needs positions: a learned table [l, d] for l = 4096 positions of d = 256
values is a million numbers, and for the 524,288 positions of the crime-and-punishment model,
134 million, more than the rest of the model. Reformer **factorises** the table: with
l = l1 x l2 and d = d1 + d2, two small tables E1 [l1, d1] and E2 [l2, d2] give position j

    axial(j) = concat(E1[j // l2], E2[j % l2])

i.e. the positions are laid out **row by row** on an l1 x l2 grid (j = row * l2 + column); E1
encodes the row, E2 the column. This is the order of transformers' `AxialPositionEmbeddings`
(weights [l1, 1, d1] and [1, l2, d2] broadcast to [l1, l2, d] and reshaped row-major), and of
minitf's `axial_position_table`. A small example checks it entry by entry:
""")

code(r"""
l1, l2, d1, d2 = 3, 4, 2, 3
E1 = np.arange(l1 * d1, dtype=np.float32).reshape(l1, d1)              # [l1, d1]: rows 0, 1, 2
E2 = 100 + np.arange(l2 * d2, dtype=np.float32).reshape(l2, d2)        # [l2, d2]: columns 0..3
table = axial_position_table(E1, E2)                                    # [l1 * l2, d1 + d2]
print(table)
for j in range(l1 * l2):
    assert np.array_equal(table[j], np.concatenate([E1[j // l2], E2[j % l2]]))
# the lookup used by the model gives the same rows without building the table
ids = np.array([[0, 5, 11], [4, 4, 7]])
assert np.array_equal(axial_position_embeddings(E1, E2, ids), table[ids])
""")

md(r"""
The saving is l·d / (l1·d1 + l2·d2). For transformers' `ReformerConfig` defaults and for the
trained `google/reformer-crime-and-punishment` (axial_pos_shape [512, 1024], dims [64, 192],
hidden 256):
""")

code(r"""
defaults = ReformerConfig()
configs = {"ReformerConfig() defaults": (defaults.axial_pos_shape, defaults.axial_pos_embds_dim),
           "crime-and-punishment": ((512, 1024), (64, 192))}
for name, (shape, dims) in configs.items():
    counts = position_parameter_counts(shape, dims)
    print(f"{name:25}: shape {tuple(shape)}, dims {tuple(dims)} -> {shape[0] * shape[1]:7,d} positions: "
          f"full table {counts['full']:11,d} numbers, axial {counts['axial']:7,d} ({counts['ratio']:.0f}x fewer)")
assert position_parameter_counts((512, 1024), (64, 192))["axial"] == 512 * 64 + 1024 * 192
""")

md(r"""
What such a table looks like: below, E1 and E2 are sinusoidal tables (so the picture has
structure; in a model they are learned) for a 16 x 32 grid. The first d1 values (E1) change only
every l2 = 32 positions, like the hour hand of a clock; the last d2 values (E2) repeat every 32
positions, like the minute hand. Together they tell all 512 positions apart.
""")

code(r"""
l1, l2, d1, d2 = 16, 32, 8, 16
E1, E2 = sinusoidal_positions(l1, d1), sinusoidal_positions(l2, d2)
table = axial_position_table(E1, E2)                                    # [512, 24]
assert len(np.unique(table, axis=0)) == l1 * l2                         # every position is distinct

fig, ax = plt.subplots(figsize=(12, 3.6), layout="constrained")
ax.imshow(table.T, aspect="auto", cmap="RdBu", interpolation="nearest")
ax.axhline(d1 - 0.5, color="black", lw=1)
for row_start in range(0, l1 * l2, l2):
    ax.axvline(row_start - 0.5, color="gray", lw=0.4)
ax.set_yticks([d1 / 2 - 0.5, d1 + d2 / 2 - 0.5], ["E1[j // 32]", "E2[j % 32]"])
ax.set_xlabel("position j")
ax.set_title(f"axial table: {l1 * l2} positions x {d1 + d2} values from {l1}x{d1} + {l2}x{d2} numbers");
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 7. The models

### Reformer

`weights/tiny-reformer` is a `ReformerModelWithLMHead` (a causal language model, like the
crime-and-punishment one) with 4 layers alternating `"local"` and `"lsh"` attention. Its input
is padded inside to a multiple of the chunk lengths (here 4 and 8), and the outputs are cut back.
Every layer keeps two streams (reversible residuals), so the final hidden state, read by the
LM head, is 2 x hidden_size wide.
""")

code(r"""
reformer = minitf.AutoModelForCausalLM.from_pretrained(WEIGHTS / "tiny-reformer")
cfg = reformer.config
print(type(reformer).__name__, "| attn_layers:", cfg.attn_layers, "| heads:", cfg.num_attention_heads,
      "x", cfg.attention_head_size, "| num_buckets:", cfg.num_buckets, "| num_hashes:", cfg.num_hashes)
print("chunks: lsh", cfg.lsh_attn_chunk_length, "local", cfg.local_attn_chunk_length,
      "| axial positions", cfg.axial_pos_shape, cfg.axial_pos_embds_dim)

ids = np.random.default_rng(0).integers(3, cfg.vocab_size, (1, 20))     # [b, t], random tokens
out = reformer(ids, output_attentions=True, output_hidden_states=True)
print("logits", out.logits.shape, "| hidden_states", len(out.hidden_states), "x",
      out.hidden_states[0].shape)
for layer, (kind, att) in enumerate(zip(cfg.attn_layers, out.attentions)):
    print(f"attentions[{layer}] ({kind:5}): {att.shape}")
""")

md(r"""
The attention weights keep transformers' chunked layout, at the padded length (24):
local is `[b, heads, 24 / 4 chunks, 4 queries, 8 keys]` (own chunk + previous); LSH is
`[b, heads, num_hashes x 24 / 8 chunks, 8, 16]`, in *sorted* order.

LSH draws random rotations. minitf draws them from NumPy seeded with `hash_seed` (0 when
unset) + the layer index, so every call gives the same result; `lsh_rotations=` (one array per
LSH layer, `[heads, head_dim, num_hashes, num_buckets / 2]`) fixes them explicitly, e.g. to the
ones transformers drew, which is how the tests compare the two libraries.
""")

code(r"""
lsh_layers = [i for i, kind in enumerate(cfg.attn_layers) if kind == "lsh"]       # [1, 3]
dims = (cfg.num_attention_heads, cfg.attention_head_size, cfg.num_hashes, cfg.num_buckets)
default_rotations = [draw_rotations(*dims, seed=i) for i in lsh_layers]        # hash_seed 0 + layer
other_rotations = [draw_rotations(*dims, seed=100 + i) for i in lsh_layers]
print("rotations per LSH layer:", default_rotations[0].shape)

same = reformer(ids, lsh_rotations=default_rotations).logits
other = reformer(ids, lsh_rotations=other_rotations).logits
print("same rotations as the default draw: max |diff|", np.abs(same - out.logits).max())
print("other rotations:                    max |diff|", np.abs(other - out.logits).max())
assert np.array_equal(same, out.logits)

# Causal LSH never attends to a later key, but later tokens move the buckets:
changed = ids.copy()
changed[0, 15:] = 5                                               # change only the last 5 tokens
diff = np.abs(reformer(changed, lsh_rotations=default_rotations).logits - same)[0, :15].max(-1)
print("change at positions 0..14 after changing tokens 15..19:", diff.round(3))
assert diff[0] < 1e-5
""")

md(r"""
The last line is a real property of LSH in a decoder, not a bug: the causal mask hides later
*keys*, but the later tokens still take part in the sort, so which earlier keys share a chunk
with a query can change. Only position 0, which can see nothing but itself, is sure not to move.

### Longformer

`weights/tiny-longformer` is a `LongformerForMaskedLM` (RoBERTa with local + global attention)
with `attention_window` 4 in layer 0 and 8 in layer 1. `global_attention_mask` marks the global
tokens (1); `attentions[i]` comes in the compact layout of section 2, `[b, heads, n, x + window + 1]`,
and `global_attentions[i]` is `[b, heads, n, x]`, for x global tokens.
""")

code(r"""
longformer = minitf.AutoModelForMaskedLM.from_pretrained(WEIGHTS / "tiny-longformer")
windows = longformer.config.attention_window
print(type(longformer).__name__, "| attention_window:", windows)

ids = np.concatenate([[0], np.random.default_rng(1).integers(3, 1000, 28), [2]])[None]   # <s> ... </s>
global_mask = np.zeros_like(ids)
global_mask[0, [0, 10]] = 1                                       # <s> and token 10 are global
out = longformer(ids, global_attention_mask=global_mask, output_attentions=True)
print("logits", out.logits.shape)
for layer in range(len(windows)):
    print(f"layer {layer}: attentions {out.attentions[layer].shape}, "
          f"global_attentions {out.global_attentions[layer].shape}")

fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
for layer, ax in enumerate(axes):
    dense = dense_attention_weights(out.attentions[layer], out.global_attentions[layer],
                                    windows[layer], global_mask=global_mask)          # [b, h, n, n]
    assert np.allclose(dense.sum(-1), 1, atol=1e-5)               # every row is a distribution
    ax.imshow(dense[0, 0], cmap="viridis")
    ax.set(title=f"layer {layer}, head 0: window {windows[layer]}, global tokens 0 and 10",
           xlabel="key", ylabel="query")
print(f"notebook ran in {time.perf_counter() - START:.1f} s")
""")

md(r"""
**Where next?** Read `minitf/attention/local_global.py` (the band computed chunk by chunk
without an n x n matrix, with a worked example), `minitf/attention/lsh.py` (the six steps of LSH
attention), `minitf/attention/local.py` and `minitf/attention/positions.py`, then
`minitf/models/reformer.py` (reversible layers) and `minitf/models/longformer.py`. The tests
`tests/test_reformer.py` and `tests/test_longformer.py` compare every output with transformers.
""")


if __name__ == "__main__":
    NB.write()
