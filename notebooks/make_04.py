"""Build notebooks/04_encoder_decoder.ipynb from the cells below, executed, with outputs.

    .venv/bin/python notebooks/make_04.py        # rewrite and run the notebook (or: make notebooks)
    .venv/bin/python -m pytest --nbmake notebooks/04_encoder_decoder.ipynb

Edit the cells here, not in Jupyter, so the notebook can always be regenerated.
"""
from __future__ import annotations

from pathlib import Path

from nbbuild import Notebook

NB = Notebook(Path(__file__).resolve().parent / "04_encoder_decoder.ipynb")
md, code = NB.md, NB.code


# ----------------------------------------------------------------------------------------------
md(r"""
# Encoder-decoder models (BART, Marian), opened up

Chapter 1 of the Hugging Face course summarises an article with `pipeline("summarization")`
(DistilBART) and translates French with `pipeline("translation", model="Helsinki-NLP/opus-mt-fr-en")`
(Marian). Both are **encoder-decoders**: an encoder reads the whole source once, a decoder writes
the target one token at a time, and **cross-attention** lets every target position look at the
source. This notebook opens them with **minitf**:

1. **the model**: its modules and parameter names, its generation defaults;
2. **the encoder**, run once: embeddings by hand, then the source's vectors;
3. **the decoder**, step by step, reusing the encoder output;
4. **cross-attention by hand**, and what the source's padding does to it;
5. **a plot of cross-attention** between a source and its generated target;
6. **the cache**: the decoder's own keys/values grow, the cross-attention ones are computed once;
7. **beam search drawn as a tree** of hypotheses with their scores, written by hand and checked
   against `model.generate`;
8. **why `length_penalty` changes the winner**.

**About the models.** No real BART or Marian checkpoint is in the package registry, so by
default this notebook runs on `weights/tiny-bart` (a `BartForConditionalGeneration`: 2 encoder
+ 2 decoder layers, 32-dimensional vectors, 4 heads, a 1,000-token byte-level BPE vocabulary)
and `weights/tiny-marian`, committed to the repository with **random weights**. Every shape,
every check and every plot is the real machinery, but the "summaries" are gibberish: nobody
trained these models. If `sshleifer/distilbart-cnn-12-6` (or `Helsinki-NLP/opus-mt-fr-en`) is
in your local Hugging Face cache (`huggingface-cli download sshleifer/distilbart-cnn-12-6` on a
machine with network), the same code runs on the real model.
""")

code(r"""
import copy
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# The repository root: the notebook runs from notebooks/ (pytest --nbmake) or from the root.
ROOT = Path.cwd() if (Path.cwd() / "weights").exists() else Path.cwd().parent
WEIGHTS = ROOT / "weights"

import minitf
from minitf import ops
from minitf.hub import cached_snapshot

np.set_printoptions(precision=4, suppress=True, linewidth=110)
START = time.perf_counter()
print("minitf", minitf.__version__, "| root:", ROOT)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 1. The model
""")

code(r"""
REAL = "sshleifer/distilbart-cnn-12-6"
if cached_snapshot(REAL) is not None:
    TINY, MODEL_NAME = False, REAL
    model = minitf.AutoModelForSeq2SeqLM.from_pretrained(REAL)
    tok = minitf.AutoTokenizer.from_pretrained(REAL)
    print(f"Using the real {REAL} from the Hugging Face cache.")
else:
    TINY, MODEL_NAME = True, "tiny-bart (random weights)"
    model = minitf.AutoModelForSeq2SeqLM.from_pretrained(WEIGHTS / "tiny-bart")
    tok = minitf.AutoTokenizer.from_pretrained(WEIGHTS / "tiny-bart")
    print(f"{REAL} is not in the local Hugging Face cache, so this notebook uses\n"
          "weights/tiny-bart: BART at toy size with RANDOM weights. Every check below holds,\n"
          "but its outputs are not real summaries.")
cfg = model.config
print(type(model).__name__, "|", type(tok).__name__, f"| {model.num_parameters():,} parameters")
print(f"d_model={cfg.d_model}  encoder_layers={cfg.encoder_layers}  decoder_layers={cfg.decoder_layers}  "
      f"heads={cfg.encoder_attention_heads}  vocab={cfg.vocab_size}  positions={cfg.max_position_embeddings}")
BOS, PAD, EOS, DEC_START = cfg.bos_token_id, cfg.pad_token_id, cfg.eos_token_id, cfg.decoder_start_token_id
print("special ids: <s> =", BOS, " <pad> =", PAD, " </s> =", EOS, " decoder_start_token_id =", DEC_START)
""")

md(r"""
The attribute names are the checkpoint's names, so `model.model.decoder.layers[0].encoder_attn.k_proj`
is `model.decoder.layers.0.encoder_attn.k_proj.weight` in `model.safetensors`. An encoder layer
has one attention (`self_attn`); a decoder layer has two: its own causal `self_attn`, then
`encoder_attn`, the cross-attention. One embedding table, `model.shared`, serves the encoder,
the decoder and the output projection `lm_head`.
""")

code(r"""
params = dict(model.named_parameters())
for prefix in ["model.shared", "model.encoder.embed_positions", "model.encoder.layernorm_embedding",
               "model.encoder.layers.0.", "model.decoder.layers.0.", "lm_head", "final_logits_bias"]:
    for name in [n for n in params if n.startswith(prefix)]:
        print(f"{name:50s} {str(params[name].shape):12s}")
print("one table for everything:", model.model.encoder.embed_tokens is model.model.shared
      is model.model.decoder.embed_tokens, "| lm_head tied to it:",
      np.shares_memory(model.lm_head.weight, model.model.shared.weight))
""")

md(r"""
**Generation defaults.** `model.generation_config` comes from the checkpoint's
`generation_config.json`. tiny-bart ships the defaults of `facebook/bart-large-cnn`: 4 beams,
`length_penalty=2.0`, no repeated 3-gram, at least 6 tokens, and the decoder is forced to write
`<s>` first (`forced_bos_token_id=0`) and `</s>` last when it hits `max_length`.
""")

code(r"""
gen = model.generation_config
for key in ["num_beams", "length_penalty", "early_stopping", "no_repeat_ngram_size", "min_length",
            "max_length", "forced_bos_token_id", "forced_eos_token_id", "decoder_start_token_id"]:
    print(f"{key:24s} {getattr(gen, key)!r}")

article = "Paris is the capital of France."
src = tok([article], return_tensors="np")
summary_ids = model.generate(src["input_ids"], attention_mask=src["attention_mask"], max_new_tokens=12)
print("\nsource ids :", src["input_ids"][0].tolist())
print("output ids :", summary_ids[0].tolist())
print("summary    :", repr(tok.decode(summary_ids[0], skip_special_tokens=True)))
""")

md(r"""
The output starts with `</s> <s>`: `</s>` is the `decoder_start_token_id` (a BART quirk: the
decoder's first input is the end-of-sequence token), `<s>` is the forced first token. With
random weights the text in between means nothing.

To see the bare algorithms in sections 3 to 8 we switch the extras off, and set
`length_penalty` and `early_stopping` back to the library defaults (1.0 and False; sections 7
and 8 pass them per call). For one call, an option given as `None` turns it off, in minitf as
in transformers: `generate(..., forced_bos_token_id=None)`. For every cell below, we change
the model's `generation_config` once (and keep a copy of the BART-CNN defaults for the end).
""")

code(r"""
no_bos = model.generate(src["input_ids"], attention_mask=src["attention_mask"], max_new_tokens=12,
                        forced_bos_token_id=None)                 # this call only
print("forced_bos_token_id=None:", no_bos[0].tolist())

bart_cnn_defaults = copy.deepcopy(model.generation_config)     # kept, to compare later
gen.no_repeat_ngram_size = 0
gen.min_length = 0
gen.forced_bos_token_id = None
gen.forced_eos_token_id = None
gen.length_penalty, gen.early_stopping = 1.0, False   # the library defaults; sections 7-8 set them per call
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 2. The encoder, once

The encoder is BERT-like: token embeddings times `embed_scale` (= sqrt(d_model) when
`scale_embedding`), plus **learned positions looked up at i + 2** (the position table has 2
extra rows, a fairseq left-over kept by the checkpoints), then `layernorm_embedding`, then the
layers. Its output is one vector per source token, `[batch, src, d_model]`, computed once
whatever the length of the target.
""")

code(r"""
encoder = model.get_encoder()
ids, mask = src["input_ids"], src["attention_mask"]
enc = encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True)

# the embeddings by hand
emb = model.model.shared.weight[ids] * encoder.embed_scale           # [1, src, d]
emb = emb + encoder.embed_positions.weight[np.arange(ids.shape[1]) + 2]
emb = encoder.layernorm_embedding(emb)
assert np.allclose(emb, enc.hidden_states[0], atol=1e-5)

encoder_states = enc.last_hidden_state                                # [1, src, d]
print("source tokens :", tok.convert_ids_to_tokens(ids[0]))
print("encoder output:", encoder_states.shape, " # [batch, src, d_model]")

full = model(input_ids=ids, attention_mask=mask, decoder_input_ids=np.array([[DEC_START]]))
assert np.allclose(full.encoder_last_hidden_state, encoder_states, atol=1e-6)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 3. The decoder, step by step

The decoder reads the target so far (`decoder_input_ids`, starting with
`decoder_start_token_id`) and the encoder output, and gives logits for the next token at every
target position, `[batch, tgt, vocab]`. Passing `encoder_outputs=` skips the encoder: we run it
once and reuse it at every step. Here is greedy decoding by hand (no cache yet: every step
re-reads the whole target):
""")

code(r"""
target = np.array([[DEC_START]])                                      # [1, 1]
for step in range(1, 7):
    out = model(encoder_outputs=(encoder_states,), attention_mask=mask, decoder_input_ids=target)
    next_id = int(out.logits[0, -1].argmax())
    print(f"step {step}: decoder_input_ids {str(target.shape):8s} -> logits {out.logits.shape}, "
          f"next token {next_id:4d} {tok.decode([next_id])!r}")
    target = np.concatenate([target, [[next_id]]], axis=1)
    if next_id == EOS:
        break

greedy = model.generate(ids, attention_mask=mask, num_beams=1, max_new_tokens=6)
print("by hand :", target[0].tolist(), "\ngenerate:", greedy[0].tolist())
assert greedy[0].tolist() == target[0].tolist()
""")

md(r"""
Training uses the same forward with the whole reference target at once (**teacher forcing**):
`decoder_input_ids` is the target shifted right by one (`shift_tokens_right`), and the causal
mask makes position j see only target tokens 0..j, so one forward gives the logits of every
step above at once:
""")

code(r"""
once = model(input_ids=ids, attention_mask=mask, decoder_input_ids=target[:, :-1])
per_step = once.logits.argmax(-1)[0]                                  # [tgt]
print("argmax at every position in one forward:", per_step.tolist(), "== target[1:]", target[0, 1:].tolist())
assert per_step.tolist() == target[0, 1:].tolist()
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 4. Cross-attention by hand

A decoder layer is three sub-layers, each followed by a residual connection and a layer norm
(post-norm, as in BERT):

    y = LN(y + CausalSelfAttention(y))              self_attn, self_attn_layer_norm
    y = LN(y + CrossAttention(q = y, k = v = s))    encoder_attn, encoder_attn_layer_norm
    y = LN(y + fc2(gelu(fc1(y))))                   final_layer_norm

In cross-attention the **queries come from the target**, the **keys and values from the
encoder states `s`**: its weights are `[batch, heads, tgt, src]`, one distribution over the
source per target position. We recompute layer 0's by hand from its input and compare with
`cross_attentions[0]`, which the model returns with `output_attentions=True`.
""")

code(r"""
out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=target,
            output_attentions=True, output_hidden_states=True)
layer = model.model.decoder.layers[0]
H = cfg.decoder_attention_heads
hd = cfg.d_model // H


def heads(x):                       # [b, t, d] -> [b, heads, t, head_dim]
    b, t, _ = x.shape
    return x.reshape(b, t, H, hd).transpose(0, 2, 1, 3)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


y = out.decoder_hidden_states[0]                                      # layer 0's input, [1, tgt, d]
t = y.shape[1]
# 1. causal self-attention over the target
q, k, v = heads(layer.self_attn.q_proj(y)), heads(layer.self_attn.k_proj(y)), heads(layer.self_attn.v_proj(y))
scores = q @ k.swapaxes(-1, -2) / np.sqrt(hd)                         # [1, H, tgt, tgt]
scores = np.where(np.tril(np.ones((t, t), bool)), scores, -np.inf)    # no peeking at later tokens
a = softmax(scores) @ v                                               # [1, H, tgt, hd]
a = layer.self_attn.out_proj(a.transpose(0, 2, 1, 3).reshape(1, t, -1))
y = layer.self_attn_layer_norm(y + a)
# 2. cross-attention: queries from the target, keys and values from the encoder states
q = heads(layer.encoder_attn.q_proj(y))                               # [1, H, tgt, hd]
k = heads(layer.encoder_attn.k_proj(out.encoder_last_hidden_state))   # [1, H, src, hd]
cross = softmax(q @ k.swapaxes(-1, -2) / np.sqrt(hd))                 # [1, H, tgt, src]

print("cross_attentions:", len(out.cross_attentions), "layers of", out.cross_attentions[0].shape,
      "# [batch, heads, tgt, src]")
print("decoder_attentions:", out.decoder_attentions[0].shape, " encoder_attentions:", out.encoder_attentions[0].shape)
print("max |by hand - model|:", np.abs(cross - out.cross_attentions[0]).max())
assert np.allclose(cross, out.cross_attentions[0], atol=1e-5)
""")

md(r"""
**The source's padding.** In a batch, shorter sources are padded, and the source's
`attention_mask` is passed to the decoder too: cross-attention gives padded source positions
exactly zero weight, so a padded source gives the same logits as the same source alone.
""")

code(r"""
batch = tok([article, "A much longer second source, so that the first one gets padded."],
            padding=True, return_tensors="np")
pad_out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                decoder_input_ids=np.repeat(target, 2, axis=0), output_attentions=True)
n_real = int(batch["attention_mask"][0].sum())
print("first source: ", n_real, "tokens +", batch["input_ids"].shape[1] - n_real, "pads")
print("cross-attention weight on the pads (all layers, heads, positions):",
      max(float(w[0, :, :, n_real:].max()) for w in pad_out.cross_attentions))
print("max |logits padded - alone|:", np.abs(pad_out.logits[0] - out.logits[0]).max())
assert np.allclose(pad_out.logits[0], out.logits[0], atol=1e-4)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 5. Plotting cross-attention between a source and its generated target

We generate a target for the source, feed it back with teacher forcing and
`output_attentions=True`, and plot, for each decoder layer, the weights averaged over the
heads. Row j is the query at target position j, the one that *predicts* target token j + 1,
so the rows are labelled with the token being written. In a trained translation model this
map is close to an alignment (each target word looks at the source words it translates); with
random weights, expect no pattern.
""")

code(r"""
generated = model.generate(ids, attention_mask=mask, num_beams=4, max_new_tokens=10)[0]   # [tgt]
out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=generated[None, :-1], output_attentions=True)
src_labels = tok.convert_ids_to_tokens(ids[0])
tgt_labels = [f"-> {tok.convert_ids_to_tokens([int(i)])[0]}" for i in generated[1:]]

fig, axes = plt.subplots(1, cfg.decoder_layers, figsize=(5.5 * cfg.decoder_layers, 4.6), layout="constrained")
for i, ax in enumerate(np.atleast_1d(axes)):
    w = out.cross_attentions[i][0].mean(0)                           # [tgt, src], mean over heads
    assert np.allclose(w.sum(-1), 1, atol=1e-5)                      # each row: a distribution over the source
    im = ax.imshow(w, cmap="viridis", vmin=0)
    ax.set_xticks(range(len(src_labels)), src_labels, rotation=60, fontsize=8)
    ax.set_yticks(range(len(tgt_labels)), tgt_labels, fontsize=8)
    ax.set(xlabel="source token (key)", ylabel="target token being written (query)",
           title=f"decoder layer {i}: cross-attention, mean of {H} heads")
    fig.colorbar(im, ax=ax, shrink=0.8)
fig.suptitle(f"{MODEL_NAME}: {article!r} -> {tok.decode(generated, skip_special_tokens=True)!r}", fontsize=9);
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 6. The cache: cross-attention keys and values are computed once

Without a cache, section 3 recomputed every target position at every step. `generate` keeps an
`EncoderDecoderCache` (`model.new_cache()`) with two parts per decoder layer:

- `self_attention_cache`: the decoder's own keys and values, **one row more per step**;
- `cross_attention[i]`: the `(k, v)` of the encoder states, **computed at the first step and
  then only read**: the source does not change while the target grows.

We decode by hand with a cache (feeding only the new token), watch the shapes and the `id` of
the cached arrays, and count the calls of the cross-attention's `k_proj` with a forward hook.
""")

code(r"""
calls = {"cross k_proj": 0, "self k_proj": 0}
hooks = [model.model.decoder.layers[0].encoder_attn.k_proj.register_forward_hook(
             lambda module, args, output: calls.__setitem__("cross k_proj", calls["cross k_proj"] + 1)),
         model.model.decoder.layers[0].self_attn.k_proj.register_forward_hook(
             lambda module, args, output: calls.__setitem__("self k_proj", calls["self k_proj"] + 1))]

cache = model.new_cache()
print(cache)
tokens, ids_seen = [DEC_START], []
for step in range(1, 7):
    out = model(encoder_outputs=(encoder_states,), attention_mask=mask,
                decoder_input_ids=np.array([[tokens[-1]]]), past_key_values=cache, use_cache=True)
    tokens.append(int(out.logits[0, -1].argmax()))
    cross_k, cross_v = cache.cross_attention[0]
    self_k = cache.self_attention_cache.keys[0][:, :, :cache.get_seq_length()]
    ids_seen.append((id(cross_k), id(cross_v)))
    print(f"step {step}: input {(1, 1)}  self-attn keys {self_k.shape}  cross-attn keys {cross_k.shape}  "
          f"same cross (k, v) arrays as at step 1: {ids_seen[-1] == ids_seen[0]}  calls {calls}")
for h in hooks:
    h.remove()

assert tokens == target[0].tolist()[:len(tokens)]                      # same tokens as without the cache
assert len(set(ids_seen)) == 1                                        # the same arrays at every step
assert calls["cross k_proj"] == 1 and calls["self k_proj"] == 6      # computed once vs once per step
""")

md(r"""
The cross-attention keys stay `[1, heads, src, head_dim]` and are the *same array* from the first
step to the last; the projection `encoder_attn.k_proj` ran once, the self-attention's once per
step on one new token. In beam search, every beam of a source reads the same source, so the
cache keeps one copy per source and the beams share it (only the self-attention part is
reordered when beams swap parents). `model.generation_stats` reports the encoder pass inside
the time to the first token:
""")

code(r"""
model.generate(ids, attention_mask=mask, num_beams=4, max_new_tokens=10)
print(model.generation_stats)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 7. Beam search as a tree

Greedy decoding keeps one hypothesis. **Beam search** keeps the `k = num_beams` best partial
targets ("beams") by their **summed log-probability**. Each step, as `generate` does it
(transformers >= 4.50):

1. every beam is extended by every token: score = beam's sum + log p(token | beam, source);
2. the `2k` best continuations over all beams are looked at, best first;
3. a continuation that ends (`</s>`, or `max_new_tokens` reached) and ranks among the first `k`
   goes to the pool of **finished hypotheses**, scored `sum_logprob / length ** length_penalty`
   (length = generated tokens, `</s>` included); one that ends lower down is ignored;
4. the first `k` continuations that did not end are the next beams; the rest are pruned;
5. with `early_stopping=True` (BART-CNN's setting) the search stops when `k` hypotheses have
   finished; the winner is the best *score* in the pool.

**Making the tiny model stop.** A trained summariser puts real probability on `</s>` when its
summary is complete. Our random model gives it about 1/1000 at every step, so every hypothesis
would run to `max_new_tokens` and all would have the same length. As a stand-in for training,
we raise `</s>` in `final_logits_bias` (BART's learnt output bias, added to every logit): the
log-probabilities are still a proper softmax, for our code and for `generate` alike. (A real
checkpoint gets no such help.)
""")

code(r"""
SOURCE = "Machine translation turns French into English."
if TINY:
    EOS_BONUS = 4.5
    bias = model.final_logits_bias.copy()
    bias[0, EOS] += EOS_BONUS
    model.final_logits_bias = bias
beam_src = tok([SOURCE], return_tensors="np")
NUM_BEAMS, MAX_NEW = 2, 8


def beam_search(src_ids, src_mask, num_beams, length_penalty, max_new_tokens):
    # generate(num_beams=num_beams, early_stopping=True) for one source, keeping every hypothesis
    k = num_beams
    states = model.get_encoder()(input_ids=src_ids, attention_mask=src_mask).last_hidden_state   # once
    nodes = [dict(parent=None, token=DEC_START, tokens=[DEC_START], total=np.float32(0), step=0, kind="start")]
    running, pool = [0], []                    # node numbers: the live beams, the finished hypotheses
    for step in range(1, max_new_tokens + 1):
        beams = [nodes[i] for i in running]
        n = len(beams)
        logits = model(encoder_outputs=(np.repeat(states, n, 0),), attention_mask=np.repeat(src_mask, n, 0),
                       decoder_input_ids=np.array([b["tokens"] for b in beams])).logits[:, -1]   # [beams, vocab]
        total = ops.log_softmax(logits) + np.array([b["total"] for b in beams], np.float32)[:, None]
        best = np.argsort(-total, axis=None, kind="stable")[:2 * k]       # 1.-2. the 2k best continuations
        next_running = []
        for rank, flat in enumerate(best):
            b, token = divmod(int(flat), total.shape[1])
            node = dict(parent=running[b], token=token, tokens=beams[b]["tokens"] + [token],
                        total=total[b, token], step=step)
            if token == EOS or step == max_new_tokens:                  # 3. it ends here
                node["kind"] = "finished" if rank < k else "ignored"
                node["score"] = node["total"] / np.float32(step ** length_penalty)
            elif len(next_running) < k:                                 # 4. a beam of the next step
                node["kind"] = "running"
                next_running.append(len(nodes))
            else:
                node["kind"] = "pruned"
            nodes.append(node)
            if node["kind"] == "finished":
                pool.append(len(nodes) - 1)
        pool.sort(key=lambda i: -nodes[i]["score"])                     # the pool keeps its k best
        for i in pool[k:]:
            nodes[i]["kind"] = "pushed out"
        pool, running = pool[:k], next_running
        if len(pool) == k:                                              # 5. early_stopping=True
            break
    return nodes, pool


nodes, pool = beam_search(beam_src["input_ids"], beam_src["attention_mask"], NUM_BEAMS, 2.0, MAX_NEW)
print(f"{len(nodes)} hypotheses looked at; finished (best first):")
for i in pool:
    print(f"  {nodes[i]['tokens']}  sum log p = {nodes[i]['total']:.3f}, {nodes[i]['step']} tokens, "
          f"score = {nodes[i]['score']:.4f}")

ours = nodes[pool[0]]["tokens"]
theirs = model.generate(beam_src["input_ids"], attention_mask=beam_src["attention_mask"], num_beams=NUM_BEAMS,
                        length_penalty=2.0, early_stopping=True, max_new_tokens=MAX_NEW)
print("our best:", ours, "\ngenerate:", theirs[0].tolist())
assert theirs[0].tolist() == ours
""")

md(r"""
Every node below is one hypothesis: the token it adds and its summed log-probability. Blue ones
were kept as beams, grey ones were among the `2k` best but pruned, green ones ended and entered
the pool (with their score), orange ones ended but ranked too low to count. The thick path is
the winner.
""")

code(r"""
KIND_COLOR = {"start": "black", "running": "tab:blue", "pruned": "lightgray", "finished": "tab:green",
              "ignored": "tab:orange", "pushed out": "tab:orange"}


def draw_tree(ax, nodes, winner, title):
    children = {i: [] for i in range(len(nodes))}
    for i, node in enumerate(nodes[1:], 1):
        children[node["parent"]].append(i)
    y, leaves = {}, [0]

    def place(i):                                  # leaves one below the other, parents centred
        if not children[i]:
            y[i] = leaves[0]
            leaves[0] -= 1
        else:
            for c in children[i]:
                place(c)
            y[i] = np.mean([y[c] for c in children[i]])

    place(0)
    on_path, i = set(), winner
    while i is not None:
        on_path.add(i)
        i = nodes[i]["parent"]
    for i, node in enumerate(nodes):
        if node["parent"] is not None:
            p = node["parent"]
            ax.plot([nodes[p]["step"], node["step"]], [y[p], y[i]], color="tab:red" if i in on_path else "gray",
                    lw=3 if i in on_path else 0.8, zorder=1)
        ax.scatter(node["step"], y[i], s=60, color=KIND_COLOR[node["kind"]], zorder=2, edgecolor="k", lw=0.5)
        label = f"{tok.decode([node['token']])!r}  {float(node['total']):.2f}"
        if node["kind"] in ("finished", "ignored", "pushed out"):
            label += f"\n score {float(node['score']):.3f} ({node['kind']})"
        ax.annotate(label, (node["step"], y[i]), xytext=(6, 3), textcoords="offset points", fontsize=7,
                    color="dimgray" if node["kind"] == "pruned" else "black")
    for kind in ["running", "pruned", "finished", "ignored"]:
        ax.scatter([], [], color=KIND_COLOR[kind], edgecolor="k", lw=0.5, label=kind)
    ax.legend(loc="lower left", fontsize=8)
    ax.set(xlabel="generation step (tokens after decoder_start_token_id)", title=title,
           xlim=(-0.3, max(n["step"] for n in nodes) + 1.2), yticks=[])
    ax.set_xticks(range(max(n["step"] for n in nodes) + 1))


fig, ax = plt.subplots(figsize=(13, 8), layout="constrained")
draw_tree(ax, nodes, pool[0], f"beam search, num_beams={NUM_BEAMS}, length_penalty=2.0: {SOURCE!r}\n"
          "each node: token added, sum of log-probabilities so far")
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 8. Why `length_penalty` changes the winner

Each token adds a log-probability, which is negative, so **the sum only goes down as a
hypothesis grows**: compared on the raw sum, the shortest finished hypothesis tends to win.
`length_penalty` (`lp`) divides the sum by `length ** lp` before comparing:

- `lp = 0`: the raw sum, favours short outputs;
- `lp = 1`: the mean log-probability per token, neutral about length;
- `lp > 1`: a long hypothesis's sum is divided by more, so long outputs are favoured (BART-CNN
  uses `2.0`, with `min_length`, to get full-length summaries); `lp < 0` favours short ones.

With `early_stopping=True` the tree does not depend on `lp` (the search stops as soon as `k`
hypotheses have finished, whatever their scores); only the ranking of the pool changes. Here
are the finished hypotheses under the three values, and what `generate` returns for each:
""")

code(r"""
trees = {lp: beam_search(beam_src["input_ids"], beam_src["attention_mask"], NUM_BEAMS, lp, MAX_NEW)
         for lp in (0.0, 1.0, 2.0)}
assert all([n["tokens"] for n in trees[lp][0]] == [n["tokens"] for n in nodes] for lp in trees)  # one tree

finished = sorted({i for _, p in trees.values() for i in p})
print(f"{'finished hypothesis':44s} {'length':>6s} {'sum logp':>9s}" + "".join(f"   lp={lp:<4}" for lp in trees))
for i in finished:
    n = nodes[i]
    print(f"{str(n['tokens']):44s} {n['step']:6d} {float(n['total']):9.3f}" +
          "".join(f"  {float(n['total']) / n['step'] ** lp:8.4f}" for lp in trees))
winners = {}
for lp, (lp_nodes, lp_pool) in trees.items():
    winners[lp] = lp_nodes[lp_pool[0]]["tokens"]
    out = model.generate(beam_src["input_ids"], attention_mask=beam_src["attention_mask"], num_beams=NUM_BEAMS,
                         length_penalty=lp, early_stopping=True, max_new_tokens=MAX_NEW)
    print(f"lp={lp}: winner has {len(winners[lp]) - 1} tokens; generate returns {out[0].tolist()}")
    assert out[0].tolist() == winners[lp]
if TINY:
    assert len(winners[0.0]) < len(winners[2.0])         # lp = 0 picks the shorter one, lp = 2 the longer
""")

md(r"""
Where exactly does the winner change? Two hypotheses with sums `s1` (length `n1`) and `s2`
(length `n2 > n1`) tie when `s1 / n1**lp = s2 / n2**lp`, i.e. at
`lp* = log(s2 / s1) / log(n2 / n1)`. Plotting each hypothesis's score against `lp`:
""")

code(r"""
lps = np.linspace(-0.5, 3, 200)
by_length = sorted(finished, key=lambda i: nodes[i]["step"])
(s1, n1), (s2, n2) = [(float(nodes[i]["total"]), nodes[i]["step"]) for i in (by_length[0], by_length[-1])]
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.3), layout="constrained")
for i in finished:
    n = nodes[i]
    left.plot(lps, float(n["total"]) / n["step"] ** lps, label=f"{n['step']} tokens, sum log p {float(n['total']):.2f}")
gap = s2 / n2 ** lps - s1 / n1 ** lps                                 # > 0: the longer one wins
right.plot(lps, gap, color="k")
right.fill_between(lps, gap, 0, where=gap > 0, color="tab:green", alpha=0.3, label=f"the {n2}-token one wins")
right.fill_between(lps, gap, 0, where=gap < 0, color="tab:red", alpha=0.3, label=f"the {n1}-token one wins")
right.axhline(0, color="gray", lw=0.8)
if n1 != n2:
    crossing = np.log(s2 / s1) / np.log(n2 / n1)
    for ax in (left, right):
        ax.axvline(crossing, color="gray", ls="--", label=f"tie at lp = {crossing:.2f}")
    print(f"{n1} tokens vs {n2} tokens: the winner changes at length_penalty = {crossing:.3f}")
left.set(xlabel="length_penalty", ylabel="score = sum log p / length ** length_penalty",
         title="finished hypotheses: the higher score wins")
right.set(xlabel="length_penalty", ylabel=f"score({n2} tokens) - score({n1} tokens)",
          title="the difference of the two scores (symmetric log scale)", xlim=(0, 3))
right.set_yscale("symlog", linthresh=0.01)
left.legend(fontsize=8)
right.legend(fontsize=8);
""")

md(r"""
`num_return_sequences` returns the pool itself, best first, so you can see the runner-up:
""")

code(r"""
both = model.generate(beam_src["input_ids"], attention_mask=beam_src["attention_mask"], num_beams=NUM_BEAMS,
                      length_penalty=2.0, early_stopping=True, max_new_tokens=MAX_NEW,
                      num_return_sequences=NUM_BEAMS)
for row, i in zip(both, pool):
    print(row.tolist(), "<- pool:", nodes[i]["tokens"])
    assert row.tolist()[:len(nodes[i]["tokens"])] == nodes[i]["tokens"]
    assert all(t == PAD for t in row.tolist()[len(nodes[i]["tokens"]):])   # shorter rows are padded
""")

md(r"""
**The other knobs, put back.** Real BART-CNN summaries come from all the defaults together:
`min_length` forbids `</s>` until the summary is long enough (so lp never gets to prefer an
almost empty one), `no_repeat_ngram_size=3` stops beams from looping, `forced_bos_token_id`
writes `<s>` first. Each of them only edits the log-probabilities before step 2 above (a
logits processor), so the tree machinery is unchanged.
""")

code(r"""
for name, config in [("bare (sections 3-8)", model.generation_config), ("bart-large-cnn defaults", bart_cnn_defaults)]:
    out = model.generate(beam_src["input_ids"], attention_mask=beam_src["attention_mask"],
                         generation_config=config, max_new_tokens=MAX_NEW)
    print(f"{name:24s} {out[0].tolist()}")
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## Marian: the same network

`MarianMTModel` (translation, `Helsinki-NLP/opus-mt-*`) reuses every class above; it differs in
its embeddings (static **sinusoidal** positions, no `layernorm_embedding`), its special tokens
(`<pad>` is the decoder start, `</s>` is id 0) and its defaults (`<pad>` is banned with
`bad_words_ids`). `weights/tiny-marian` also has random weights; we feed it ids directly.
""")

code(r"""
REAL_MT = "Helsinki-NLP/opus-mt-fr-en"
marian = minitf.AutoModelForSeq2SeqLM.from_pretrained(
    REAL_MT if cached_snapshot(REAL_MT) is not None else WEIGHTS / "tiny-marian")
mcfg = marian.config
print(type(marian).__name__, "| positions:", type(marian.model.encoder.embed_positions).__name__,
      "| layernorm_embedding:", marian.model.encoder.layernorm_embedding)
print("decoder_start_token_id =", mcfg.decoder_start_token_id, " eos =", mcfg.eos_token_id,
      " bad_words_ids =", marian.generation_config.bad_words_ids)
fr_ids = np.array([[5, 17, 99, 42, mcfg.eos_token_id]])
m_out = marian(input_ids=fr_ids, decoder_input_ids=np.array([[mcfg.decoder_start_token_id]]), output_attentions=True)
print("cross_attentions[0]:", m_out.cross_attentions[0].shape)
print("generate:", marian.generate(fr_ids, max_new_tokens=6)[0].tolist())
print(f"notebook ran in {time.perf_counter() - START:.1f} s")
""")

md(r"""
**Where next?** Read `minitf/models/bart.py` top to bottom (the attention with its cached
cross-attention keys, the layers, the stacks), `minitf/generation/encoder_decoder.py` (how
`generate` runs the encoder once) and the beam search in `minitf/generation/utils.py`, which
is section 7 vectorised over a batch. `tests/test_seq2seq.py` checks every output against
transformers.
""")


if __name__ == "__main__":
    NB.write()
