"""Modules whose attribute names are the checkpoint's names, so loading weights is a walk.

`model.transformer.h[0].attn.c_attn.weight` is the array stored as
`transformer.h.0.attn.c_attn.weight`: `named_parameters()` walks the attributes and yields
exactly those names, and `load_weights()` sets each one from the checkpoint after checking
that it is there and has the right shape.

    >>> ln = LayerNorm(4)
    >>> [name for name, _ in ln.named_parameters()]
    ['weight', 'bias']
"""
from __future__ import annotations

import fnmatch
import os
import warnings
from collections import OrderedDict
from typing import Iterator

import numpy as np

from . import ops
from .backend import to_device, to_numpy, warm_up
from .user_warnings import user_stacklevel
from .weights import CheckpointError, checkpoint_files, load_checkpoint, save_safetensors


class Module:
    """A container of weights (arrays) and sub-modules (attributes, or lists of them).

    Arrays created in ``__init__`` are placeholders with the right shape and dtype (zeros, which
    cost no memory until written); `load_weights` or `init_weights` fills them.

    A subclass writes its computation in ``forward``; calling the module runs it, then the
    forward hooks (as torch's): ``hook(module, args, output)``, whose return value, when not
    None, replaces the output. `minitf.debug.trace` records every layer's output with them.

        >>> ln = LayerNorm(2)
        >>> seen = []
        >>> handle = ln.register_forward_hook(lambda module, args, out: seen.append(out.shape))
        >>> _ = ln(np.ones((3, 2), np.float32))
        >>> handle.remove()
        >>> _ = ln(np.ones((1, 2), np.float32))
        >>> seen
        [(3, 2)]
    """

    def __call__(self, *args, **kwargs):
        forward = getattr(self, "forward", None)
        if forward is None:
            raise TypeError(f"{type(self).__name__} is a container without a forward(); "
                            f"call its sub-modules")
        output = forward(*args, **kwargs)
        for hook in list(vars(self).get("_forward_hooks", {}).values()):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    def register_forward_hook(self, hook) -> "HookHandle":
        """Call ``hook(module, args, output)`` after every forward of this module; returns a
        handle whose ``remove()`` takes the hook off again."""
        hooks = vars(self).setdefault("_forward_hooks", {})
        handle = HookHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def has_forward_hooks(self) -> bool:
        return bool(vars(self).get("_forward_hooks"))

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)) and value and isinstance(value[0], Module):
                for i, m in enumerate(value):
                    yield f"{name}.{i}", m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module ("" or `prefix`) and every sub-module, by checkpoint-style dotted name."""
        yield prefix.rstrip("."), self
        for name, child in self.named_children():
            yield from child.named_modules(prefix + name + ".")

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for name, value in vars(self).items():
            if _is_array(value) and not name.startswith("_"):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_parameters(prefix + name + ".")

    def get_parameter(self, dotted: str):
        owner, attr = self._owner(dotted)
        return getattr(owner, attr)

    def set_parameter(self, dotted: str, value) -> None:
        owner, attr = self._owner(dotted)
        setattr(owner, attr, value)

    def _owner(self, dotted: str):
        *path, attr = dotted.split(".")
        obj = self
        for part in path:
            obj = obj[int(part)] if isinstance(obj, (list, tuple)) else getattr(obj, part)
        return obj, attr

    def num_parameters(self) -> int:
        return sum(int(p.size) for _, p in self.named_parameters())


class HookHandle:
    """What `register_forward_hook` returns: ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = HookHandle._next_id
        HookHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or type(x).__module__.startswith("cupy")


class _FusedActivation(Module):
    """A layer called as ``layer(x, activation="gelu")`` fuses bias and activation in one kernel.

    Its own output - what the transformers module of that name returns, and what a forward hook
    must see - is the one before the activation; so when hooks are registered the activation is
    applied after them, unfused.
    """

    def __call__(self, x, activation: str | None = None):
        if activation is not None and self.has_forward_hooks():
            return ops.activation(activation)(super().__call__(x))
        return super().__call__(x, activation)


class Linear(_FusedActivation):
    """torch.nn.Linear layout: weight [out, in]; y = x @ weight.T + bias."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True, dtype=np.float32):
        self.weight = np.zeros((n_out, n_in), dtype)
        self.bias = np.zeros((n_out,), dtype) if bias else None

    def forward(self, x, activation: str | None = None):
        """activation: a config name applied after the bias, fused with it where a kernel can"""
        return ops.linear_t(x, self.weight, self.bias, activation)  # [..., in] -> [..., out]


class TransposedLinear(_FusedActivation):
    """A linear layer stored transposed: weight [in, out]; y = x @ weight + bias.

    GPT-2 (and transformers' `Conv1D` class) keeps its projections this way; it is a matrix
    product, not a convolution (that is `ops.conv1d`). The checkpoint names are the same.
    """

    def __init__(self, n_in: int, n_out: int, dtype=np.float32):
        self.weight = np.zeros((n_in, n_out), dtype)
        self.bias = np.zeros((n_out,), dtype)

    def forward(self, x, activation: str | None = None):
        return ops.linear(x, self.weight, self.bias, activation)  # [..., in] -> [..., out]


class LayerNorm(Module):
    def __init__(self, d: int, eps: float = 1e-5, dtype=np.float32):
        self.weight = np.ones((d,), dtype)
        self.bias = np.zeros((d,), dtype)
        self.eps = eps

    def forward(self, x, residual=None):
        """LayerNorm(x), or LayerNorm(x + residual) in one pass"""
        return ops.layer_norm(x, self.weight, self.bias, self.eps, residual)  # [..., d] -> [..., d]


class Embedding(Module):
    def __init__(self, n: int, d: int, dtype=np.float32):
        self.weight = np.zeros((n, d), dtype)

    def forward(self, ids):
        return ops.embedding(ids, self.weight)  # [...] -> [..., d]


class ModelOutput(OrderedDict):
    """The outputs of a forward pass, by name (`out.logits`) or position (`out[0]`), as in
    transformers: fields that are None are left out."""

    def __init__(self, **fields):
        super().__init__((k, v) for k, v in fields.items() if v is not None)

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            if name.startswith("__"):
                raise AttributeError(name) from None
            return None  # a field that was not requested (e.g. attentions) reads as None

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return tuple(self.values())[key]
        return super().__getitem__(key)

    def to_tuple(self) -> tuple:
        return tuple(self.values())


class PreTrainedModel(Module):
    """Shared loading logic. Subclasses set `config_class`, `base_model_prefix` and build their
    modules in ``__init__(config)`` with checkpoint attribute names.

    `ignore_keys` are checkpoint entries that are buffers, not weights (GPT-2's saved causal
    mask `attn.bias`). `tied_keys` maps a parameter to the one it shares storage with when the
    config ties word embeddings (`tie_word_embeddings`, the output projection <- the input
    embedding); `aliased_keys` are parameters that always share one array whatever the config
    says (the decoder bias of an MLM head *is* `cls.predictions.bias`): a checkpoint may hold
    either name, and only the source is saved.
    """

    config_class = None
    base_model_prefix = ""
    ignore_keys: tuple[str, ...] = ()
    tied_keys: dict[str, str] = {}
    aliased_keys: dict[str, str] = {}

    device = "cpu"
    dtype = np.float32
    kernel_compile_seconds = 0.0  # one-time kernel compilation/loading paid by this model (`to`)

    @classmethod
    def from_pretrained(cls, name_or_path, dtype="float32", device="cpu", config=None, **overrides):
        """Build the model from `config.json` and fill it from `model.safetensors`.

        dtype: "float32" (default), "float16" or "float64"; device: "cpu" or "cuda".
        """
        from .hub import resolve

        folder = resolve(name_or_path)
        if config is None:
            config = cls.config_class.from_pretrained(folder, **overrides)
        model = cls(config)
        files = checkpoint_files(folder)
        model.load_weights(load_checkpoint(folder), source=", ".join(str(f) for f in files))
        model.name_or_path = str(name_or_path)
        if hasattr(model, "generate") and (folder / "generation_config.json").is_file():
            from .generation.configuration import GenerationConfig  # (without it: the config's options)

            model.generation_config = GenerationConfig.from_pretrained(folder)
        return model.to(dtype=dtype, device=device)

    def init_weights(self, seed: int = 0, std: float | None = None):
        """Random weights as transformers initialises them: normal(0, initializer_range) for
        matrices and embeddings, zeros for biases, ones for layer-norm scales."""
        rng = np.random.default_rng(seed)
        std = std if std is not None else getattr(self.config, "initializer_range", 0.02)
        for name, p in self.named_parameters():
            if name in self.tied_keys:
                continue
            if name.endswith("bias"):  # BART's final_logits_bias is [1, vocab]: still a bias
                p[...] = 0
            elif p.ndim >= 2:
                p[...] = rng.normal(0.0, std, size=p.shape).astype(p.dtype)
            else:
                p[...] = 1
        self.tie_weights()
        return self

    def tie_weights(self):
        if getattr(self.config, "tie_word_embeddings", True):
            for name, source in self.tied_keys.items():
                self.set_parameter(name, self.get_parameter(source))
        for alias, source in self.aliased_keys.items():
            self.set_parameter(alias, self.get_parameter(source))

    def _fill_aliases(self, tensors: dict) -> dict:
        """A checkpoint that stores only one name of an aliased pair fills both."""
        tensors = dict(tensors)
        for alias, source in self.aliased_keys.items():
            if alias not in tensors and source in tensors:
                tensors[alias] = tensors[source]
        return tensors

    def load_weights(self, tensors: dict, source: str = "checkpoint", strict: bool = True):
        """Set every parameter from `tensors` (checkpoint names), checking names, shapes, dtypes."""
        expected = dict(self.named_parameters())
        tied = set(self.tied_keys) if getattr(self.config, "tie_word_embeddings", True) else set()
        tensors = self._fill_aliases(self._align_prefix(tensors, expected))
        missing = [n for n in expected if n not in tensors and n not in tied]
        unexpected = [n for n in tensors if n not in expected and not _matches(n, self.ignore_keys)]
        if strict and (missing or unexpected):
            lines = [f"{source} does not match {type(self).__name__}:"]
            if missing:
                lines.append(f"  missing tensors ({len(missing)}): {missing[:10]}")
            if unexpected:
                lines.append(f"  unexpected tensors ({len(unexpected)}): {unexpected[:10]}")
            raise CheckpointError("\n".join(lines))
        for name, placeholder in expected.items():
            if name not in tensors:
                continue
            arr = tensors[name]
            if tuple(arr.shape) != tuple(placeholder.shape):
                raise CheckpointError(f"{source}: tensor {name!r} has shape {tuple(arr.shape)}, "
                                      f"but the config needs {tuple(placeholder.shape)}")
            if arr.dtype.kind != "f":
                raise CheckpointError(f"{source}: tensor {name!r} has dtype {arr.dtype}; "
                                      f"a floating-point weight was expected")
            self.set_parameter(name, arr.astype(placeholder.dtype, copy=False))
        self.tie_weights()
        return self

    def _align_prefix(self, tensors: dict, expected: dict) -> dict:
        """Accept a base-model checkpoint in a model with a head (add `transformer.`) and a
        head checkpoint in a base model (drop the prefix and the head), as transformers does."""
        p = self.base_model_prefix + "." if self.base_model_prefix else ""
        if not p:
            return tensors
        ours_prefixed = any(n.startswith(p) for n in expected)
        theirs_prefixed = any(n.startswith(p) for n in tensors)
        if ours_prefixed and not theirs_prefixed:
            return {(n if n in expected else p + n): t for n, t in tensors.items()}
        if theirs_prefixed and not ours_prefixed:
            return {n[len(p):]: t for n, t in tensors.items() if n.startswith(p)}
        return tensors

    def to(self, dtype=None, device=None):
        """Cast the weights (float32 / float16 / float64) and/or move them ('cpu' / 'cuda')."""
        if dtype is not None:
            dt = np.dtype(dtype)
            if dt.kind != "f":
                raise ValueError(f"dtype must be a floating-point type (got {dtype!r})")
            self.dtype = dt.type
        if device is not None and device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda' (got {device!r})")
        for name, p in list(self.named_parameters()):
            if self._is_shared(name):
                continue
            if dtype is not None and p.dtype != self.dtype:
                p = p.astype(self.dtype)
            if device is not None:
                p = to_device(p, device)
            self.set_parameter(name, p)
        if device is not None:
            self.device = device
        self.tie_weights()
        # compile the kernels for this dtype and device now, not in the first forward pass
        self.kernel_compile_seconds += warm_up(self.dtype, self.device)
        return self

    def _is_shared(self, name: str) -> bool:
        """Whether parameter `name` is another parameter's array (tied or aliased)."""
        return name in self.aliased_keys or (
            name in self.tied_keys and getattr(self.config, "tie_word_embeddings", True))

    def state_dict(self) -> dict:
        return {n: to_numpy(p) for n, p in self.named_parameters() if not self._is_shared(n)}

    def save_pretrained(self, folder: str | os.PathLike) -> None:
        os.makedirs(folder, exist_ok=True)
        self.config.save_pretrained(folder)
        save_safetensors(self.state_dict(), os.path.join(folder, "model.safetensors"))
        if hasattr(self, "generate"):
            self.generation_config.save_pretrained(folder)

    def weight_bytes(self) -> int:
        """Bytes held by the weights (tied ones counted once)."""
        seen, total = set(), 0
        for _, p in self.named_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                total += int(p.nbytes)
        return total


class EncoderPreTrainedModel(PreTrainedModel):
    """Loading as transformers does it for encoders with task heads:

    - a base checkpoint (`embeddings.*`, `encoder.*`) goes into a model with a head (the body
      under `bert.`), and a head checkpoint into a base model (the head is dropped);
    - weights the checkpoint lacks but that transformers would create fresh - the task head
      (`classifier`, `qa_outputs`, `cls.predictions.transform` ...) and the pooler - are drawn at
      random (normal(0, initializer_range), biases 0, norm scales 1) with a warning, so
      `AutoModelForSequenceClassification.from_pretrained(<a base model>)` works as in the course;
    - a head the checkpoint has and this model does not (say `cls.seq_relationship` of a
      pre-training checkpoint in a classifier) is left out with a warning.

    Everything else stays strict: a missing or unexpected tensor in the body, or a wrong shape,
    is an error that names it.
    """

    ignore_keys = ("*embeddings.position_ids", "*embeddings.token_type_ids")  # saved buffers

    def _has_body(self) -> bool:
        return isinstance(getattr(self, self.base_model_prefix, None), Module)

    def _is_head_or_pooler(self, name: str) -> bool:
        if self._has_body() and not name.startswith(self.base_model_prefix + "."):
            return True  # a task head, outside the body
        return ".pooler." in "." + name

    def load_weights(self, tensors: dict, source: str = "checkpoint", strict: bool = True):
        expected = dict(self.named_parameters())
        tensors = self._fill_aliases(self._align_prefix(tensors, expected))
        if strict:
            tied = set(self.tied_keys) if getattr(self.config, "tie_word_embeddings", True) else set()
            missing = [n for n in expected if n not in tensors and n not in tied]
            if missing and all(self._is_head_or_pooler(n) for n in missing):
                tensors.update(self._fresh(missing, expected))
                warnings.warn(f"Some weights of {type(self).__name__} were not in {source} and are "
                              f"newly initialised at random: {missing}. The outputs that depend on "
                              f"them mean nothing until the model is fine-tuned.",
                              stacklevel=user_stacklevel())
            unused = [n for n in tensors if n not in expected and self._is_head_or_pooler(n)
                      and not any(fnmatch.fnmatchcase(n, p) for p in self.ignore_keys)]
            if unused:
                warnings.warn(f"Some weights of {source} were not used by {type(self).__name__} "
                              f"(a head it does not have): {unused[:10]}",
                              stacklevel=user_stacklevel())
                for n in unused:
                    del tensors[n]
        return super().load_weights(tensors, source, strict)

    def _fresh(self, names, expected) -> dict:
        """Random weights for `names`, drawn as transformers' _init_weights does."""
        rng = np.random.default_rng(0)
        std = getattr(self.config, "initializer_range", 0.02)
        out = {}
        for n in names:
            p = expected[n]
            if n.endswith("bias"):
                out[n] = np.zeros(p.shape, np.float32)
            elif p.ndim >= 2:
                out[n] = rng.normal(0.0, std, size=p.shape).astype(np.float32)
            else:
                out[n] = np.ones(p.shape, np.float32)
        return out


def _matches(name: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(name, pat) for pat in patterns)
