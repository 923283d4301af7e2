"""Make the committed golden fixtures for the encoder-decoders with transformers (run by hand or
by `make fixtures`; needs the 'reference' extra).

    python weights/make_fixtures_seq2seq.py [--pipelines-only]

Writes
- tiny random checkpoints (d_model 32, 4 heads, ffn 64, 64 positions; weights drawn with std
  0.3 so the outputs are peaked) with the byte-level BPE of weights/tiny-roberta-mlm (BART's
  specials <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=4):
  weights/tiny-bart (BartForConditionalGeneration, scale_embedding, a non-zero
  final_logits_bias, forced BOS/EOS and the generation defaults of bart-large-cnn: 4 beams,
  length_penalty 2.0, no_repeat_ngram_size 3, min_length, early stopping),
  weights/tiny-distilbart (the same with one decoder layer: DistilBART's shape),
  weights/tiny-bart-mnli (BartForSequenceClassification with contradiction / neutral /
  entailment, as facebook/bart-large-mnli);
  weights/tiny-marian (MarianMTModel, scale_embedding, with the SentencePiece tokenizer of
  weights/tiny-marian-tokenizer when it is there);
- tests/fixtures/seq2seq_expected.npz: for each model, what transformers computes on a
  right-padded batch of sources: logits, the encoder's last hidden state, decoder hidden
  states, self and cross attentions, the classifier's logits; and the ids of generate() for
  greedy, beam and sampling-free variants (with and without the cache), with their arguments
  in seq2seq_cases.json. Inputs are stored, so the tests need neither torch nor a tokenizer;
- tests/fixtures/seq2seq_pipelines_expected.json: what transformers' summarization,
  text2text-generation, translation and zero-shot-classification pipelines return on these
  checkpoints for the calls in `PIPELINE_CALLS` (--pipelines-only redoes just this file).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights"
EXPECTED = ROOT / "tests" / "fixtures" / "seq2seq_expected.npz"
CASES = ROOT / "tests" / "fixtures" / "seq2seq_cases.json"
PIPELINES = ROOT / "tests" / "fixtures" / "seq2seq_pipelines_expected.json"

# (task, folder, inputs, call kwargs): the pipeline calls compared with transformers'
PIPELINE_CALLS = [
    ("summarization", "tiny-bart", "America has changed dramatically during recent years. The "
     "number of engineering graduates in the U.S. has declined.", dict(max_length=16)),
    ("summarization", "tiny-distilbart", ["The cat sat on the mat.", "Paris is the capital of France."],
     dict(min_length=3, max_length=12, num_beams=2)),
    ("text2text-generation", "tiny-bart", "The tower is <mask> metres tall.",
     dict(max_new_tokens=8, num_beams=3, num_return_sequences=2)),
    ("translation", "tiny-marian", "Ce cours est produit par Hugging Face.", dict(max_new_tokens=10)),
    ("translation", "tiny-marian", ["Bonjour le monde !", "Il fait beau aujourd'hui, n'est-ce pas ?"],
     dict(max_new_tokens=10, num_beams=2)),
    ("zero-shot-classification", "tiny-bart-mnli", "This is a course about the Transformers library",
     dict(candidate_labels=["education", "politics", "business"])),
    ("zero-shot-classification", "tiny-bart-mnli", ["I love this course", "The weather is bad"],
     dict(candidate_labels=["positive", "negative", "neutral"], multi_label=True)),
]

SMALL = dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
             decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
             max_position_embeddings=64, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)
CNN_DEFAULTS = dict(num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3, min_length=6,
                    max_length=24, early_stopping=True, forced_bos_token_id=0)

SOURCES = ["Hugging Face is a company based in New York City. Its headquarters are in DUMBO.",
           "The cat sat on the mat.",
           "Paris is the capital of France, and Berlin is the capital of Germany."]
PAIRS = [("A man is playing a guitar on stage.", "Someone is performing for an audience."),
         ("The weather in London is rainy today.", "Nobody is playing music.")]

# generate() cases: (name, model folder, kwargs); each runs with use_cache True and False
GENERATE = [
    ("greedy", "tiny-bart", dict(num_beams=1, max_new_tokens=12, min_length=0, no_repeat_ngram_size=0)),
    ("greedy_defaults_off", "tiny-bart", dict(num_beams=1, do_sample=False, max_length=16)),
    ("beam4_cnn_defaults", "tiny-bart", dict()),
    ("beam3_lp0_ret2", "tiny-bart", dict(num_beams=3, length_penalty=0.0, num_return_sequences=2,
                                          max_new_tokens=10, no_repeat_ngram_size=2)),
    ("beam4_never", "tiny-bart", dict(num_beams=4, early_stopping="never", max_new_tokens=9)),
    ("distil_beam2", "tiny-distilbart", dict(num_beams=2, max_new_tokens=8, min_length=4)),
]
MARIAN_GENERATE = [
    ("marian_greedy", "tiny-marian", dict(num_beams=1, max_new_tokens=12)),
    ("marian_beam4", "tiny-marian", dict(num_beams=4, max_new_tokens=12)),
]


def bart_tokenizer():
    from tokenizers import Tokenizer
    from transformers import BartTokenizerFast

    bpe = Tokenizer.from_file(str(WEIGHTS / "tiny-roberta-mlm" / "tokenizer.json"))
    return BartTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>",
                             sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                             pad_token="<pad>", mask_token="<mask>", model_max_length=64)


def randomise(model, seed: int):
    import torch

    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embed_positions" in name and "marian" in type(model).__name__.lower():
                continue  # Marian's sinusoids are fixed
            if p.ndim >= 2:
                p.normal_(0.0, 0.3)
            elif name.endswith("weight") and "layer_norm" in name or "layernorm" in name:
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.05)
        if hasattr(model, "final_logits_bias"):
            model.final_logits_bias.normal_(0.0, 0.5)


def save(model, tok, folder: Path, generation: dict | None = None):
    from transformers import GenerationConfig

    shutil.rmtree(folder, ignore_errors=True)
    if generation is not None:
        model.generation_config = GenerationConfig.from_model_config(model.config)
        for k, v in generation.items():
            setattr(model.generation_config, k, v)
    model.save_pretrained(folder, safe_serialization=True)
    tok.backend_tokenizer.no_padding() if hasattr(tok, "backend_tokenizer") else None
    tok.save_pretrained(folder)


def make_bart(tok, name: str, cls_name: str, seed: int, **overrides):
    import transformers

    cfg = transformers.BartConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                                  bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                  decoder_start_token_id=tok.eos_token_id, forced_eos_token_id=tok.eos_token_id,
                                  scale_embedding=True, **{**SMALL, **overrides})
    cfg._attn_implementation = "eager"
    model = getattr(transformers, cls_name)(cfg).eval()
    randomise(model, seed)
    save(model, tok, WEIGHTS / name, CNN_DEFAULTS if cls_name == "BartForConditionalGeneration" else None)
    return model


def make_marian(seed: int):
    import transformers

    tok_dir = WEIGHTS / "tiny-marian-tokenizer"
    if not (tok_dir / "source.spm").is_file():
        print(f"skipping tiny-marian: {tok_dir} is missing (weights/make_fixtures_spm.py makes it)")
        return None, None
    tok = transformers.MarianTokenizer.from_pretrained(tok_dir)
    cfg = transformers.MarianConfig(vocab_size=len(tok), decoder_vocab_size=len(tok),
                                    pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                                    decoder_start_token_id=tok.pad_token_id,
                                    forced_eos_token_id=tok.eos_token_id, scale_embedding=True,
                                    activation_function="swish", **SMALL)
    cfg._attn_implementation = "eager"
    model = transformers.MarianMTModel(cfg).eval()
    randomise(model, seed)
    folder = WEIGHTS / "tiny-marian"
    shutil.rmtree(folder, ignore_errors=True)
    model.generation_config.bad_words_ids = [[tok.pad_token_id]]
    model.generation_config.num_beams = 4
    model.generation_config.max_length = 32
    model.save_pretrained(folder, safe_serialization=True)
    for f in tok_dir.iterdir():
        shutil.copy(f, folder / f.name)
    return model, tok


def forward_outputs(model, enc, prefix: str, out: dict):
    import torch

    ids, mask = enc["input_ids"], enc["attention_mask"]
    out[f"{prefix}/input_ids"] = ids
    out[f"{prefix}/attention_mask"] = mask
    dec = np.array([[model.config.decoder_start_token_id] + list(row[:5]) for row in ids])
    out[f"{prefix}/decoder_input_ids"] = dec
    with torch.no_grad():
        o = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                  decoder_input_ids=torch.from_numpy(dec), output_hidden_states=True,
                  output_attentions=True, use_cache=False)
    out[f"{prefix}/logits"] = o.logits.numpy()
    out[f"{prefix}/encoder_last_hidden_state"] = o.encoder_last_hidden_state.numpy()
    for i, h in enumerate(o.decoder_hidden_states):
        out[f"{prefix}/decoder_hidden_states/{i}"] = h.numpy()
    for i, a in enumerate(o.cross_attentions):
        out[f"{prefix}/cross_attentions/{i}"] = a.numpy()
    for i, a in enumerate(o.decoder_attentions):
        out[f"{prefix}/decoder_attentions/{i}"] = a.numpy()
    for i, a in enumerate(o.encoder_attentions):
        out[f"{prefix}/encoder_attentions/{i}"] = a.numpy()


def generate_outputs(model, enc, name: str, kwargs: dict, out: dict):
    import torch

    for use_cache in (True, False):
        with torch.no_grad():
            ids = model.generate(input_ids=torch.from_numpy(enc["input_ids"]),
                                 attention_mask=torch.from_numpy(enc["attention_mask"]),
                                 use_cache=use_cache, **kwargs)
        out[f"generate/{name}/{'cache' if use_cache else 'nocache'}"] = ids.numpy()


def round_floats(x):
    if isinstance(x, float):
        return round(x, 6)
    if isinstance(x, dict):
        return {k: round_floats(v) for k, v in x.items()}
    if isinstance(x, list):
        return [round_floats(v) for v in x]
    return x


def pipeline_outputs():
    import transformers

    results = []
    for task, folder, inputs, kwargs in PIPELINE_CALLS:
        if not (WEIGHTS / folder).is_dir():
            print(f"skipping {task} on {folder}: missing")
            continue
        pipe = transformers.pipeline(task, model=str(WEIGHTS / folder))
        results.append({"task": task, "folder": folder, "inputs": inputs, "kwargs": kwargs,
                        "expected": round_floats(pipe(inputs, **kwargs))})
    PIPELINES.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {PIPELINES} ({len(results)} calls)")


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipelines-only", action="store_true")
    if ap.parse_args(argv).pipelines_only:
        return pipeline_outputs()
    tok = bart_tokenizer()
    models = {
        "tiny-bart": make_bart(tok, "tiny-bart", "BartForConditionalGeneration", 11),
        "tiny-distilbart": make_bart(tok, "tiny-distilbart", "BartForConditionalGeneration", 12,
                                     decoder_layers=1),
    }
    nli = make_bart(tok, "tiny-bart-mnli", "BartForSequenceClassification", 13,
                    id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
                    label2id={"contradiction": 0, "neutral": 1, "entailment": 2})
    out: dict = {}
    enc = {k: v.numpy() for k, v in tok(SOURCES, padding=True, return_tensors="pt").items()}
    out["sources/input_ids"], out["sources/attention_mask"] = enc["input_ids"], enc["attention_mask"]
    for name, model in models.items():
        forward_outputs(model, enc, name, out)
    cases = {}
    for name, folder, kwargs in GENERATE:
        generate_outputs(models[folder], enc, name, kwargs, out)
        cases[name] = {"folder": folder, "kwargs": kwargs, "inputs": "sources"}

    import torch

    pair = tok([p for p, _ in PAIRS], [h for _, h in PAIRS], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = nli(**pair).logits.numpy()
    out["tiny-bart-mnli/input_ids"] = pair["input_ids"].numpy()
    out["tiny-bart-mnli/attention_mask"] = pair["attention_mask"].numpy()
    out["tiny-bart-mnli/logits"] = logits

    marian, mtok = make_marian(14)
    if marian is not None:
        menc = {k: v.numpy() for k, v in mtok(SOURCES, padding=True, return_tensors="pt").items()}
        out["marian_sources/input_ids"] = menc["input_ids"]
        out["marian_sources/attention_mask"] = menc["attention_mask"]
        forward_outputs(marian, menc, "tiny-marian", out)
        for name, folder, kwargs in MARIAN_GENERATE:
            generate_outputs(marian, menc, name, kwargs, out)
            cases[name] = {"folder": folder, "kwargs": kwargs, "inputs": "marian_sources"}

    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(EXPECTED, **out)
    CASES.write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {EXPECTED} ({len(out)} arrays) and {CASES} ({len(cases)} generate cases)")
    pipeline_outputs()


if __name__ == "__main__":
    main()
