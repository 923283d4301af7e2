"""Make the committed golden fixtures for Longformer with transformers (run by hand; needs the
'reference' extra, and weights/tiny-roberta-mlm from make_fixtures_encoders.py for the tokenizer).

    python weights/make_fixtures_longformer.py

Writes
- tiny random Longformer checkpoints (32 wide, 4 heads; weights drawn with std 0.3 so the
  outputs are peaked) in the Hugging Face layout, with the tiny byte-level BPE of
  weights/tiny-roberta-mlm copied in so each folder is complete (see `MODELS`):
  weights/tiny-longformer (masked LM, 2 layers, windows [4, 8]),
  weights/tiny-longformer-seqcls (sequence classifier, 3 layers, one int window 6 in
  config.json), weights/tiny-longformer-base (LongformerModel with its pooler, 3 layers,
  windows [8, 4, 4]);
- tests/fixtures/longformer_expected.npz: for every folder and every case of `CASES` (no
  global tokens; global tokens at different positions and in different numbers per row, one
  of them on padding; lengths that are and are not multiples of the window; padding in
  attention_mask; token_type_ids; a sequence shorter than the window; a tokenized batch) the
  inputs and what transformers computes: logits or last_hidden_state + pooler_output, every
  hidden state, every local attention map and, when the batch has global tokens, every global
  attention map (transformers' own layout: `global_attn_*` keep its padded length).

The sequence classifier is also run without a global_attention_mask (transformers then puts
global attention on the first token).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights"
TOKENIZER = WEIGHTS / "tiny-roberta-mlm"
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                   "special_tokens_map.json")
EXPECTED = ROOT / "tests" / "fixtures" / "longformer_expected.npz"
VOCAB, PAD = 1000, 1  # the tiny RoBERTa BPE: <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=4

BASE = dict(vocab_size=VOCAB, hidden_size=32, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=130, type_vocab_size=2, pad_token_id=PAD, bos_token_id=0,
            eos_token_id=2, sep_token_id=2)
# folder -> (transformers class, config kwargs, seed, attention_window written to config.json)
MODELS = {
    "tiny-longformer": ("LongformerForMaskedLM",
                        {**BASE, "num_hidden_layers": 2, "attention_window": [4, 8]}, 20, None),
    "tiny-longformer-seqcls": ("LongformerForSequenceClassification",
                               {**BASE, "num_hidden_layers": 3, "attention_window": 6,
                                "id2label": {0: "NEGATIVE", 1: "POSITIVE"},
                                "label2id": {"NEGATIVE": 0, "POSITIVE": 1}}, 21, 6),
    "tiny-longformer-base": ("LongformerModel",
                             {**BASE, "num_hidden_layers": 3, "attention_window": [8, 4, 4]}, 22, None),
}
MLM_LOGITS = ("global",)  # the case whose MLM logits (1000 wide) are stored
TEXTS = ["The cat sat on the <mask>.", "Transformers are everywhere: they read, they write, "
         "they translate, and they answer questions."]


def random_batch(seed: int, lengths, width=None):
    """Right-padded random ids <s> ... </s> (ids 5..VOCAB-1 inside) and their attention_mask."""
    rng = np.random.default_rng(seed)
    t = width or max(lengths)
    ids = np.full((len(lengths), t), PAD, np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(5, VOCAB, n)
        ids[i, 0], ids[i, n - 1] = 0, 2
        mask[i, :n] = 1
    return ids, mask


def global_mask(shape, where):
    """[b, t] int mask with 1 at where[row] = list of positions."""
    g = np.zeros(shape, np.int64)
    for row, cols in enumerate(where):
        g[row, cols] = 1
    return g


def make_cases(tok) -> dict:
    """case -> inputs. Lengths 13, 19, 5 are not multiples of any window; 24 is of all of them."""
    cases = {}
    ids, mask = random_batch(1, (13, 9))
    cases["noglobal"] = dict(input_ids=ids, attention_mask=mask)
    ids, mask = random_batch(2, (19, 19, 15))
    # different counts per row; row 2's position 17 is padding, so it is not global
    g = global_mask(ids.shape, [[0], [0, 5, 18], [3, 10, 17]])
    cases["global"] = dict(input_ids=ids, attention_mask=mask, global_attention_mask=g)
    ids, mask = random_batch(3, (24, 20))
    types = np.zeros_like(ids)
    types[:, 12:] = 1
    cases["multiple_types"] = dict(input_ids=ids, attention_mask=mask, token_type_ids=types * mask,
                                   global_attention_mask=global_mask(ids.shape, [[1, 2, 23], []]))
    ids, _ = random_batch(4, (5,))
    cases["short_nomask"] = dict(input_ids=ids, global_attention_mask=global_mask(ids.shape, [[4]]))
    enc = tok(TEXTS, padding=True, return_tensors="np")
    ids, mask = enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)
    cases["text"] = dict(input_ids=ids, attention_mask=mask,
                         global_attention_mask=global_mask(ids.shape, [[0], [0, 1]]))
    return cases


def make_model(folder: Path, cls_name: str, config: dict, seed: int, int_window):
    import torch
    import transformers

    cfg = transformers.LongformerConfig(**config)
    torch.manual_seed(seed)
    model = getattr(transformers, cls_name)(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2:
                p.normal_(0.0, 0.3)
            elif name.endswith("weight") and ("LayerNorm" in name or "layer_norm" in name):
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.05)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    if int_window is not None:  # transformers saves its per-layer list; keep the user's int
        path = folder / "config.json"
        saved = json.loads(path.read_text())
        saved["attention_window"] = int_window
        path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    for name in TOKENIZER_FILES:
        if (TOKENIZER / name).is_file():
            shutil.copy(TOKENIZER / name, folder / name)
    return getattr(transformers, cls_name).from_pretrained(folder).eval()  # as a user loads it


def expected_outputs(model, tag: str, cases: dict) -> dict:
    import torch

    out = {}
    runs = dict(cases)
    if "SequenceClassification" in type(model).__name__:  # <s> global by default
        runs["default_global"] = {k: v for k, v in cases["global"].items()
                                  if k != "global_attention_mask"}
    for case, inputs in runs.items():
        for k, v in inputs.items():
            out[f"{tag}/{case}/{k}"] = v
        with torch.no_grad():
            r = model(**{k: torch.from_numpy(v) for k, v in inputs.items()},
                      output_hidden_states=True, output_attentions=True)
        for field in ("logits", "last_hidden_state", "pooler_output"):
            if field == "logits" and "MaskedLM" in type(model).__name__ and case not in MLM_LOGITS:
                continue  # MLM logits are big; the last hidden state (hidden_L) says the rest
            if getattr(r, field, None) is not None:
                out[f"{tag}/{case}/{field}"] = getattr(r, field).numpy()
        for i, h in enumerate(r.hidden_states):
            out[f"{tag}/{case}/hidden_{i}"] = h.numpy()
        for i, a in enumerate(r.attentions):
            out[f"{tag}/{case}/attn_{i}"] = a.numpy()
        for i, a in enumerate(r.global_attentions or ()):
            out[f"{tag}/{case}/global_attn_{i}"] = a.numpy()
    return out


def main():
    import transformers
    from transformers import RobertaTokenizerFast

    if not (TOKENIZER / "tokenizer.json").is_file():
        raise SystemExit(f"{TOKENIZER} has no tokenizer.json: "
                         f"run weights/make_fixtures_encoders.py first")
    tok = RobertaTokenizerFast.from_pretrained(TOKENIZER)
    cases = make_cases(tok)
    out = {}
    for name, (cls_name, config, seed, int_window) in MODELS.items():
        folder = WEIGHTS / name
        model = make_model(folder, cls_name, config, seed, int_window)
        out.update(expected_outputs(model, name, cases))
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"{folder.relative_to(ROOT)}: {cls_name}, {size / 1024:.0f} KB")
    out["meta/transformers_version"] = np.array(transformers.__version__)
    out["meta/models"] = np.array(json.dumps({k: v[0] for k, v in MODELS.items()}))
    out["meta/cases"] = np.array(json.dumps(sorted({k.split("/")[1] for k in out if "/" in k
                                                    and not k.startswith("meta/")})))
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(EXPECTED, **out)
    print(f"wrote {EXPECTED.relative_to(ROOT)} ({len(out)} arrays, "
          f"{EXPECTED.stat().st_size / 1024:.0f} KB, transformers {transformers.__version__})")


if __name__ == "__main__":
    main()
