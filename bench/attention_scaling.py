"""Why efficient attention exists: time and peak memory of full vs LSH vs local attention.

    .venv/bin/python bench/attention_scaling.py     # (make bench runs it last)

One head-batch (batch 1, 1 head, head_dim 64, float32) at sequence lengths 512 .. 32768:

- full        the NumPy reference `scaled_dot_product_attention`: an n x n score matrix
- full-fused  the Numba flash-style kernel: the same O(n^2) work, O(n) memory (issue 5)
- lsh         Reformer's LSH attention (`lsh_attention`): 2 hashing rounds, chunks of 64,
              one chunk looked back at, the reference's default bucket count
- local       Reformer's chunked local attention (`local_attention`): chunks of 64 + 1 back
- window+global  Longformer's sliding window of 512 with one global token (`sliding_window_attention`)

Each cell runs in its own subprocess, so its peak memory (growth of ru_maxrss over the inputs)
is its own. Full attention is skipped at lengths whose score matrix would not fit in half of
this machine's memory. Printed: the table, and for each efficient variant the length from
which it is faster than full attention and the length from which it needs less memory.

Then the quality side: LSH is an approximation. Its relative error against the exact
shared-query/key attention it approximates (same normalised keys and self mask, no hashing)
is measured as num_hashes grows, on random Gaussian inputs and on clustered inputs (tokens
near one of 16 directions, where nearby vectors really do share buckets).

Both figures are saved to bench/results/attention_scaling.png; numbers to attention_scaling.json.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HEAD_DIM = 64
IMPLS = ("full", "full-fused", "lsh", "local", "window+global")
EFFICIENT = ("lsh", "local", "window+global")
LSH_HASHES, CHUNK, WINDOW = 2, 64, 512


def _inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, 1, n, HEAD_DIM), dtype=np.float32) for _ in range(3)]


def _make(impl: str, n: int):
    """A no-argument function running `impl` once at length n."""
    from minitf.attention import (local_attention, lsh_attention, scaled_dot_product_attention,
                                  sliding_window_attention)
    from minitf.backend import set_backend

    q, k, v = _inputs(n)
    if impl == "full":
        set_backend("numpy")
        return lambda: scaled_dot_product_attention(q, k, v)
    if impl == "full-fused":
        set_backend("numba")
        return lambda: scaled_dot_product_attention(q, k, v)
    set_backend("numpy")  # the efficient variants are plain NumPy (BLAS for their small products)
    if impl == "lsh":
        return lambda: lsh_attention(q, v, num_buckets=None, num_hashes=LSH_HASHES, chunk_length=CHUNK)
    if impl == "local":
        return lambda: local_attention(q, k, v, chunk_length=CHUNK)
    if impl == "window+global":
        glob = np.zeros(n, np.int64)
        glob[0] = 1  # a [CLS]-like token that sees and is seen by every position
        return lambda: sliding_window_attention(q, k, v, min(WINDOW, n), global_mask=glob)
    raise ValueError(f"unknown implementation {impl!r} (choose from {IMPLS})")


def one(impl: str, n: int, repeats: int) -> dict:
    """Time and peak memory of one implementation at one length (run in a subprocess)."""
    _make(impl, 2 * CHUNK)()  # import libraries and compile kernels before the memory baseline
    fn = _make(impl, n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # the inputs are included
    fn()  # warm-up: first touch of memory
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    return {"time_s": min(times), "peak_mb": peak_kb / 1024}


def _fits(impl: str, n: int) -> bool:
    if impl != "full":
        return True
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return 2 * n * n * 4 < total / 2  # scores + the softmax temporaries


def measure(lengths, repeats) -> dict:
    results = {impl: {} for impl in IMPLS}
    print(f"one head-batch (1 x 1 head x {HEAD_DIM}), float32; ms and peak extra MB, each cell its own process")
    print(f"{'n':>6} | " + " | ".join(f"{impl:>20}" for impl in IMPLS))
    for n in lengths:
        cells = []
        for impl in IMPLS:
            if not _fits(impl, n):
                cells.append(f"{'(too big)':>20}")
                continue
            r = 1 if n >= 8192 else repeats
            proc = subprocess.run([sys.executable, __file__, "--one", impl, str(n), str(r)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"  {impl} at n={n} failed: {proc.stderr.strip().splitlines()[-1:]}")
                cells.append(f"{'failed':>20}")
                continue
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            results[impl][n] = res
            cells.append(f"{res['time_s'] * 1e3:>10.1f} {res['peak_mb']:>8.0f}MB")
        print(f"{n:>6} | " + " | ".join(cells), flush=True)
    return results


def crossovers(results) -> dict:
    """For each efficient variant: the first length from which it beats full attention at every
    longer measured length (in time, and in memory); None if it never does."""
    full = results["full"]
    out = {}
    for impl in EFFICIENT + ("full-fused",):
        mine = results[impl]
        common = sorted(set(full) & set(mine))
        found = {}
        for key in ("time_s", "peak_mb"):
            wins = [mine[n][key] < full[n][key] for n in common]
            first = None
            for i in range(len(common)):
                if all(wins[i:]):
                    first = common[i]
                    break
            found[key] = first
        out[impl] = found
    return out


def lsh_quality(n: int, hashes_list, seeds: int = 3) -> dict:
    """Relative error ||lsh - exact|| / ||exact|| of LSH attention against the same attention
    without hashing (lsh_attention with one chunk as long as the sequence: every query meets
    every key, with the same normalised keys and self mask)."""
    from minitf.attention import lsh_attention

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((16, HEAD_DIM)).astype(np.float32)
    res = {"random": {}, "clustered": {}}
    for kind in res:
        for hashes in hashes_list:
            errs = []
            for seed in range(seeds):
                r = np.random.default_rng(100 + seed)
                if kind == "random":
                    qk = r.standard_normal((1, 1, n, HEAD_DIM)).astype(np.float32)
                else:  # each token near one of 16 directions, scaled so attention is peaked
                    qk = 4 * centres[r.integers(0, 16, n)] + 0.5 * r.standard_normal((n, HEAD_DIM))
                    qk = qk.astype(np.float32)[None, None]
                v = r.standard_normal((1, 1, n, HEAD_DIM)).astype(np.float32)
                exact, _ = lsh_attention(qk, v, num_buckets=None, chunk_length=n)
                approx, _ = lsh_attention(qk, v, num_buckets=None, num_hashes=hashes,
                                          chunk_length=CHUNK, seed=seed)
                errs.append(float(np.linalg.norm(approx - exact) / np.linalg.norm(exact)))
            res[kind][hashes] = float(np.mean(errs))
    return res


def plot(results, quality, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for impl in IMPLS:
        ns = sorted(results[impl])
        if not ns:
            continue
        axes[0].loglog(ns, [results[impl][n]["time_s"] * 1e3 for n in ns], "o-", label=impl)
        axes[1].loglog(ns, [max(results[impl][n]["peak_mb"], 0.1) for n in ns], "o-", label=impl)
    axes[0].set(title="time (1 head, d=64)", xlabel="sequence length n", ylabel="ms")
    axes[1].set(title="peak extra memory", xlabel="sequence length n", ylabel="MB")
    for kind, errs in quality["errors"].items():
        hs = sorted(errs)
        axes[2].semilogx(hs, [errs[h] for h in hs], "o-", base=2, label=f"{kind} inputs")
    axes[2].set(title=f"LSH vs exact shared-QK attention (n={quality['n']})", xlabel="num_hashes",
                ylabel="relative error", ylim=(0, None))
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", nargs=3, metavar=("IMPL", "N", "REPEATS"), help=argparse.SUPPRESS)
    ap.add_argument("--lengths", type=int, nargs="*", default=[512, 1024, 2048, 4096, 8192, 16384, 32768])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quality-n", type=int, default=1024)
    ap.add_argument("--hashes", type=int, nargs="*", default=[1, 2, 4, 8, 16])
    args = ap.parse_args(argv)
    if args.one:
        impl, n, r = args.one
        print(json.dumps(one(impl, int(n), int(r))))
        return

    results = measure(args.lengths, args.repeats)
    cross = crossovers(results)
    print("\nfrom which length each variant beats full attention (NumPy reference), at every longer length:")
    for impl, found in cross.items():
        t, m = found["time_s"], found["peak_mb"]
        print(f"  {impl:>14}: faster from n = {t if t else 'never (in this range)'}, "
              f"less memory from n = {m if m else 'never (in this range)'}")
    full = results["full"]
    big = [n for n in sorted(full) if n >= 2048]
    if len(big) >= 2:  # growth exponent of full attention's memory between the two ends
        a, b = big[0], big[-1]
        slope = np.log(full[b]["peak_mb"] / full[a]["peak_mb"]) / np.log(b / a)
        print(f"  full attention memory grows as n^{slope:.2f} between {a} and {b}")
    for impl in EFFICIENT:
        ns = [n for n in sorted(results[impl]) if n >= 2048]
        if len(ns) >= 2 and results[impl][ns[0]]["peak_mb"] > 0:
            a, b = ns[0], ns[-1]
            slope = np.log(results[impl][b]["peak_mb"] / results[impl][a]["peak_mb"]) / np.log(b / a)
            print(f"  {impl} memory grows as n^{slope:.2f} between {a} and {b}")

    print(f"\nLSH quality, n = {args.quality_n}: relative error vs exact shared-QK attention (mean of 3 seeds)")
    errors = lsh_quality(args.quality_n, args.hashes)
    for kind, errs in errors.items():
        print(f"  {kind:>9} inputs: " + ", ".join(f"{h} hashes {e:.3f}" for h, e in errs.items()))

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(out, exist_ok=True)
    quality = {"n": args.quality_n, "errors": errors}
    plot(results, quality, os.path.join(out, "attention_scaling.png"))
    with open(os.path.join(out, "attention_scaling.json"), "w") as f:
        json.dump({"results": {k: {str(n): r for n, r in v.items()} for k, v in results.items()},
                   "crossovers": cross, "lsh_quality": quality}, f, indent=2)
    print(f"\nsaved {os.path.join(out, 'attention_scaling.png')} and attention_scaling.json")


if __name__ == "__main__":
    main()
