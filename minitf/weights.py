"""Read checkpoints: `model.safetensors`, or shards listed in `model.safetensors.index.json`.

A safetensors file is an 8-byte header length, a JSON header (name -> dtype, shape, byte
offsets) and the raw little-endian tensor bytes. The `safetensors` package validates the file
(a truncated or corrupt file fails here, with its name); the tensors are then NumPy views
into a read-only memory map, so loading a 500 MB checkpoint copies nothing until a weight
is used, and float32 weights are never copied at all.

    >>> tensors = load_checkpoint("weights/tiny-gpt2")
    >>> tensors["transformer.wte.weight"].shape, tensors["transformer.wte.weight"].dtype
    ((557, 32), dtype('float32'))

Only safetensors is read: `pytorch_model.bin` is a pickle, and unpickling runs arbitrary code.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

SAFE = "model.safetensors"
INDEX = "model.safetensors.index.json"

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
    "BOOL": np.bool_,
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message names the file and the tensor."""


def bf16_to_float32(raw_u16: np.ndarray) -> np.ndarray:
    """bfloat16 is the top half of a float32: shift the 16 bits up and reinterpret."""
    return (raw_u16.astype(np.uint32) << 16).view(np.float32)


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All tensors of one .safetensors file as NumPy arrays (memory-mapped, read-only).

    bfloat16 tensors come back as float32 (NumPy has no bfloat16).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} does not exist")
    try:  # validation: header JSON, offsets covering the whole file, known dtypes
        from safetensors import safe_open

        with safe_open(str(path), framework="np") as f:
            names = list(f.keys())
    except Exception as err:
        raise CheckpointError(f"{path} is not a valid safetensors file (truncated or corrupt?): "
                              f"{err}") from None
    size = path.stat().st_size
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
    data_start = 8 + n
    buf = np.memmap(path, dtype=np.uint8, mode="r") if size > data_start else np.zeros(0, np.uint8)
    out = {}
    for name in names:
        info = header[name]
        if info["dtype"] not in _DTYPES:
            raise CheckpointError(f"{path}: tensor {name!r} has dtype {info['dtype']}, which minitf "
                                  f"does not read (supported: {sorted(_DTYPES)})")
        begin, end = info["data_offsets"]
        raw = buf[data_start + begin: data_start + end]
        dtype = np.dtype(_DTYPES[info["dtype"]])
        if (data_start + begin) % dtype.itemsize:  # unaligned: copy so BLAS gets aligned memory
            raw = np.array(raw)
        arr = raw.view(dtype).reshape(info["shape"])
        if info["dtype"] == "BF16":
            arr = bf16_to_float32(arr)
        out[name] = arr
    return out


def checkpoint_files(folder: str | os.PathLike) -> list[Path]:
    """The safetensors file(s) of a model folder, with clear errors for what is missing."""
    folder = Path(folder)
    if (folder / SAFE).is_file():
        return [folder / SAFE]
    if (folder / INDEX).is_file():
        index_path = folder / INDEX
        try:
            index = json.loads(index_path.read_text())
            weight_map = index["weight_map"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise CheckpointError(f"{index_path} is not a valid shard index "
                                  f"(needs a 'weight_map' object): {err}") from None
        shards = []
        root = folder.resolve()
        for tensor, shard in weight_map.items():
            target = (folder / shard).resolve()
            if root not in target.parents:
                raise CheckpointError(f"{index_path}: tensor {tensor!r} points to shard {shard!r}, "
                                      f"which is outside the model folder {folder}; refusing to read it")
            if not target.is_file():
                raise CheckpointError(f"{index_path}: shard {shard!r} (for tensor {tensor!r}) is missing")
            if target not in shards:
                shards.append(target)
        return shards
    if any((folder / f).is_file() for f in ("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack")):
        raise CheckpointError(
            f"{folder} has only a PyTorch/TF checkpoint. minitf reads safetensors only: a .bin file "
            f"is a pickle, and unpickling can run arbitrary code. Convert it once where torch is "
            f"installed: `from transformers import AutoModel; AutoModel.from_pretrained(folder)"
            f".save_pretrained(folder, safe_serialization=True)`.")
    raise CheckpointError(f"{folder} has no {SAFE} or {INDEX}")


def load_checkpoint(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """name -> array for every tensor in the folder's safetensors file(s)."""
    tensors: dict[str, np.ndarray] = {}
    for f in checkpoint_files(folder):
        for name, arr in read_safetensors(f).items():
            if name in tensors:
                raise CheckpointError(f"tensor {name!r} appears in more than one shard ({f})")
            tensors[name] = arr
    return tensors


def save_safetensors(tensors: dict[str, np.ndarray], path: str | os.PathLike, metadata=None) -> None:
    """Write tensors (contiguous copies) with the safetensors package."""
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(path),
              metadata=metadata or {"format": "np"})
