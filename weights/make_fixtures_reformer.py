"""Make the committed golden fixtures for Reformer with transformers (run by hand; needs the
'reference' extra).

    python weights/make_fixtures_reformer.py

Writes
- tiny random Reformer checkpoints in the Hugging Face layout (config.json + model.safetensors,
  see `MODELS`; weights drawn with std 0.3 so the outputs are peaked):
  weights/tiny-reformer          causal LM (is_decoder=True), attn_layers local/lsh/local/lsh,
                                 axial positions, num_buckets=4, num_hashes=2;
  weights/tiny-reformer-mlm      masked LM (bidirectional), lsh/local/lsh, num_buckets=[2, 4]
                                 (a factor pair), num_hashes=3, chunks before *and* after, gelu;
  weights/tiny-reformer-base     bare ReformerModel, lsh/lsh, a plain position table
                                 (axial_pos_embds=False), num_buckets=8, two chunks before;
- tests/fixtures/reformer_expected.npz: for every folder and three inputs - "pad" (a length
  that is not a multiple of the chunk lengths, so the model pads, plus an attention_mask with
  padding in the second row), "full" (a multiple, no mask) and "short" (one chunk: no hashing)
  - the input ids and mask, the rotations transformers drew in each LSH layer (captured from
  `torch.randn` inside `LSHSelfAttention._hash_vectors`; zeros for a layer that did not hash),
  and what transformers computed: logits or last_hidden_state, every hidden state (padded
  length, as transformers returns them) and attention map.
"""
from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights"
EXPECTED = ROOT / "tests" / "fixtures" / "reformer_expected.npz"

COMMON = dict(vocab_size=64, hidden_size=32, num_attention_heads=2, attention_head_size=16,
              feed_forward_size=48, pad_token_id=0, eos_token_id=2)
# folder -> (transformers class, config kwargs, seed, {case: (batch, length, padded rows)})
MODELS = {
    "tiny-reformer": ("ReformerModelWithLMHead", dict(
        COMMON, attn_layers=["local", "lsh", "local", "lsh"], is_decoder=True, num_buckets=4,
        num_hashes=2, lsh_attn_chunk_length=8, local_attn_chunk_length=4, axial_pos_embds=True,
        axial_pos_shape=[8, 8], axial_pos_embds_dim=[12, 20], max_position_embeddings=64),
        0, {"pad": (2, 27, 5), "full": (2, 32, 0), "short": (1, 3, 0)}),
    "tiny-reformer-mlm": ("ReformerForMaskedLM", dict(
        COMMON, attn_layers=["lsh", "local", "lsh"], is_decoder=False, num_buckets=[2, 4],
        num_hashes=3, lsh_attn_chunk_length=4, local_attn_chunk_length=8, lsh_num_chunks_after=1,
        local_num_chunks_after=1, hidden_act="gelu", axial_pos_embds=True, axial_pos_shape=[4, 16],
        axial_pos_embds_dim=[8, 24], max_position_embeddings=64),
        1, {"pad": (2, 21, 6), "full": (2, 32, 0), "short": (1, 4, 0)}),
    "tiny-reformer-base": ("ReformerModel", dict(
        COMMON, attn_layers=["lsh", "lsh"], is_decoder=False, num_buckets=8, num_hashes=2,
        lsh_attn_chunk_length=4, lsh_num_chunks_before=2, axial_pos_embds=False,
        max_position_embeddings=48, hash_seed=5),
        2, {"pad": (2, 18, 3), "full": (2, 24, 0), "short": (1, 3, 0)}),
}


@contextlib.contextmanager
def captured_rotations():
    """Record, by layer index, the random rotations each transformers LSHSelfAttention draws
    (torch.randn called inside its `_hash_vectors`)."""
    import torch
    from transformers.models.reformer import modeling_reformer as mr

    drawn, hashing = {}, []
    original_hash, original_randn = mr.LSHSelfAttention._hash_vectors, torch.randn

    def hash_vectors(self, *args, **kwargs):
        hashing.append(self.layer_idx)
        try:
            return original_hash(self, *args, **kwargs)
        finally:
            hashing.pop()

    def randn(*args, **kwargs):
        out = original_randn(*args, **kwargs)
        if hashing:
            drawn[hashing[-1]] = out.detach().cpu().numpy().copy()
        return out

    mr.LSHSelfAttention._hash_vectors, torch.randn = hash_vectors, randn
    try:
        yield drawn
    finally:
        mr.LSHSelfAttention._hash_vectors, torch.randn = original_hash, original_randn


def rotations_per_lsh_layer(config, drawn: dict, num_hashes: int | None = None) -> list:
    """One array per LSH layer, in layer order: what it drew, or zeros of the right shape."""
    num_hashes = num_hashes or config.num_hashes
    nb = config.num_buckets
    rot = (nb if isinstance(nb, int) else sum(nb)) if nb is not None else 2
    shape = (config.num_attention_heads, config.attention_head_size, num_hashes, rot // 2)
    return [drawn.get(i, np.zeros(shape, np.float32)) for i, a in enumerate(config.attn_layers) if a == "lsh"]


def randomise(model, std: float = 0.3):
    """Peaked weights: matrices normal(0, std), axial factors normal(0, 1), norm scales near 1."""
    import torch
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "position_embeddings.weights" in name:
                p.normal_(0.0, 1.0)
            elif p.ndim >= 2:
                p.normal_(0.0, std)
            elif "layer_norm.weight" in name:
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.05)


def make_model(folder: Path, cls_name: str, config: dict, seed: int):
    import torch
    import transformers
    torch.manual_seed(seed)
    model = getattr(transformers, cls_name)(transformers.ReformerConfig(**config)).eval()
    randomise(model)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    for extra in ("generation_config.json",):  # nothing minitf reads, keep the folder minimal
        (folder / extra).unlink(missing_ok=True)
    return model


def make_inputs(rng, vocab: int, batch: int, length: int, padded_rows: int):
    ids = rng.integers(3, vocab, size=(batch, length)).astype(np.int64)
    if not padded_rows:
        return ids, None
    mask = np.ones((batch, length), np.int64)
    mask[1, length - padded_rows:] = 0  # the second row is right-padded
    ids[1, length - padded_rows:] = 0
    return ids, mask


def expected_outputs(model, tag: str, cases: dict, seed: int) -> dict:
    import torch
    rng = np.random.default_rng(100 + seed)
    out = {}
    for case, (batch, length, padded_rows) in cases.items():
        ids, mask = make_inputs(rng, model.config.vocab_size, batch, length, padded_rows)
        key = f"{tag}/{case}"
        out[f"{key}/input_ids"] = ids
        if mask is not None:
            out[f"{key}/attention_mask"] = mask
        torch.manual_seed(seed)
        with captured_rotations() as drawn, torch.no_grad():
            r = model(input_ids=torch.from_numpy(ids),
                      attention_mask=None if mask is None else torch.from_numpy(mask),
                      output_hidden_states=True, output_attentions=True)
        for j, rot in enumerate(rotations_per_lsh_layer(model.config, drawn)):
            out[f"{key}/rotations_{j}"] = rot
        if getattr(r, "logits", None) is not None:
            out[f"{key}/logits"] = r.logits.numpy()
        else:
            out[f"{key}/last_hidden_state"] = r.last_hidden_state.numpy()
        for i, h in enumerate(r.hidden_states):
            out[f"{key}/hidden_{i}"] = h.numpy()
        for i, a in enumerate(r.attentions):
            out[f"{key}/attn_{i}"] = a.numpy()
    return out


def main():
    import transformers
    out = {}
    for name, (cls_name, config, seed, cases) in MODELS.items():
        folder = WEIGHTS / name
        model = make_model(folder, cls_name, config, seed)
        out.update(expected_outputs(model, name, cases, seed))
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"{folder.relative_to(ROOT)}: {cls_name}, {size / 1024:.0f} KB")
    out["meta/transformers_version"] = np.array(transformers.__version__)
    out["meta/models"] = np.array(json.dumps({k: v[0] for k, v in MODELS.items()}))
    out["meta/cases"] = np.array(json.dumps({k: list(v[3]) for k, v in MODELS.items()}))
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(EXPECTED, **out)
    print(f"wrote {EXPECTED.relative_to(ROOT)} ({len(out)} arrays, "
          f"{EXPECTED.stat().st_size / 1024:.0f} KB, transformers {transformers.__version__})")


if __name__ == "__main__":
    main()
