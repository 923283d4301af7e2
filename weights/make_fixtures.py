"""Make the committed golden fixtures with transformers (run by hand; needs the 'reference' extra).

    python weights/make_fixtures.py

Writes
- `weights/tiny-gpt2/`: a tiny random GPT-2 (2 layers, 32 wide) in the Hugging Face layout with
  a small byte-level BPE (about 560 tokens) trained on a small English corpus (tokenizer.json, vocab.json,
  merges.txt);
- `weights/tiny-gpt2-variant/`: another config (untied head, scaled-by-layer attention, erf GELU,
  n_inner, 3 layers) sharing the tokenizer;
- `tests/fixtures/gpt2_expected.npz`: what transformers computes on them: logits, hidden
  states and attentions for a left-padded batch, and greedy / beam generations with many
  argument combinations (listed in `GEN_CASES`).

The tests compare minitf against these without torch. Weights are drawn with a larger std
than transformers' 0.02 so the logits are peaked: greedy ids then do not hinge on 1e-7
rounding differences between two correct implementations.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "weights" / "tiny-gpt2"
VARIANT = ROOT / "weights" / "tiny-gpt2-variant"
EXPECTED = ROOT / "tests" / "fixtures" / "gpt2_expected.npz"

CORPUS = """\
In this course, we will teach you how to use transformers to understand and generate text.
Transformers are everywhere: they read, they write, they translate, and they answer questions.
A tokenizer turns text into numbers, the model turns numbers into scores, and the pipeline turns
scores back into answers. Hello world! The quick brown fox jumps over the lazy dog.
Attention lets every word look at every other word; the decoder only looks at the past.
Numbers such as 3.14159, 2026 and 42 are split into pieces, and so are rare words like
antidisestablishmentarianism. Don't worry: we'll go step by step, and you'll see it's simple.
def greet(name):
    return f"Hello, {name}!"
The cat sat on the mat. The dog sat on the log. My name is Sylvain and I work at Hugging Face in Brooklyn.
"""

PROMPTS = ["Hello world, this is", "The cat sat", "In this course, we will teach you how to"]

# name -> generate() keyword arguments; every case runs on the left-padded batch of PROMPTS
GEN_CASES = {
    "greedy": dict(max_new_tokens=12),
    "greedy_nocache": dict(max_new_tokens=12, use_cache=False),
    "greedy_eos": dict(max_new_tokens=12, eos_token_id="PICK"),
    "greedy_min_new": dict(max_new_tokens=12, min_new_tokens=8, eos_token_id="PICK"),
    "greedy_rep": dict(max_new_tokens=12, repetition_penalty=1.5),
    "greedy_ngram": dict(max_new_tokens=16, no_repeat_ngram_size=2),
    "beam3": dict(max_new_tokens=10, num_beams=3),
    "beam4_ret2": dict(max_new_tokens=10, num_beams=4, num_return_sequences=2),
    "beam3_eos": dict(max_new_tokens=10, num_beams=3, eos_token_id="PICK"),
    "beam3_eos_early": dict(max_new_tokens=10, num_beams=3, eos_token_id="PICK", early_stopping=True),
    "beam3_eos_never_lp2": dict(max_new_tokens=10, num_beams=3, eos_token_id="PICK",
                                early_stopping="never", length_penalty=2.0),
    "beam3_lp_neg": dict(max_new_tokens=10, num_beams=3, eos_token_id="PICK", length_penalty=-1.0),
    "beam2_ngram_rep": dict(max_new_tokens=10, num_beams=2, no_repeat_ngram_size=3,
                            repetition_penalty=1.3),
}


def train_tokenizer(folder: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GPT2TokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=1000, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([CORPUS] * 4, trainer)
    fast = GPT2TokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                             eos_token="<|endoftext|>", unk_token="<|endoftext|>",
                             model_max_length=128)
    fast.save_pretrained(folder)
    return fast


def make_model(folder: Path, seed: int, tok, **config):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=128, bos_token_id=tok.eos_token_id,
                     eos_token_id=tok.eos_token_id, **config)
    cfg._attn_implementation = "eager"  # explicit softmax weights, so attentions are returned
    model = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2:
                p.normal_(0.0, 0.3)
            elif "ln" in name and name.endswith("weight"):
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.05)
    model.save_pretrained(folder, safe_serialization=True)
    return model


def expected_outputs(model, tok, tag: str) -> dict:
    import torch

    tok.padding_side = "left"
    tok.pad_token = tok.eos_token
    enc = tok(PROMPTS, padding=True, return_tensors="pt")
    out = {f"{tag}/input_ids": enc["input_ids"].numpy(), f"{tag}/attention_mask": enc["attention_mask"].numpy()}
    with torch.no_grad():
        # unpadded single prompt: every output
        single = tok(PROMPTS[2], return_tensors="pt")["input_ids"]
        r = model(single, output_hidden_states=True, output_attentions=True)
        out[f"{tag}/single_ids"] = single.numpy()
        out[f"{tag}/single_logits"] = r.logits.numpy()
        for i, h in enumerate(r.hidden_states):
            out[f"{tag}/single_hidden_{i}"] = h.numpy()
        for i, a in enumerate(r.attentions):
            out[f"{tag}/single_attn_{i}"] = a.numpy()
        # padded batch with position ids as generate() makes them
        pos = enc["attention_mask"].cumsum(-1) - 1
        pos.masked_fill_(enc["attention_mask"] == 0, 1)
        r = model(**enc, position_ids=pos)
        out[f"{tag}/batch_logits"] = r.logits.numpy()
        greedy = model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.eos_token_id)
        pick = int(greedy[0, enc["input_ids"].shape[1] + 3])  # an EOS that row 0 meets early
        out[f"{tag}/pick_eos"] = np.array(pick)
        for name, kw in GEN_CASES.items():
            kw = dict(kw)
            if kw.get("eos_token_id") == "PICK":
                kw["eos_token_id"] = pick
            g = model.generate(**enc, do_sample=False, pad_token_id=tok.eos_token_id, **kw)
            out[f"{tag}/gen_{name}"] = g.numpy()
    return out


def main():
    import transformers

    for folder in (TINY, VARIANT):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    tok = train_tokenizer(TINY)
    for f in TINY.iterdir():
        shutil.copy(f, VARIANT / f.name)
    m1 = make_model(TINY, seed=0, tok=tok, n_embd=32, n_layer=2, n_head=4)
    m2 = make_model(VARIANT, seed=1, tok=tok, n_embd=48, n_layer=3, n_head=6, n_inner=80,
                    activation_function="gelu", scale_attn_by_inverse_layer_idx=True,
                    tie_word_embeddings=False, layer_norm_epsilon=1e-6)
    out = {}
    out.update(expected_outputs(m1, tok, "tiny"))
    out.update(expected_outputs(m2, tok, "variant"))
    out["meta/transformers_version"] = np.array(transformers.__version__)
    out["meta/gen_cases"] = np.array(json.dumps(GEN_CASES))
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(EXPECTED, **out)
    print(f"wrote {TINY}, {VARIANT} and {EXPECTED} ({len(out)} arrays, transformers "
          f"{transformers.__version__})")


if __name__ == "__main__":
    main()
