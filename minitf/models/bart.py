"""BART (Lewis et al. 2019): a BERT-like encoder reads the source, a GPT-like decoder writes
the target, and cross-attention lets every target position look at the whole source.

    source ids -> shared[ids] * embed_scale + positions[2 + i] -> layernorm_embedding
               -> encoder_layers x EncoderLayer                         -> encoder states
    target ids -> shared[ids] * embed_scale + positions[2 + j] -> layernorm_embedding
               -> decoder_layers x DecoderLayer(., encoder states)    -> @ shared.T + final_logits_bias

    EncoderLayer(x):    x = LN(x + SelfAttention(x))                 (self_attn_layer_norm)
                        x = LN(x + fc2(act(fc1(x))))                  (final_layer_norm)
    DecoderLayer(y, s): y = LN(y + CausalSelfAttention(y))            (self_attn_layer_norm)
                        y = LN(y + CrossAttention(q=y, k=v=s))        (encoder_attn_layer_norm)
                        y = LN(y + fc2(act(fc1(y))))                  (final_layer_norm)

Post-norm layers as in BERT. One embedding table (`shared`) serves the encoder, the decoder
and the output projection; the learned position tables have 2 extra rows because BART's
positions start at 2 (a fairseq left-over kept by the checkpoints); `scale_embedding`
multiplies the token embeddings by sqrt(d_model).

    >>> import numpy as np
    >>> from minitf import AutoModelForSeq2SeqLM
    >>> model = AutoModelForSeq2SeqLM.from_pretrained("weights/tiny-bart")
    >>> src = np.array([[0, 31, 414, 2]])                   # <s> ... </s>
    >>> out = model(input_ids=src, decoder_input_ids=np.array([[2, 0, 31]]))
    >>> out.logits.shape, out.encoder_last_hidden_state.shape   # [b, tgt, vocab], [b, src, d]
    ((1, 3, 1000), (1, 4, 32))
    >>> model.generate(src, max_new_tokens=5, num_beams=1).shape[0]
    1

Attribute names are the checkpoint names (`model.decoder.layers.0.encoder_attn.k_proj.weight`).
Marian (marian.py) is the same network with static sinusoidal positions and no embedding
layer norm; it reuses every class here.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..attention import (causal_attention, causal_mask, merge_heads, padding_mask,
                         scaled_dot_product_attention, split_heads)
from ..backend import get_array_module
from ..config import BartConfig
from ..generation.encoder_decoder import EncoderDecoderGenerationMixin
from ..generation.kv_cache import EncoderDecoderCache
from ..inputs import check_attention_mask, check_ids, check_inputs, check_key_mask, layer_head_mask
from ..modeling import EncoderPreTrainedModel, Embedding, LayerNorm, Linear, Module, ModelOutput


# -- attention -------------------------------------------------------------------------------------
def _repeat_factor(x) -> int:
    """r such that the rows of `x` come in runs of r equal rows (x[0] = ... = x[r - 1], ...);
    1 when they do not. generate() repeats each source's encoder states for its beams."""
    n = x.shape[0]
    r = 1
    while r < n and bool((x[r] == x[0]).all()):
        r += 1
    if r == 1 or n % r:
        return 1
    grouped = x.reshape(n // r, r, *x.shape[1:])  # [sources, r, ...]
    return r if bool((grouped == grouped[:, :1]).all()) else 1


def _grouped_attention(q, k, v, mask, scale):
    """Attention for few queries per row (a decode step): q [b, h, t, hd] against k, v
    [b / r, h, src, hd], where each group of r consecutive rows (the beams of one source)
    reads the same keys and values. The r rows' queries are stacked onto the query axis, so a
    source's keys are read once for all its beams, by BLAS (faster for one query than the
    fused kernel's single-threaded one-query loop: 16 rows x 256 keys x 12 heads, 2.7 vs 7.0 ms).
    mask: bool [b or 1, 1, 1, src] (equal within a group) or None. Returns [b, h, t, hd]."""
    b, h, t, hd = q.shape
    g = k.shape[0]
    r = b // g
    if r > 1:  # [g * r, h, t, hd] -> [g, h, r * t, hd]
        q = q.reshape(g, r, h, t, hd).transpose(0, 2, 1, 3, 4).reshape(g, h, r * t, hd)
        mask = mask[::r] if mask is not None and mask.shape[0] > 1 else mask  # [g or 1, 1, 1, src]
    scores = (q * q.dtype.type(scale)) @ k.swapaxes(-1, -2)  # [g, h, r * t, src]
    out = ops.softmax(scores, inplace=True, mask=mask) @ v  # [g, h, r * t, hd]
    if r > 1:  # [g, h, r * t, hd] -> [g * r, h, t, hd]
        out = out.reshape(g, h, r, t, hd).transpose(0, 2, 1, 3, 4).reshape(b, h, t, hd)
    return out


def _group_uniform(mask, r: int) -> bool:
    """Whether each run of r rows of `mask` ([b, 1, 1, src] bool, or None) is one mask."""
    if mask is None or r == 1 or mask.shape[0] == 1:  # one mask for all rows
        return True
    grouped = mask.reshape(mask.shape[0] // r, r, -1)  # [g, r, src]
    return bool((grouped == grouped[:, :1]).all())


class BartAttention(Module):
    """Multi-head attention with separate q/k/v projections. Self-attention reads keys and values
    from `x`; cross-attention (`is_cross`) from the encoder states, once per generation (cached).
    Rows with the same encoder states (the beams of one source in generate()) share one copy
    of the cross-attention keys and values: computed once per source, read once per step."""

    def __init__(self, d: int, n_heads: int, layer_idx: int, is_cross: bool = False):
        if d % n_heads:
            raise ValueError(f"d_model={d} is not divisible by the number of heads ({n_heads})")
        self.k_proj = Linear(d, d)
        self.v_proj = Linear(d, d)
        self.q_proj = Linear(d, d)
        self.out_proj = Linear(d, d)
        self.n_heads = n_heads
        self.scale = (d // n_heads) ** -0.5
        self.layer_idx = layer_idx
        self.is_cross = is_cross

    def forward(self, x, mask=None, encoder_states=None, cache=None, layer_head=None,
                output_attentions=False, causal=False):
        q = split_heads(self.q_proj(x), self.n_heads)  # [b, t, d] -> [b, h, t, hd]
        if self.is_cross:
            cached = cache.cross_attention[self.layer_idx] if cache is not None else None
            if cached is None:  # the source's keys and values: computed once, then reused
                r = _repeat_factor(encoder_states)  # beams of a source: one copy for them all
                src_states = encoder_states[::r] if r > 1 else encoder_states  # [b / r, src, d]
                k = split_heads(self.k_proj(src_states), self.n_heads)  # [b / r, h, src, hd]
                v = split_heads(self.v_proj(src_states), self.n_heads)
                xp = get_array_module(k)
                # laid out for the per-step products q @ k^T and p @ v: k^T [b / r, h, hd, src]
                # and v contiguous (q @ k^T through a transposed view was 7x slower at src 512)
                cached = (xp.ascontiguousarray(k.swapaxes(-1, -2)).swapaxes(-1, -2),
                          xp.ascontiguousarray(v))
                if cache is not None:
                    cache.cross_attention[self.layer_idx] = cached
            k, v = cached
            r = q.shape[0] // k.shape[0]
            if not output_attentions and layer_head is None and q.shape[2] == 1 and _group_uniform(mask, r):
                out = _grouped_attention(q, k, v, mask, self.scale)  # [b, h, 1, hd]
                return self.out_proj(merge_heads(out)), None  # [b, t, d]
            if r > 1:  # every row its own copy: [b / r, h, src, hd] -> [b, h, src, hd]
                xp = get_array_module(k)
                k, v = xp.repeat(k, r, axis=0), xp.repeat(v, r, axis=0)
        else:
            k = split_heads(self.k_proj(x), self.n_heads)  # [b, h, t, hd]
            v = split_heads(self.v_proj(x), self.n_heads)
            if cache is not None:
                k, v = cache.update(self.layer_idx, k, v)  # [b, h, past + t, hd]
        if causal and not output_attentions and layer_head is None:
            out, weights = causal_attention(q, k, v, mask, self.scale), None  # skips the future
        else:
            out, weights = scaled_dot_product_attention(q, k, v, mask, self.scale,
                                                        return_weights=output_attentions or layer_head is not None)
            if layer_head is not None:  # head_mask silences heads after the softmax
                weights = weights * layer_head
                out = weights @ v
        return self.out_proj(merge_heads(out)), (weights if output_attentions else None)  # [b, t, d]


# -- layers ----------------------------------------------------------------------------------------
class BartEncoderLayer(Module):
    def __init__(self, config: BartConfig, layer_idx: int):
        d = config.d_model
        self.self_attn = BartAttention(d, config.encoder_attention_heads, layer_idx)
        self.self_attn_layer_norm = LayerNorm(d)
        self.fc1 = Linear(d, config.encoder_ffn_dim)
        self.fc2 = Linear(config.encoder_ffn_dim, d)
        self.final_layer_norm = LayerNorm(d)
        self.activation_function = config.activation_function
        ops.activation(config.activation_function)  # an unknown name fails at construction

    def forward(self, x, mask, layer_head=None, output_attentions=False):
        a, weights = self.self_attn(x, mask, layer_head=layer_head, output_attentions=output_attentions)
        x = self.self_attn_layer_norm(a, residual=x)  # LN(x + attention), [b, t, d]
        h = self.fc1(x, activation=self.activation_function)  # [b, t, ffn]
        return self.final_layer_norm(self.fc2(h), residual=x), weights  # [b, t, d]


class BartDecoderLayer(Module):
    def __init__(self, config: BartConfig, layer_idx: int):
        d = config.d_model
        self.self_attn = BartAttention(d, config.decoder_attention_heads, layer_idx)
        self.self_attn_layer_norm = LayerNorm(d)
        self.encoder_attn = BartAttention(d, config.decoder_attention_heads, layer_idx, is_cross=True)
        self.encoder_attn_layer_norm = LayerNorm(d)
        self.fc1 = Linear(d, config.decoder_ffn_dim)
        self.fc2 = Linear(config.decoder_ffn_dim, d)
        self.final_layer_norm = LayerNorm(d)
        self.activation_function = config.activation_function
        ops.activation(config.activation_function)

    def forward(self, y, self_mask, encoder_states, cross_mask, cache=None, layer_head=None,
                cross_layer_head=None, output_attentions=False):
        a, self_w = self.self_attn(y, self_mask, cache=cache, layer_head=layer_head,
                                   output_attentions=output_attentions, causal=True)
        y = self.self_attn_layer_norm(a, residual=y)  # [b, t, d]
        c, cross_w = self.encoder_attn(y, cross_mask, encoder_states=encoder_states, cache=cache,
                                       layer_head=cross_layer_head, output_attentions=output_attentions)
        y = self.encoder_attn_layer_norm(c, residual=y)  # [b, t, d]
        h = self.fc1(y, activation=self.activation_function)  # [b, t, ffn]
        return self.final_layer_norm(self.fc2(h), residual=y), self_w, cross_w  # [b, t, d]


# -- embeddings ------------------------------------------------------------------------------------
class BartLearnedPositionalEmbedding(Embedding):
    """Learned positions, looked up at position + 2 (`offset`): the table has 2 extra rows."""

    offset = 2

    def __init__(self, n_positions: int, d: int):
        super().__init__(n_positions + self.offset, d)

    def positions(self, past: int, t: int, xp):
        return self(xp.arange(past, past + t) + self.offset)  # [t, d]


class _Stack(Module):
    """What the encoder and decoder share: token embeddings (the model's `shared` table),
    `embed_scale`, the position table, and the embedding layer norm (BART has one, Marian not)."""

    positions_class = BartLearnedPositionalEmbedding
    has_embedding_norm = True

    def _init_embeddings(self, config, embed_tokens):
        self.config = config
        self.embed_tokens = embed_tokens
        self.embed_scale = float(np.sqrt(config.d_model)) if config.scale_embedding else 1.0
        self.embed_positions = self.positions_class(config.max_position_embeddings, config.d_model)
        self.layernorm_embedding = LayerNorm(config.d_model) if self.has_embedding_norm else None


def _embed(stack, input_ids, inputs_embeds, past: int, xp):
    """token embedding * embed_scale + positions (+ layernorm_embedding when the stack has one)."""
    if inputs_embeds is None:
        inputs_embeds = stack.embed_tokens(input_ids)  # [b, t, d]
    if stack.embed_scale != 1.0:
        inputs_embeds = inputs_embeds * inputs_embeds.dtype.type(stack.embed_scale)
    t = inputs_embeds.shape[1]
    x = inputs_embeds + stack.embed_positions.positions(past, t, xp)  # [b, t, d] + [t, d]
    if getattr(stack, "layernorm_embedding", None) is not None:
        x = stack.layernorm_embedding(x)
    return x


def _check_length(t: int, limit: int, what: str):
    if t > limit:
        raise ValueError(f"{what} has {t} tokens, but the model has max_position_embeddings="
                         f"{limit}; truncate it (tokenizer: truncation=True)")


# -- encoder and decoder stacks ---------------------------------------------------------------------
class BartEncoder(_Stack):
    def __init__(self, config: BartConfig, embed_tokens: Embedding):
        self._init_embeddings(config, embed_tokens)
        self.layers = [BartEncoderLayer(config, i) for i in range(config.encoder_layers)]

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None,
                output_attentions=False, output_hidden_states=False, return_dict=True):
        xp = get_array_module(self.embed_tokens.weight)
        input_ids, inputs_embeds = check_inputs(input_ids, inputs_embeds, xp)
        b, t = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
        if input_ids is not None:
            check_ids(input_ids, self.embed_tokens.weight.shape[0], "input_ids", "vocab_size")
        _check_length(t, self.config.max_position_embeddings, "the source (input_ids)")
        mask = check_attention_mask(attention_mask, b, t, xp)  # [b, 1, 1, t] bool, or None
        x = _embed(self, input_ids, inputs_embeds, 0, xp).astype(self.embed_tokens.weight.dtype, copy=False)
        hidden, attentions = [], []
        for i, layer in enumerate(self.layers):
            if output_hidden_states:
                hidden.append(x)
            x, w = layer(x, mask, layer_head_mask(head_mask, len(self.layers), i), output_attentions)
            if output_attentions:
                attentions.append(w)
        if output_hidden_states:
            hidden.append(x)
        return ModelOutput(last_hidden_state=x,
                           hidden_states=tuple(hidden) if output_hidden_states else None,
                           attentions=tuple(attentions) if output_attentions else None)


class BartDecoder(_Stack):
    def __init__(self, config: BartConfig, embed_tokens: Embedding):
        self._init_embeddings(config, embed_tokens)
        self.layers = [BartDecoderLayer(config, i) for i in range(config.decoder_layers)]

    def forward(self, input_ids=None, attention_mask=None, encoder_hidden_states=None,
                encoder_attention_mask=None, head_mask=None, cross_attn_head_mask=None,
                past_key_values=None, inputs_embeds=None, use_cache=None, output_attentions=False,
                output_hidden_states=False, return_dict=True):
        xp = get_array_module(self.embed_tokens.weight)
        input_ids, inputs_embeds = check_inputs(input_ids, inputs_embeds, xp)
        b, t = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
        if input_ids is not None:
            check_ids(input_ids, self.embed_tokens.weight.shape[0], "decoder_input_ids",
                      "the decoder's vocab_size")
        if encoder_hidden_states is None:
            raise ValueError("the decoder needs the encoder's output (encoder_hidden_states): "
                             "pass input_ids or encoder_outputs to the model")
        cache = _as_cache(past_key_values, len(self.layers)) if (use_cache or past_key_values is not None) else None
        past = cache.get_seq_length() if cache is not None else 0
        _check_length(past + t, self.config.max_position_embeddings, "the target (decoder_input_ids)")

        self_mask = causal_mask(t, past + t, xp)  # [t, past + t]
        dec_mask = check_key_mask(attention_mask, b, past + t, xp, name="decoder_attention_mask",
                                  against="decoder_input_ids", layout="(batch, past + new tokens)")
        if dec_mask is not None:
            self_mask = self_mask & padding_mask(dec_mask)  # [b, 1, t, past + t]
        src = encoder_hidden_states.shape[1]
        cross = check_key_mask(encoder_attention_mask, b, src, xp, against="the source (input_ids)")
        cross_mask = padding_mask(cross) if cross is not None else None  # [b, 1, 1, src]

        y = _embed(self, input_ids, inputs_embeds, past, xp).astype(self.embed_tokens.weight.dtype, copy=False)
        hidden, self_attns, cross_attns = [], [], []
        n = len(self.layers)
        for i, layer in enumerate(self.layers):
            if output_hidden_states:
                hidden.append(y)
            y, sw, cw = layer(y, self_mask, encoder_hidden_states, cross_mask, cache,
                              layer_head_mask(head_mask, n, i), layer_head_mask(cross_attn_head_mask, n, i),
                              output_attentions)
            if output_attentions:
                self_attns.append(sw)
                cross_attns.append(cw)
        if output_hidden_states:
            hidden.append(y)
        return ModelOutput(last_hidden_state=y, past_key_values=cache if use_cache else None,
                           hidden_states=tuple(hidden) if output_hidden_states else None,
                           attentions=tuple(self_attns) if output_attentions else None,
                           cross_attentions=tuple(cross_attns) if output_attentions else None)


def _as_cache(past_key_values, n_layer: int):
    if past_key_values is None:
        return EncoderDecoderCache(n_layer)
    if isinstance(past_key_values, EncoderDecoderCache):
        return past_key_values
    if isinstance(past_key_values, (tuple, list)):
        return EncoderDecoderCache.from_legacy(past_key_values)
    raise TypeError(f"past_key_values must be an EncoderDecoderCache or the legacy tuple of "
                    f"(self k, self v, cross k, cross v) per layer (got {type(past_key_values).__name__})")


def shift_tokens_right(ids, pad_token_id: int, decoder_start_token_id: int):
    """The decoder's input for a target: start token, then the target without its last token
    (teacher forcing); -100 (ignored labels) becomes padding.

        >>> shift_tokens_right(np.array([[5, 6, 2]]), pad_token_id=1, decoder_start_token_id=2)
        array([[2, 5, 6]])
    """
    if decoder_start_token_id is None:
        raise ValueError("decoder_start_token_id is not set in the config: it is needed to build "
                         "decoder_input_ids from input_ids or labels")
    shifted = np.empty_like(ids)
    shifted[:, 1:] = ids[:, :-1]
    shifted[:, 0] = decoder_start_token_id
    if pad_token_id is not None:
        shifted[shifted == -100] = pad_token_id
    return shifted


def _encoder_states(encoder_outputs):
    """encoder_outputs as a model returns it, a dict, or a tuple whose first item is the states."""
    if isinstance(encoder_outputs, dict):
        return ModelOutput(**encoder_outputs)
    if isinstance(encoder_outputs, (tuple, list)):
        return ModelOutput(last_hidden_state=encoder_outputs[0],
                           hidden_states=encoder_outputs[1] if len(encoder_outputs) > 1 else None,
                           attentions=encoder_outputs[2] if len(encoder_outputs) > 2 else None)
    return ModelOutput(last_hidden_state=encoder_outputs)


# -- the models ------------------------------------------------------------------------------------
class BartPreTrainedModel(EncoderPreTrainedModel):
    """Loading as for the encoders (a base checkpoint into a model with a head, fresh heads with a
    warning). The encoder's and decoder's `embed_tokens` *are* `shared` (aliases); the output
    projection is tied to it when tie_word_embeddings (the default)."""

    config_class = BartConfig
    base_model_prefix = "model"
    ignore_keys = ("*embed_positions._float_tensor",)


class BartModel(BartPreTrainedModel):
    """Encoder + decoder, no head: `last_hidden_state` is the decoder's, with every
    `encoder_*`, `decoder_*` and `cross_attentions` output of transformers' Seq2SeqModelOutput."""

    encoder_class = BartEncoder
    decoder_class = BartDecoder
    aliased_keys = {"encoder.embed_tokens.weight": "shared.weight",
                    "decoder.embed_tokens.weight": "shared.weight"}

    def __init__(self, config: BartConfig):
        self.config = config
        self.shared = Embedding(config.vocab_size, config.d_model)
        self.encoder = self.encoder_class(config, self.shared)
        self.decoder = self.decoder_class(config, self.shared)

    def get_encoder(self):
        return self.encoder

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None,
                decoder_attention_mask=None, head_mask=None, decoder_head_mask=None,
                cross_attn_head_mask=None, encoder_outputs=None, past_key_values=None,
                inputs_embeds=None, decoder_inputs_embeds=None, use_cache=None,
                output_attentions=False, output_hidden_states=False, return_dict=True):
        cfg = self.config
        if decoder_input_ids is None and decoder_inputs_embeds is None:
            if input_ids is None:
                raise ValueError("pass decoder_input_ids (the target so far), or input_ids to "
                                 "derive them from (shifted right, as transformers does)")
            ids = np.asarray(input_ids)
            decoder_input_ids = shift_tokens_right(ids if ids.ndim == 2 else ids[None], cfg.pad_token_id,
                                                   cfg.decoder_start_token_id)
        if encoder_outputs is None:
            encoder_outputs = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                           head_mask=head_mask, inputs_embeds=inputs_embeds,
                                           output_attentions=output_attentions,
                                           output_hidden_states=output_hidden_states)
        else:
            encoder_outputs = _encoder_states(encoder_outputs)
        use_cache = cfg.use_cache if use_cache is None else use_cache
        dec = self.decoder(input_ids=decoder_input_ids, attention_mask=decoder_attention_mask,
                           encoder_hidden_states=encoder_outputs.last_hidden_state,
                           encoder_attention_mask=attention_mask, head_mask=decoder_head_mask,
                           cross_attn_head_mask=cross_attn_head_mask, past_key_values=past_key_values,
                           inputs_embeds=decoder_inputs_embeds, use_cache=use_cache,
                           output_attentions=output_attentions,
                           output_hidden_states=output_hidden_states)
        return ModelOutput(
            last_hidden_state=dec.last_hidden_state, past_key_values=dec.past_key_values,
            decoder_hidden_states=dec.hidden_states, decoder_attentions=dec.attentions,
            cross_attentions=dec.cross_attentions,
            encoder_last_hidden_state=encoder_outputs.last_hidden_state,
            encoder_hidden_states=encoder_outputs.hidden_states,
            encoder_attentions=encoder_outputs.attentions)


def _seq2seq_loss(logits, labels):
    """Mean cross-entropy over the labels that are not -100, as transformers' CrossEntropyLoss."""
    labels = np.asarray(labels)
    logp = ops.log_softmax(np.asarray(logits, np.float32))  # [b, t, V]
    keep = labels != -100
    picked = np.take_along_axis(logp, np.where(keep, labels, 0)[..., None], axis=-1)[..., 0]  # [b, t]
    return float(-(picked * keep).sum() / max(int(keep.sum()), 1))


class BartForConditionalGeneration(EncoderDecoderGenerationMixin, BartPreTrainedModel):
    """Summarisation / translation / text-to-text: BartModel + lm_head (tied to `shared`) +
    `final_logits_bias`; `generate()` runs the encoder once and decodes (encoder_decoder.py)."""

    model_class = BartModel
    tied_keys = {"lm_head.weight": "model.shared.weight"}

    def __init__(self, config: BartConfig):
        self.config = config
        self.model = self.model_class(config)
        self.aliased_keys = {"model." + k: "model." + v for k, v in self.model.aliased_keys.items()}
        vocab = self.output_vocab_size(config)
        self.lm_head = Linear(config.d_model, vocab, bias=False)
        self.final_logits_bias = np.zeros((1, vocab), np.float32)  # a buffer, saved in checkpoints

    @staticmethod
    def output_vocab_size(config) -> int:
        return config.vocab_size

    def get_encoder(self):
        return self.model.encoder

    def load_weights(self, tensors: dict, source: str = "checkpoint", strict: bool = True):
        if "final_logits_bias" not in tensors:  # optional in checkpoints: zeros, as transformers
            tensors = {**tensors, "final_logits_bias": np.zeros_like(self.final_logits_bias)}
        return super().load_weights(tensors, source, strict)

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None,
                decoder_attention_mask=None, head_mask=None, decoder_head_mask=None,
                cross_attn_head_mask=None, encoder_outputs=None, past_key_values=None,
                inputs_embeds=None, decoder_inputs_embeds=None, labels=None, use_cache=None,
                output_attentions=False, output_hidden_states=False, return_dict=True):
        cfg = self.config
        if labels is not None:
            use_cache = False
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = shift_tokens_right(np.asarray(labels), cfg.pad_token_id,
                                                       cfg.decoder_start_token_id)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         decoder_input_ids=decoder_input_ids,
                         decoder_attention_mask=decoder_attention_mask, head_mask=head_mask,
                         decoder_head_mask=decoder_head_mask, cross_attn_head_mask=cross_attn_head_mask,
                         encoder_outputs=encoder_outputs, past_key_values=past_key_values,
                         inputs_embeds=inputs_embeds, decoder_inputs_embeds=decoder_inputs_embeds,
                         use_cache=use_cache, output_attentions=output_attentions,
                         output_hidden_states=output_hidden_states)
        logits = self.lm_head(out.last_hidden_state) + self.final_logits_bias  # [b, t, V]
        return ModelOutput(
            loss=_seq2seq_loss(logits, labels) if labels is not None else None, logits=logits,
            past_key_values=out.past_key_values, decoder_hidden_states=out.decoder_hidden_states,
            decoder_attentions=out.decoder_attentions, cross_attentions=out.cross_attentions,
            encoder_last_hidden_state=out.encoder_last_hidden_state,
            encoder_hidden_states=out.encoder_hidden_states, encoder_attentions=out.encoder_attentions)


class BartClassificationHead(Module):
    """dense -> tanh -> out_proj, on the decoder state at the last </s> of each sequence."""

    def __init__(self, d: int, n_labels: int):
        self.dense = Linear(d, d)
        self.out_proj = Linear(d, n_labels)

    def forward(self, x):
        h = self.dense(x)  # [b, d]
        return self.out_proj(get_array_module(h).tanh(h))  # [b, d] -> [b, num_labels]


class BartForSequenceClassification(BartPreTrainedModel):
    """A label for a text (or a premise/hypothesis pair: BART-MNLI's zero-shot classifier). The
    whole text goes to the encoder and, shifted right, to the decoder; the decoder state at the
    last </s> is classified. Every row must hold the same number of </s> (as transformers)."""

    def __init__(self, config: BartConfig):
        self.config = config
        self.model = BartModel(config)
        self.aliased_keys = {"model." + k: "model." + v for k, v in self.model.aliased_keys.items()}
        self.classification_head = BartClassificationHead(config.d_model, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None,
                decoder_attention_mask=None, head_mask=None, decoder_head_mask=None,
                cross_attn_head_mask=None, encoder_outputs=None, inputs_embeds=None,
                decoder_inputs_embeds=None, labels=None, use_cache=None, output_attentions=False,
                output_hidden_states=False, return_dict=True):
        if input_ids is None:
            raise ValueError("BartForSequenceClassification needs input_ids: it reads the decoder "
                             "state at each sequence's last </s> token")
        ids = np.asarray(input_ids)
        ids = ids if ids.ndim == 2 else ids[None]
        out = self.model(input_ids=ids, attention_mask=attention_mask,
                         decoder_input_ids=decoder_input_ids,
                         decoder_attention_mask=decoder_attention_mask, head_mask=head_mask,
                         decoder_head_mask=decoder_head_mask, cross_attn_head_mask=cross_attn_head_mask,
                         encoder_outputs=encoder_outputs, inputs_embeds=inputs_embeds,
                         decoder_inputs_embeds=decoder_inputs_embeds, use_cache=False,
                         output_attentions=output_attentions, output_hidden_states=output_hidden_states)
        eos = ids == self.config.eos_token_id  # [b, t]
        counts = eos.sum(axis=1)
        if (counts == 0).any() or len(set(counts.tolist())) > 1:
            raise ValueError(f"All examples must have the same number of <eos> tokens "
                             f"(eos_token_id={self.config.eos_token_id}; counts per row: "
                             f"{counts.tolist()}); tokenize with the model's tokenizer so each "
                             f"text ends with </s>")
        last = eos.shape[1] - 1 - np.argmax(eos[:, ::-1], axis=1)  # [b] index of the last </s>
        h = out.last_hidden_state[np.arange(ids.shape[0]), last]  # [b, d]
        logits = self.classification_head(h)  # [b, num_labels]
        return ModelOutput(
            logits=logits, decoder_hidden_states=out.decoder_hidden_states,
            decoder_attentions=out.decoder_attentions, cross_attentions=out.cross_attentions,
            encoder_last_hidden_state=out.encoder_last_hidden_state,
            encoder_hidden_states=out.encoder_hidden_states, encoder_attentions=out.encoder_attentions)
