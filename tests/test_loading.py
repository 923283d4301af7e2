"""Checkpoint and model resolution: the happy paths and every error a user can run into."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.hub import resolve
from minitf.weights import CheckpointError, load_checkpoint, read_safetensors, save_safetensors

TINY = Path(__file__).resolve().parents[1] / "weights" / "tiny-gpt2"


@pytest.fixture
def folder(tmp_path):
    dst = tmp_path / "model"
    shutil.copytree(TINY, dst)
    return dst


def _ids():
    return np.array([[5, 17, 42, 7]])


def test_loads_memory_mapped_and_tied():
    model = minitf.AutoModelForCausalLM.from_pretrained(TINY)
    assert type(model).__name__ == "GPT2LMHeadModel"
    assert model.lm_head.weight is model.transformer.wte.weight  # tied, one array
    # float32 weights are views into the file, not copies
    assert isinstance(model.transformer.h[0].attn.c_attn.weight.base, np.memmap) or \
        isinstance(model.transformer.h[0].attn.c_attn.weight, np.memmap)
    assert model.config.n_layer == 2 and model.config.hidden_size == 32


def test_base_model_from_head_checkpoint_and_back(folder, tmp_path):
    lm = minitf.AutoModelForCausalLM.from_pretrained(folder)
    base = minitf.AutoModel.from_pretrained(folder)  # drops `transformer.` and the head
    assert type(base).__name__ == "GPT2Model"
    np.testing.assert_allclose(base(input_ids=_ids()).last_hidden_state,
                               lm.transformer(input_ids=_ids()).last_hidden_state, atol=0)
    # a base-model checkpoint (no prefix, like the `gpt2` Hub repo) loads into the LM
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(folder / "config.json", plain / "config.json")
    tensors = {k[len("transformer."):]: v for k, v in load_checkpoint(folder).items()}
    tensors["h.0.attn.bias"] = np.tril(np.ones((1, 1, 128, 128), np.float32))  # old causal buffer
    save_safetensors(tensors, plain / "model.safetensors")
    lm2 = minitf.AutoModelForCausalLM.from_pretrained(plain)
    np.testing.assert_allclose(lm2(input_ids=_ids()).logits, lm(input_ids=_ids()).logits, atol=0)


def test_sharded_checkpoint(folder):
    tensors = load_checkpoint(folder)
    names = sorted(tensors)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half],
              "model-00002-of-00002.safetensors": names[half:]}
    for shard, keys in shards.items():
        save_safetensors({k: tensors[k] for k in keys}, folder / shard)
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {}, "weight_map": {k: s for s, keys in shards.items() for k in keys}}))
    model = minitf.AutoModelForCausalLM.from_pretrained(folder)
    ref = minitf.AutoModelForCausalLM.from_pretrained(TINY)
    np.testing.assert_allclose(model(input_ids=_ids()).logits, ref(input_ids=_ids()).logits, atol=0)


def test_dtype_and_bf16(folder):
    m16 = minitf.AutoModelForCausalLM.from_pretrained(folder, dtype="float16")
    assert m16.transformer.wte.weight.dtype == np.float16
    m64 = minitf.AutoModelForCausalLM.from_pretrained(folder, dtype="float64")
    m32 = minitf.AutoModelForCausalLM.from_pretrained(folder)
    assert m64(input_ids=_ids()).logits.dtype == np.float64
    np.testing.assert_allclose(m64(input_ids=_ids()).logits, m32(input_ids=_ids()).logits, atol=1e-4)
    # a bfloat16 checkpoint (NumPy has no bf16 to hand to safetensors' writer, so the file is
    # written by hand): each value is the top 16 bits of the float32
    tensors = load_checkpoint(folder)
    path = folder / "bf16.safetensors"
    raw = {k: (np.ascontiguousarray(v).view(np.uint32) >> 16).astype(np.uint16) for k, v in tensors.items()}
    header = {k: {"dtype": "BF16", "shape": list(v.shape), "data_offsets": None} for k, v in raw.items()}
    offset, blobs = 0, []
    for k, v in raw.items():
        header[k]["data_offsets"] = [offset, offset + v.nbytes]
        offset += v.nbytes
        blobs.append(v.tobytes())
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(len(h).to_bytes(8, "little") + h + b"".join(blobs))
    bf = read_safetensors(path)
    k = "transformer.wte.weight"
    assert bf[k].dtype == np.float32
    np.testing.assert_allclose(bf[k], tensors[k], rtol=1e-2, atol=1e-2)


# -- errors ----------------------------------------------------------------------------------
def test_missing_tensor_is_named(folder):
    tensors = load_checkpoint(folder)
    del tensors["transformer.h.1.mlp.c_fc.bias"]
    save_safetensors(tensors, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"missing tensors.*transformer\.h\.1\.mlp\.c_fc\.bias"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_unexpected_tensor_is_named(folder):
    tensors = dict(load_checkpoint(folder))
    tensors["transformer.h.0.extra.weight"] = np.zeros(3, np.float32)
    save_safetensors(tensors, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"unexpected tensors.*transformer\.h\.0\.extra\.weight"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_shape_mismatch_is_named(folder):
    cfg = json.loads((folder / "config.json").read_text())
    cfg["n_inner"] = 64  # the checkpoint has 4 * 32 = 128
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=r"transformer\.h\.0\.mlp\.c_fc\.weight.*shape \(32, 128\).*\(32, 64\)"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_integer_dtype_is_rejected(folder):
    tensors = dict(load_checkpoint(folder))
    tensors["transformer.ln_f.bias"] = np.zeros(32, np.int32)
    save_safetensors(tensors, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"transformer\.ln_f\.bias.*dtype int32"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_truncated_file_is_named(folder):
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors is not a valid safetensors file"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_garbage_file_is_named(folder):
    (folder / "model.safetensors").write_bytes(b"\x00" * 3)
    with pytest.raises(CheckpointError, match=r"model\.safetensors"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_shard_outside_folder_is_refused(folder, tmp_path):
    outside = tmp_path / "elsewhere.safetensors"
    shutil.copy(folder / "model.safetensors", outside)
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"weight_map": {"transformer.wte.weight": "../elsewhere.safetensors"}}))
    with pytest.raises(CheckpointError, match=r"outside the model folder"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_missing_shard_is_named(folder):
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"weight_map": {"transformer.wte.weight": "model-00001-of-00002.safetensors"}}))
    with pytest.raises(CheckpointError, match=r"shard 'model-00001-of-00002\.safetensors'.*missing"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_pytorch_bin_is_not_unpickled(folder):
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(CheckpointError, match=r"safetensors only.*pickle.*save_pretrained"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_bad_config_json_is_named(folder):
    (folder / "config.json").write_text('{"model_type": "gpt2",,}')
    with pytest.raises(ValueError, match=r"config\.json is not valid JSON.*line 1"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_unsupported_model_type_is_named(folder):
    cfg = json.loads((folder / "config.json").read_text())
    cfg["model_type"] = "llama"
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"model_type 'llama' is not supported"):
        minitf.AutoModelForCausalLM.from_pretrained(folder)


def test_hub_id_offline_and_uncached_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match=r"'gpt2' is not a local folder.*Hugging Face cache.*huggingface-cli download gpt2"):
        resolve("gpt2")


def test_hub_id_found_in_the_cache(monkeypatch, tmp_path):
    snap = tmp_path / "hub" / "models--someone--tiny" / "snapshots" / "abc123"
    shutil.copytree(TINY, snap)
    (tmp_path / "hub" / "models--someone--tiny" / "refs").mkdir()
    (tmp_path / "hub" / "models--someone--tiny" / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert resolve("someone/tiny") == snap
    model = minitf.AutoModelForCausalLM.from_pretrained("someone/tiny")
    assert model.config.n_layer == 2


def test_not_a_folder_nor_an_id():
    with pytest.raises(OSError, match=r"not an existing folder"):
        resolve("./no/such/folder/here")


def test_bad_forward_inputs_are_named():
    model = minitf.AutoModelForCausalLM.from_pretrained(TINY)
    with pytest.raises(IndexError, match=r"input_ids contains id 5000, but vocab_size=557 \(valid ids: 0..556\): the tokenizer and the model do not match"):
        model(input_ids=np.array([[1, 5000]]))
    with pytest.raises(TypeError, match=r"input_ids must be integers"):
        model(input_ids=np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"exceeds GPT-2's n_positions=128"):
        model(input_ids=np.ones((1, 129), np.int64))
    with pytest.raises(ValueError, match=r"attention_mask has shape \(1, 3\)"):
        model(input_ids=np.ones((1, 4), np.int64), attention_mask=np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"sequence length 0"):
        model(input_ids=np.zeros((1, 0), np.int64))
