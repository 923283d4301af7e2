"""Reformer (Kitaev, Kaiser & Levskaya 2020): a transformer for long sequences.

    ids -> word[ids] + axial positions -> (X1, X2) = (x, x) -> L x ReformerLayer
        -> LayerNorm(concat[X1, X2])  (2 x hidden wide) -> lm_head -> logits

Three ideas make it cheap on long inputs; each has its own readable file:

- **LSH attention** (`minitf/attention/lsh.py`) and **chunked local attention**
  (`minitf/attention/local.py`): each layer of `config.attn_layers` is "lsh" or "local"; both
  attend within chunks, so the cost grows like t x chunk_length, not t x t.
- **Axial positions** (`minitf/attention/positions.py`): the [l, d] position table is two small
  tables E1 [l1, d1] and E2 [l2, d2]; position j gets concat(E1[j // l2], E2[j % l2]).
- **Reversible residuals**: the hidden state is two streams. A layer computes

      Y1 = X1 + Attention(X2)          (attn_output:   the "attention" stream)
      Y2 = X2 + FeedForward(Y1)        (hidden_states: the "feed-forward" stream)

  so X2 = Y2 - FeedForward(Y1) and X1 = Y1 - Attention(X2) can be recomputed backwards and
  training stores no activations. At inference (all minitf does) it is just these two lines.
  Attention and FeedForward are pre-norm: each starts with its own LayerNorm.

Sequences are padded internally to a multiple of the chunk lengths (their least common
multiple) with `pad_token_id` and masked, as transformers does; `last_hidden_state`, `logits`
and `hidden_states` are cut back to the input's length. `hidden_states` are, as in
transformers, the feed-forward stream X2 before each layer and after the last (hidden_size
wide); `last_hidden_state` is the 2 x hidden_size normalised concat. `attentions` keep the
reference's chunked layout (see `lsh_attention` / `local_attention`), at the padded length.

LSH hashing is random. `lsh_rotations=[r0, r1, ...]` (one array per LSH layer, in layer
order, each [heads, head_dim, num_hashes, rotation_size // 2]) fixes it, e.g. to the
rotations transformers drew; without it each LSH layer draws from numpy's generator seeded
with `hash_seed` (0 when unset) + the layer's index, the same on every call.

    >>> from minitf import AutoModelForCausalLM
    >>> model = AutoModelForCausalLM.from_pretrained("weights/tiny-reformer")
    >>> model(input_ids=np.array([[5, 7, 9]])).logits.shape
    (1, 3, 64)
"""
from __future__ import annotations

import warnings
from math import lcm

import numpy as np

from .. import ops
from ..attention import merge_heads, split_heads
from ..attention.local import local_attention
from ..attention.lsh import bucket_count, default_num_buckets, lsh_attention, rotation_shape
from ..attention.positions import axial_position_embeddings
from ..backend import get_array_module
from ..config import ReformerConfig
from ..generation.utils import GenerationMixin
from ..inputs import check_ids, check_inputs, check_key_mask
from ..modeling import Embedding, LayerNorm, Linear, Module, ModelOutput, PreTrainedModel
from ..user_warnings import user_stacklevel

ATTENTION_TYPES = ("lsh", "local")


def check_config(config: ReformerConfig):
    """ValueErrors naming the config field, for settings transformers would choke on later."""
    layers = list(config.attn_layers or [])
    if not layers or any(a not in ATTENTION_TYPES for a in layers):
        raise ValueError(f"attn_layers must be a non-empty list of 'lsh' / 'local' "
                         f"(got {config.attn_layers!r})")
    for name in ("lsh_attn_chunk_length", "local_attn_chunk_length", "num_attention_heads",
                 "attention_head_size", "num_hashes"):
        kind = name.split("_")[0]
        if kind in ATTENTION_TYPES and kind not in layers:
            continue  # the chunk length of a layer type the model does not use
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer (got {value!r})")
    for name in ("lsh_num_chunks_before", "lsh_num_chunks_after", "local_num_chunks_before",
                 "local_num_chunks_after"):
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0 (got {value!r})")
    if "lsh" in layers and config.num_buckets is not None:
        bucket_count(config.num_buckets)  # raises a ValueError naming num_buckets
    if config.axial_pos_embds:
        shape, dims = list(config.axial_pos_shape), list(config.axial_pos_embds_dim)
        if len(shape) != 2 or len(dims) != 2:
            raise ValueError(f"axial_pos_shape and axial_pos_embds_dim must have two entries each "
                             f"(got {config.axial_pos_shape!r} and {config.axial_pos_embds_dim!r})")
        if sum(dims) != config.hidden_size:
            raise ValueError(f"axial_pos_embds_dim {tuple(dims)} must sum to hidden_size="
                             f"{config.hidden_size} (got {sum(dims)})")


def chunk_lengths(config) -> tuple[int, int]:
    """(least common multiple, minimum) of the chunk lengths of the layer types in use."""
    lengths = [config.lsh_attn_chunk_length if a == "lsh" else config.local_attn_chunk_length
               for a in set(config.attn_layers)]
    return lcm(*lengths), min(lengths)


class ParameterList(Module):
    """Arrays named "0", "1", ... (transformers' nn.ParameterList), so the checkpoint name
    `embeddings.position_embeddings.weights.0` is a plain attribute walk."""

    def __init__(self, arrays):
        for i, a in enumerate(arrays):
            setattr(self, str(i), a)

    def __getitem__(self, i: int):
        return getattr(self, str(i))

    def __len__(self) -> int:
        return len(vars(self))


class AxialPositionEmbeddings(Module):
    """weights.0 [l1, 1, d1] and weights.1 [1, l2, d2]; position j -> concat(E1[j // l2], E2[j % l2])."""

    def __init__(self, config: ReformerConfig):
        (l1, l2), (d1, d2) = config.axial_pos_shape, config.axial_pos_embds_dim
        self.weights = ParameterList([np.zeros((l1, 1, d1), np.float32),  # E1, by row j // l2
                                      np.zeros((1, l2, d2), np.float32)])  # E2, by column j % l2
        self.axial_pos_shape = (l1, l2)

    def forward(self, position_ids):
        return axial_position_embeddings(self.weights[0], self.weights[1], position_ids)  # [b, t, d]


class PositionEmbeddings(Module):
    """A plain learned table [max_position_embeddings, hidden] (axial_pos_embds=False)."""

    def __init__(self, config: ReformerConfig):
        self.embedding = Embedding(config.max_position_embeddings, config.hidden_size)

    def forward(self, position_ids):
        return self.embedding(position_ids)  # [b, t] -> [b, t, d]


class ReformerEmbeddings(Module):
    """word + position embeddings (no LayerNorm here: every block normalises its own input)."""

    def __init__(self, config: ReformerConfig):
        self.word_embeddings = Embedding(config.vocab_size, config.hidden_size)  # [V, d]
        self.position_embeddings = (AxialPositionEmbeddings(config) if config.axial_pos_embds
                                    else PositionEmbeddings(config))

    def forward(self, input_ids, position_ids, inputs_embeds=None):
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # [b, t] -> [b, t, d]
        return inputs_embeds + self.position_embeddings(position_ids)  # [b, t, d]


class LSHSelfAttention(Module):
    """One shared query/key projection and a value projection, then `lsh_attention`."""

    def __init__(self, config: ReformerConfig, layer_id: int):
        inner = config.num_attention_heads * config.attention_head_size
        self.query_key = Linear(config.hidden_size, inner, bias=False)
        self.value = Linear(config.hidden_size, inner, bias=False)
        self.config, self.layer_id = config, layer_id

    def rotation_shape(self, num_hashes: int):
        c = self.config
        return rotation_shape(c.num_attention_heads, c.attention_head_size, num_hashes, c.num_buckets)

    def forward(self, x, attention_mask, num_hashes, rotations=None, output_attentions=False):
        c = self.config
        qk = split_heads(self.query_key(x), c.num_attention_heads)  # [b, t, h*hd] -> [b, h, t, hd]
        v = split_heads(self.value(x), c.num_attention_heads)  # [b, h, t, hd]
        out, weights = lsh_attention(
            qk, v, c.num_buckets, num_hashes, c.lsh_attn_chunk_length, c.lsh_num_chunks_before,
            c.lsh_num_chunks_after, attention_mask, causal=bool(c.is_decoder), rotations=rotations,
            seed=(c.hash_seed or 0) + self.layer_id, return_weights=output_attentions)
        return merge_heads(out), weights  # [b, t, h*hd]


class LocalSelfAttention(Module):
    """Separate query / key / value projections, then chunked `local_attention`."""

    def __init__(self, config: ReformerConfig, layer_id: int):
        inner = config.num_attention_heads * config.attention_head_size
        self.query = Linear(config.hidden_size, inner, bias=False)
        self.key = Linear(config.hidden_size, inner, bias=False)
        self.value = Linear(config.hidden_size, inner, bias=False)
        self.config, self.layer_id = config, layer_id

    def forward(self, x, attention_mask, num_hashes=None, rotations=None, output_attentions=False):
        c, h = self.config, self.config.num_attention_heads
        q, k, v = (split_heads(p(x), h) for p in (self.query, self.key, self.value))  # 3 x [b, h, t, hd]
        out, weights = local_attention(q, k, v, c.local_attn_chunk_length, c.local_num_chunks_before,
                                       c.local_num_chunks_after, attention_mask,
                                       causal=bool(c.is_decoder), return_weights=output_attentions)
        return merge_heads(out), weights  # [b, t, h*hd]


class ReformerSelfOutput(Module):
    def __init__(self, config: ReformerConfig):
        self.dense = Linear(config.num_attention_heads * config.attention_head_size, config.hidden_size,
                            bias=False)

    def forward(self, x):
        return self.dense(x)  # [b, t, h*hd] -> [b, t, d]


class ReformerAttention(Module):
    """Attention(x) = output.dense(self_attention(layer_norm(x)))."""

    def __init__(self, config: ReformerConfig, layer_id: int):
        self.layer_norm = LayerNorm(config.hidden_size, config.layer_norm_eps)
        kind = config.attn_layers[layer_id]
        self.self_attention = (LSHSelfAttention if kind == "lsh" else LocalSelfAttention)(config, layer_id)
        self.output = ReformerSelfOutput(config)

    def forward(self, x, attention_mask, num_hashes, rotations=None, output_attentions=False):
        a, weights = self.self_attention(self.layer_norm(x), attention_mask, num_hashes, rotations,
                                         output_attentions)
        return self.output(a), weights  # [b, t, d]


class ReformerFeedForwardDense(Module):
    def __init__(self, config: ReformerConfig):
        self.dense = Linear(config.hidden_size, config.feed_forward_size)
        self.act_fn = ops.activation(config.hidden_act)

    def forward(self, x):
        return self.act_fn(self.dense(x))  # [b, t, d] -> [b, t, ff]


class ReformerFeedForwardOutput(Module):
    def __init__(self, config: ReformerConfig):
        self.dense = Linear(config.feed_forward_size, config.hidden_size)

    def forward(self, x):
        return self.dense(x)  # [b, t, ff] -> [b, t, d]


class ChunkReformerFeedForward(Module):
    """FeedForward(x) = output(act(dense(layer_norm(x)))). (transformers can run it a slice of the
    sequence at a time to save memory; the numbers are the same, so minitf runs it whole.)"""

    def __init__(self, config: ReformerConfig):
        self.layer_norm = LayerNorm(config.hidden_size, config.layer_norm_eps)
        self.dense = ReformerFeedForwardDense(config)
        self.output = ReformerFeedForwardOutput(config)

    def forward(self, x):
        return self.output(self.dense(self.layer_norm(x)))  # [b, t, d]


class ReformerLayer(Module):
    """One reversible block: Y1 = X1 + Attention(X2); Y2 = X2 + FeedForward(Y1)."""

    def __init__(self, config: ReformerConfig, layer_id: int):
        self.attention = ReformerAttention(config, layer_id)
        self.feed_forward = ChunkReformerFeedForward(config)

    def forward(self, prev_attn_output, hidden_states, attention_mask, num_hashes, rotations=None,
                 output_attentions=False):
        a, weights = self.attention(hidden_states, attention_mask, num_hashes, rotations, output_attentions)
        attn_output = prev_attn_output + a  # Y1 = X1 + Attention(X2), [b, t, d]
        hidden_states = hidden_states + self.feed_forward(attn_output)  # Y2 = X2 + FeedForward(Y1)
        return attn_output, hidden_states, weights


class ReformerEncoder(Module):
    def __init__(self, config: ReformerConfig):
        self.layers = [ReformerLayer(config, i) for i in range(len(config.attn_layers))]
        self.layer_norm = LayerNorm(2 * config.hidden_size, config.layer_norm_eps)  # over both streams

    def forward(self, x, attention_mask, num_hashes, rotations, output_hidden_states=False,
                 output_attentions=False):
        attn_output, hidden_states = x, x  # both streams start as the embeddings
        all_hidden, all_attentions = [], []
        for layer, layer_rotations in zip(self.layers, rotations):
            if output_hidden_states:
                all_hidden.append(hidden_states)
            attn_output, hidden_states, weights = layer(attn_output, hidden_states, attention_mask,
                                                        num_hashes, layer_rotations, output_attentions)
            if output_attentions:
                all_attentions.append(weights)
        if output_hidden_states:
            all_hidden.append(hidden_states)
        xp = get_array_module(x)
        both = xp.concatenate([attn_output, hidden_states], axis=-1)  # [b, t, 2d]
        return self.layer_norm(both), all_hidden, all_attentions


class ReformerPreTrainedModel(PreTrainedModel):
    config_class = ReformerConfig
    base_model_prefix = "reformer"
    ignore_keys = ("lm_head.decoder.bias",)  # older checkpoints store the bias under both names

    def init_weights(self, seed: int = 0, std: float | None = None):
        """Random weights as transformers draws them; the axial factors get std axial_norm_std."""
        super().init_weights(seed, std)
        rng = np.random.default_rng(seed + 1)
        for name, p in self.named_parameters():
            if ".position_embeddings.weights." in "." + name:
                p[...] = rng.normal(0.0, self.config.axial_norm_std, size=p.shape).astype(p.dtype)
        return self


class ReformerModel(ReformerPreTrainedModel):
    """The bare Reformer: `last_hidden_state` [b, t, 2 * hidden_size]."""

    def __init__(self, config: ReformerConfig):
        check_config(config)
        self.config = config
        self.embeddings = ReformerEmbeddings(config)
        self.encoder = ReformerEncoder(config)

    # -- inputs ------------------------------------------------------------------------------
    def _lsh_layers(self):
        return [layer.attention.self_attention for layer in self.encoder.layers
                if isinstance(layer.attention.self_attention, LSHSelfAttention)]

    def _resolve_num_buckets(self, seq_len: int):
        """num_buckets=None: pick it from the (padded) length the first time LSH layers hash,
        and keep it in the config, as transformers does."""
        cfg = self.config
        if cfg.num_buckets is None and self._lsh_layers() and seq_len > cfg.lsh_attn_chunk_length:
            cfg.num_buckets = default_num_buckets(seq_len, cfg.lsh_attn_chunk_length,
                                                  cfg.max_position_embeddings)
            warnings.warn(f"config.num_buckets is not set; set to {cfg.num_buckets} for sequences of "
                          f"{seq_len} tokens (transformers' rule, kept for later calls)",
                          stacklevel=user_stacklevel())

    def _layer_rotations(self, lsh_rotations, num_hashes: int):
        """lsh_rotations (one per LSH layer, or None) -> one entry per layer (None for local)."""
        lsh = self._lsh_layers()
        if lsh_rotations is None:
            return [None] * len(self.encoder.layers)
        if not isinstance(lsh_rotations, (list, tuple)):
            raise ValueError(f"lsh_rotations must be a list with one array per LSH layer "
                             f"({len(lsh)} here), not {type(lsh_rotations).__name__}")
        if len(lsh_rotations) != len(lsh):
            raise ValueError(f"lsh_rotations has {len(lsh_rotations)} arrays, but the model has "
                             f"{len(lsh)} LSH layers (attn_layers={list(self.config.attn_layers)})")
        xp = get_array_module(self.embeddings.word_embeddings.weight)
        by_layer = {}
        for i, (module, r) in enumerate(zip(lsh, lsh_rotations)):
            r = xp.asarray(r, dtype=self.dtype)
            if self.config.num_buckets is not None:
                expected = module.rotation_shape(num_hashes)
            else:  # not known yet (nothing hashed): check what can be checked
                c = self.config
                expected = (c.num_attention_heads, c.attention_head_size, num_hashes) + tuple(r.shape[3:])
            if tuple(r.shape) != tuple(expected) or r.ndim != 4:
                raise ValueError(f"lsh_rotations[{i}] (layer {module.layer_id}) has shape {tuple(r.shape)}, "
                                 f"but needs (heads, head_dim, num_hashes, rotation_size // 2) = "
                                 f"{tuple(expected)}")
            by_layer[module.layer_id] = r
        return [by_layer.get(i) for i in range(len(self.encoder.layers))]

    def _pad(self, n_pad, input_ids, inputs_embeds, attention_mask, position_ids, b, t, xp):
        """Append n_pad padding tokens (pad_token_id, masked out) to every input: [b, t] -> [b, t + n_pad]."""
        pad_id = self.config.pad_token_id if self.config.pad_token_id is not None else 0
        pad_ids = xp.full((b, n_pad), pad_id, dtype=np.int64)  # [b, n_pad]
        if attention_mask is None:
            attention_mask = xp.ones((b, t), dtype=np.int64)
        attention_mask = xp.concatenate([attention_mask, xp.zeros((b, n_pad), attention_mask.dtype)], axis=1)
        if input_ids is not None:
            input_ids = xp.concatenate([input_ids, pad_ids], axis=1)  # [b, T]
        else:
            pad_embeds = self.embeddings.word_embeddings(pad_ids).astype(inputs_embeds.dtype)
            inputs_embeds = xp.concatenate([inputs_embeds, pad_embeds], axis=1)  # [b, T, d]
        if position_ids is not None:  # the padding continues the positions
            more = xp.broadcast_to(xp.arange(t, t + n_pad), (b, n_pad))
            position_ids = xp.concatenate([position_ids, more], axis=1)  # [b, T]
        return input_ids, inputs_embeds, attention_mask, position_ids

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, inputs_embeds=None,
                 num_hashes=None, lsh_rotations=None, output_hidden_states=False,
                 output_attentions=False, return_dict=True):
        cfg = self.config
        xp = get_array_module(self.embeddings.word_embeddings.weight)
        input_ids, inputs_embeds = check_inputs(input_ids, inputs_embeds, xp)
        b, t = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
        if input_ids is not None:
            check_ids(input_ids, cfg.vocab_size, "input_ids", "vocab_size")
        num_hashes = cfg.num_hashes if num_hashes is None else num_hashes
        if not isinstance(num_hashes, (int, np.integer)) or isinstance(num_hashes, bool) or num_hashes < 1:
            raise ValueError(f"num_hashes must be an integer >= 1 (got {num_hashes!r})")
        attention_mask = check_key_mask(attention_mask, b, t, xp)  # [b, t] bool, or None
        if position_ids is not None:
            position_ids = xp.asarray(position_ids)
            if position_ids.shape not in ((t,), (1, t), (b, t)):
                raise ValueError(f"position_ids has shape {tuple(position_ids.shape)}; expected {(b, t)} "
                                 f"(or {(t,)} for every row)")
            position_ids = xp.broadcast_to(position_ids.reshape(-1, t), (b, t))  # [b, t]

        # pad to a multiple of the chunk lengths, as transformers does at inference
        multiple, shortest = chunk_lengths(cfg)
        n_pad = (multiple - t % multiple) if (t % multiple and t > shortest) else 0
        if n_pad:
            input_ids, inputs_embeds, attention_mask, position_ids = self._pad(
                n_pad, input_ids, inputs_embeds, attention_mask, position_ids, b, t, xp)
        T = t + n_pad
        padded = f" (after padding {t} tokens to {T}, a multiple of the chunk lengths)" if n_pad else ""
        if T > cfg.max_position_embeddings:
            raise ValueError(f"sequence length {T}{padded} exceeds max_position_embeddings="
                             f"{cfg.max_position_embeddings}")
        if cfg.axial_pos_embds:
            l1, l2 = cfg.axial_pos_shape
            if T > l1 * l2:
                raise ValueError(f"sequence length {T}{padded} does not fit axial_pos_shape=({l1}, {l2}): "
                                 f"the axial positions cover {l1 * l2} tokens")
        if position_ids is None:
            position_ids = xp.broadcast_to(xp.arange(T), (b, T))  # [b, T]
        else:
            check_ids(position_ids, cfg.max_position_embeddings, "position_ids", "max_position_embeddings")
        self._resolve_num_buckets(T)
        rotations = self._layer_rotations(lsh_rotations, num_hashes)

        x = self.embeddings(input_ids, position_ids, inputs_embeds)  # [b, T, d]
        x = x.astype(self.dtype, copy=False)
        h, all_hidden, all_attentions = self.encoder(x, attention_mask, num_hashes, rotations,
                                                     output_hidden_states, output_attentions)
        return ModelOutput(
            last_hidden_state=h[:, :t],  # [b, t, 2d]
            hidden_states=tuple(s[:, :t] for s in all_hidden) if output_hidden_states else None,
            attentions=tuple(all_attentions) if output_attentions else None)


class ReformerOnlyLMHead(Module):
    """Scores over the vocabulary from both streams: decoder [V, 2d] (not tied to the input
    embeddings, which are [V, d]) plus `bias`."""

    def __init__(self, config: ReformerConfig):
        self.decoder = Linear(2 * config.hidden_size, config.vocab_size, bias=False)
        self.bias = np.zeros((config.vocab_size,), np.float32)

    def forward(self, x):
        return self.decoder(x) + self.bias  # [b, t, 2d] -> [b, t, V]


def _body_kwargs(input_ids, attention_mask, position_ids, inputs_embeds, num_hashes, lsh_rotations,
                 output_hidden_states, output_attentions):
    return dict(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                inputs_embeds=inputs_embeds, num_hashes=num_hashes, lsh_rotations=lsh_rotations,
                output_hidden_states=output_hidden_states, output_attentions=output_attentions)


class ReformerModelWithLMHead(ReformerPreTrainedModel, GenerationMixin):
    """The causal language model (is_decoder=True): logits [b, t, vocab].

    `generate()` works as for GPT-2, without a KV cache: each step recomputes the whole
    sequence (LSH buckets and chunks depend on all of it). `num_hashes=` and `lsh_rotations=`
    pass through generate() to every step."""

    def __init__(self, config: ReformerConfig):
        if not config.is_decoder:
            raise ValueError("ReformerModelWithLMHead is a causal language model: it needs is_decoder=True "
                             "(use ReformerForMaskedLM for a bidirectional model)")
        for kind in ("lsh", "local"):
            if kind in config.attn_layers and getattr(config, f"{kind}_num_chunks_after"):
                raise ValueError(f"{kind}_num_chunks_after must be 0 in a causal model (got "
                                 f"{getattr(config, f'{kind}_num_chunks_after')}): later chunks are all "
                                 f"masked anyway")
        self.config = config
        self.reformer = ReformerModel(config)
        self.lm_head = ReformerOnlyLMHead(config)

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, inputs_embeds=None,
                 num_hashes=None, lsh_rotations=None, output_hidden_states=False,
                 output_attentions=False, return_dict=True):
        out = self.reformer(**_body_kwargs(input_ids, attention_mask, position_ids, inputs_embeds, num_hashes,
                                           lsh_rotations, output_hidden_states, output_attentions))
        return ModelOutput(logits=self.lm_head(out.last_hidden_state),  # [b, t, V]
                           hidden_states=out.hidden_states, attentions=out.attentions)


class ReformerForMaskedLM(ReformerPreTrainedModel):
    """The bidirectional masked language model (is_decoder=False): logits [b, t, vocab]."""

    def __init__(self, config: ReformerConfig):
        if config.is_decoder:
            raise ValueError("ReformerForMaskedLM attends in both directions: it needs is_decoder=False")
        self.config = config
        self.reformer = ReformerModel(config)
        self.lm_head = ReformerOnlyLMHead(config)

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, inputs_embeds=None,
                 num_hashes=None, lsh_rotations=None, output_hidden_states=False,
                 output_attentions=False, return_dict=True):
        out = self.reformer(**_body_kwargs(input_ids, attention_mask, position_ids, inputs_embeds, num_hashes,
                                           lsh_rotations, output_hidden_states, output_attentions))
        return ModelOutput(logits=self.lm_head(out.last_hidden_state),  # [b, t, V]
                           hidden_states=out.hidden_states, attentions=out.attentions)
