"""Live parity against transformers for Reformer (`make parity`).

Random tiny configs are built and initialised in transformers, saved as safetensors and loaded
by minitf's Auto classes. transformers runs first while the rotations its LSH layers draw are
captured (`torch.randn` inside `_hash_vectors`, see weights/make_fixtures_reformer.py); minitf
then runs with those rotations injected (`lsh_rotations=`), and logits / last hidden state,
every hidden state and every attention map must agree within 1e-4.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402

pytestmark = pytest.mark.parity

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_fixtures_reformer",
                                               ROOT / "weights" / "make_fixtures_reformer.py")
recipe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recipe)

ATOL = 1e-4
AUTO = {"ReformerModelWithLMHead": minitf.AutoModelForCausalLM,
        "ReformerForMaskedLM": minitf.AutoModelForMaskedLM, "ReformerModel": minitf.AutoModel}
SMALL = dict(vocab_size=50, hidden_size=24, num_attention_heads=3, attention_head_size=8,
             feed_forward_size=40, pad_token_id=0)
AXIAL = dict(axial_pos_embds=True, axial_pos_shape=[8, 8], axial_pos_embds_dim=[10, 14],
             max_position_embeddings=64)
# name -> (transformers class, config kwargs, batch, length, padded positions in row 1, call kwargs)
CONFIGS = {
    "mixed_causal": ("ReformerModelWithLMHead", dict(
        SMALL, **AXIAL, attn_layers=["local", "lsh", "local", "lsh"], is_decoder=True, num_buckets=4,
        num_hashes=2, lsh_attn_chunk_length=8, local_attn_chunk_length=4), 2, 45, 6, {}),
    "factor_pair_mlm": ("ReformerForMaskedLM", dict(
        SMALL, **AXIAL, attn_layers=["lsh", "local", "lsh"], num_buckets=[2, 4], num_hashes=3,
        lsh_attn_chunk_length=4, local_attn_chunk_length=8, lsh_num_chunks_after=1,
        local_num_chunks_after=1, hidden_act="gelu"), 2, 30, 4, {}),
    "buckets_from_length": ("ReformerModel", dict(
        SMALL, **AXIAL, attn_layers=["lsh", "lsh"], num_buckets=None, num_hashes=2,
        lsh_attn_chunk_length=4), 1, 40, 0, {}),
    "plain_positions": ("ReformerModel", dict(
        SMALL, attn_layers=["local", "lsh"], axial_pos_embds=False, max_position_embeddings=40,
        num_buckets=8, num_hashes=1, lsh_attn_chunk_length=4, local_attn_chunk_length=2,
        lsh_num_chunks_before=2, local_num_chunks_before=2, local_num_chunks_after=1, hash_seed=3),
        2, 23, 5, {}),
    "num_hashes_override": ("ReformerModelWithLMHead", dict(
        SMALL, **AXIAL, attn_layers=["lsh"], is_decoder=True, num_buckets=[4, 2], num_hashes=2,
        lsh_attn_chunk_length=8), 2, 32, 0, {"num_hashes": 4}),
    "one_chunk": ("ReformerModelWithLMHead", dict(
        SMALL, **AXIAL, attn_layers=["lsh", "local"], is_decoder=True, num_buckets=4, num_hashes=2,
        lsh_attn_chunk_length=16, local_attn_chunk_length=16), 2, 10, 3, {}),
}


def build(tmp_path, name, seed=0):
    cls_name, kwargs = CONFIGS[name][:2]
    torch.manual_seed(seed)
    hf = getattr(transformers, cls_name)(transformers.ReformerConfig(**kwargs)).eval()
    recipe.randomise(hf)
    hf.save_pretrained(tmp_path, safe_serialization=True)  # before any call sets num_buckets
    return hf, AUTO[cls_name].from_pretrained(tmp_path)


def inputs(name, seed=0):
    batch, length, padded = CONFIGS[name][2:5]
    ids, mask = recipe.make_inputs(np.random.default_rng(seed), SMALL["vocab_size"], batch, length, padded)
    return ids, mask


def run_reference(hf, call, seed=0):
    torch.manual_seed(seed)
    with recipe.captured_rotations() as drawn, torch.no_grad():
        out = hf(**{k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in call.items()},
                 output_hidden_states=True, output_attentions=True)
    return out, recipe.rotations_per_lsh_layer(hf.config, drawn, call.get("num_hashes"))


def assert_same(ours, ref, t):
    main = "logits" if getattr(ref, "logits", None) is not None else "last_hidden_state"
    diff = np.abs(ours[main] - getattr(ref, main).numpy()).max()
    assert ours[main].dtype == np.float32 and diff <= ATOL, f"{main}: {diff}"
    assert len(ours.hidden_states) == len(ref.hidden_states)
    for i, (a, b) in enumerate(zip(ours.hidden_states, ref.hidden_states)):
        b = b.numpy()[:, :t]  # transformers leaves the internal padding in
        assert a.shape == b.shape and np.abs(a - b).max() <= ATOL, f"hidden_{i}"
    for i, (a, b) in enumerate(zip(ours.attentions, ref.attentions)):
        assert a.shape == tuple(b.shape) and np.abs(a - b.numpy()).max() <= ATOL, f"attn_{i}"
    return diff


@pytest.mark.filterwarnings("ignore:config.num_buckets is not set")
@pytest.mark.parametrize("name", list(CONFIGS))
def test_matches_transformers(tmp_path, name):
    hf, model = build(tmp_path, name)
    ids, mask = inputs(name)
    extra = CONFIGS[name][5]
    call = dict(input_ids=ids, attention_mask=mask, **extra)
    ref, rotations = run_reference(hf, call)
    ours = model(**call, lsh_rotations=rotations, output_hidden_states=True, output_attentions=True)
    assert_same(ours, ref, ids.shape[1])
    if CONFIGS[name][1].get("num_buckets", 0) is None:  # both chose the same from the length
        assert tuple(model.config.num_buckets) == tuple(hf.config.num_buckets)


def test_inputs_embeds_match_transformers(tmp_path):
    hf, model = build(tmp_path, "mixed_causal", seed=1)
    ids, mask = inputs("mixed_causal", seed=1)
    embeds = hf.reformer.embeddings.word_embeddings.weight.detach().numpy()[ids]
    ref, rotations = run_reference(hf, dict(inputs_embeds=embeds, attention_mask=mask))
    ours = model(inputs_embeds=embeds, attention_mask=mask, lsh_rotations=rotations,
                 output_hidden_states=True, output_attentions=True)
    assert_same(ours, ref, ids.shape[1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_draws_of_weights_and_rotations(tmp_path, seed):
    """Different weights, inputs and rotations for the mixed causal and the factor-pair models."""
    for name in ("mixed_causal", "factor_pair_mlm"):
        hf, model = build(tmp_path / name, name, seed=seed)
        ids, mask = inputs(name, seed=seed)
        ref, rotations = run_reference(hf, dict(input_ids=ids, attention_mask=mask), seed=seed)
        ours = model(input_ids=ids, attention_mask=mask, lsh_rotations=rotations,
                     output_hidden_states=True, output_attentions=True)
        assert_same(ours, ref, ids.shape[1])
