"""Longformer (Beltagy et al. 2020): RoBERTa whose self-attention is local + global, so a
document of thousands of tokens costs O(n * window), not O(n^2).

    ids -> RoBERTa embeddings -> L x LongformerLayer -> (pooler | lm_head | classifier)

    LongformerLayer(x):  a = LayerNorm(x + Wo · LocalGlobalAttention(x))
                         y = LayerNorm(a + W2 · act(W1 · a))

Everything but the attention is RoBERTa's (the same modules are reused here). The attention
(`minitf.attention.local_global`) lets every token see `attention_window // 2` tokens on each
side, and lets the tokens of `global_attention_mask` see, and be seen by, every token, through
their own projections `query_global`, `key_global`, `value_global`:

    >>> import numpy as np
    >>> from minitf import LongformerModel
    >>> model = LongformerModel.from_pretrained("weights/tiny-longformer-base")
    >>> ids = np.array([[0, 31, 41, 59, 26, 53, 2]])
    >>> g = np.zeros_like(ids); g[:, 0] = 1               # <s> attends to everything
    >>> out = model(ids, global_attention_mask=g, output_attentions=True)
    >>> out.last_hidden_state.shape, out.attentions[0].shape
    ((1, 7, 32), (1, 4, 7, 10))
    >>> model.config.attention_window[0]                   # 1 global column + 8 + 1 band
    8

`attention_window` is one even int or one per layer. As in transformers, the batch is padded
to a multiple of the largest window (with pad_token_id, attention_mask 0) and the outputs are
cut back to the input's length; `attentions[i]` is [batch, heads, seq, x + window_i + 1] (the x
global columns first, then the band: see local_global.py) and `global_attentions[i]` is
[batch, heads, seq, x], present when the batch has a global token. (transformers leaves
`global_attentions` at the padded length; here it is cut to the input's length like every
other output. The cut-off keys are padding: every real global token gives them weight 0.)
"""
from __future__ import annotations

import numpy as np

from ..attention import merge_heads, sliding_window_attention, split_heads
from ..attention.local_global import check_window
from ..backend import get_array_module
from ..config import LongformerConfig
from ..inputs import as_array, check_ids, check_inputs, check_key_mask, check_token_types, layer_head_mask
from ..modeling import EncoderPreTrainedModel, Linear, Module, ModelOutput
from .bert import BertIntermediate, BertOutput, BertPooler, BertSelfOutput
from .roberta import RobertaClassificationHead, RobertaEmbeddings, RobertaLMHead


def attention_windows(config: LongformerConfig) -> list[int]:
    """config.attention_window (an int, or one per layer) -> one even, positive int per layer."""
    window, n_layers = config.attention_window, config.num_hidden_layers
    if isinstance(window, (list, tuple)):
        if len(window) != n_layers:
            raise ValueError(f"attention_window has {len(window)} entries, but num_hidden_layers="
                             f"{n_layers}: give one window per layer (or a single int)")
        windows = list(window)
    else:
        windows = [window] * n_layers
    for i, w in enumerate(windows):
        try:
            check_window(w)
        except ValueError as err:
            where = f"attention_window[{i}]" if isinstance(window, (list, tuple)) else "attention_window"
            raise ValueError(f"config {where}={w!r}: {err}") from None
    return [int(w) for w in windows]


class LongformerSelfAttention(Module):
    """Local + global multi-head attention. query/key/value serve the sliding window (and the
    global tokens' columns in it); query_global/key_global/value_global serve the rows of the
    global tokens, which attend to every token."""

    def __init__(self, config: LongformerConfig, window: int):
        d, h = config.hidden_size, config.num_attention_heads
        if d % h:
            raise ValueError(f"hidden_size={d} is not divisible by num_attention_heads={h}")
        self.query = Linear(d, d)
        self.key = Linear(d, d)
        self.value = Linear(d, d)
        self.query_global = Linear(d, d)
        self.key_global = Linear(d, d)
        self.value_global = Linear(d, d)
        self.num_attention_heads = h
        self.attention_window = window

    def forward(self, x, real, is_global, output_attentions=False, head_mask=None):
        """x [b, n, d]; real, is_global [b, n] bool -> (out [b, n, d], local weights
        [b, h, n, x + window + 1] or None, global weights [b, h, n, x] or None)."""
        h = self.num_attention_heads
        q = split_heads(self.query(x), h)  # [b, n, d] -> [b, h, n, hd]
        k = split_heads(self.key(x), h)  # [b, h, n, hd]
        v = split_heads(self.value(x), h)  # [b, h, n, hd]
        global_qkv = None
        if is_global.any():  # the global projections are only needed for global rows
            global_qkv = tuple(split_heads(proj(x), h)  # 3 x [b, h, n, hd]
                               for proj in (self.query_global, self.key_global, self.value_global))
        out, local_w, global_w = sliding_window_attention(
            q, k, v, self.attention_window, global_mask=is_global, padding_mask=real,
            global_qkv=global_qkv, return_weights=True)  # [b, h, n, hd]
        if head_mask is not None:  # (w * m) @ v == m * (w @ v) for a per-head m
            m = get_array_module(out).asarray(head_mask, dtype=out.dtype)  # [h, 1, 1]
            out = out * m
            local_w = local_w * m
            global_w = global_w * m if global_w is not None else None
        if not output_attentions:
            local_w = global_w = None
        return merge_heads(out), local_w, global_w  # [b, n, d]


class LongformerAttention(Module):
    def __init__(self, config: LongformerConfig, window: int):
        self.self = LongformerSelfAttention(config, window)
        self.output = BertSelfOutput(config)

    def forward(self, x, real, is_global, output_attentions=False, head_mask=None):
        a, local_w, global_w = self.self(x, real, is_global, output_attentions, head_mask)
        return self.output(a, x), local_w, global_w  # residual + post-norm, [b, n, d]


class LongformerLayer(Module):
    def __init__(self, config: LongformerConfig, window: int):
        self.attention = LongformerAttention(config, window)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, x, real, is_global, output_attentions=False, head_mask=None):
        a, local_w, global_w = self.attention(x, real, is_global, output_attentions, head_mask)
        return self.output(self.intermediate(a), a), local_w, global_w  # [b, n, d]


class LongformerEncoder(Module):
    def __init__(self, config: LongformerConfig):
        self.layer = [LongformerLayer(config, w) for w in attention_windows(config)]

    def forward(self, x, real, is_global, head_mask=None, padding_len=0, output_attentions=False,
                 output_hidden_states=False):
        """x [b, n, d] padded to the windows -> ModelOutput with the `padding_len` positions
        added for the windows cut off again (so every output has the input's length t)."""
        t = x.shape[1] - padding_len
        hidden_states, attentions, global_attentions = [x[:, :t]], [], []
        for i, layer in enumerate(self.layer):
            x, local_w, global_w = layer(x, real, is_global, output_attentions,
                                         layer_head_mask(head_mask, len(self.layer), i))  # [b, n, d]
            hidden_states.append(x[:, :t])
            if output_attentions:
                attentions.append(local_w[:, :, :t])  # [b, h, t, x + window + 1]
                if global_w is not None:
                    global_attentions.append(global_w[:, :, :t])  # [b, h, t, x]
        return ModelOutput(
            last_hidden_state=x[:, :t],
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            attentions=tuple(attentions) if output_attentions else None,
            global_attentions=tuple(global_attentions) if global_attentions else None)


class LongformerModel(EncoderPreTrainedModel):
    """The bare Longformer: `last_hidden_state` [b, t, d], `pooler_output` [b, d], and with
    output_attentions=True `attentions` (local) and `global_attentions`."""

    config_class = LongformerConfig
    base_model_prefix = "longformer"

    def __init__(self, config: LongformerConfig, add_pooling_layer: bool = True):
        self.config = config
        self.attention_windows = attention_windows(config)
        self.embeddings = RobertaEmbeddings(config)
        self.encoder = LongformerEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None

    def forward(self, input_ids=None, attention_mask=None, global_attention_mask=None,
                 head_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
                 output_attentions=False, output_hidden_states=False, return_dict=True,
                 use_cache=None):
        cfg = self.config
        xp = get_array_module(self.embeddings.word_embeddings.weight)
        input_ids, inputs_embeds = check_inputs(input_ids, inputs_embeds, xp)
        b, t = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
        if input_ids is not None:
            check_ids(input_ids, cfg.vocab_size, "input_ids", "vocab_size")
        real = _binary_mask(attention_mask, b, t, "attention_mask", True, xp)  # [b, t] True = token
        # A padding token is never global (transformers multiplies the two masks).
        is_global = _binary_mask(global_attention_mask, b, t, "global_attention_mask", False, xp) & real
        token_type_ids = check_token_types(token_type_ids, b, t, cfg.type_vocab_size, xp)  # [b, t]
        if position_ids is not None:
            position_ids = xp.broadcast_to(as_array(position_ids, "position_ids", xp).reshape(-1, t), (b, t))
            check_ids(position_ids, cfg.max_position_embeddings, "position_ids",
                      "max_position_embeddings")

        # Pad to a multiple of the largest window, as transformers does: padding tokens are
        # masked, so the real tokens' numbers do not depend on it, and the outputs are cut back.
        window = max(self.attention_windows)
        n_pad = (window - t % window) % window

        def pad(a, value):  # [b, t, ...] -> [b, t + n_pad, ...], filled with `value`
            return xp.pad(a, [(0, 0), (0, n_pad)] + [(0, 0)] * (a.ndim - 2), constant_values=value)

        if n_pad:
            real, is_global = pad(real, False), pad(is_global, False)  # [b, n]
            token_type_ids = pad(token_type_ids, 0)
            if position_ids is not None:
                position_ids = pad(position_ids, cfg.pad_token_id)  # as RoBERTa numbers padding
            if input_ids is not None:
                input_ids = pad(input_ids, cfg.pad_token_id)  # [b, n]
            else:  # the padding's vectors only reach padding positions, which are cut off
                pad_vector = self.embeddings.word_embeddings.weight[cfg.pad_token_id]  # [d]
                padding = xp.broadcast_to(pad_vector, (b, n_pad, pad_vector.shape[0]))  # [b, n_pad, d]
                inputs_embeds = xp.concatenate([inputs_embeds, padding], axis=1)  # [b, n, d]
        n = t + n_pad
        if position_ids is None:
            position_ids = self.embeddings.make_position_ids(input_ids, b, n, xp)  # [1 or b, n]

        x = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # [b, n, d]
        x = x.astype(self.dtype, copy=False)
        out = self.encoder(x, real, is_global, head_mask, n_pad, output_attentions,
                           output_hidden_states)
        h = out.last_hidden_state  # [b, t, d]
        return ModelOutput(last_hidden_state=h,
                           pooler_output=self.pooler(h) if self.pooler is not None else None,
                           hidden_states=out.hidden_states, attentions=out.attentions,
                           global_attentions=out.global_attentions)


def _binary_mask(mask, b: int, t: int, name: str, default: bool, xp):
    """A (batch, seq) mask of 0/1 (or booleans) -> bool [b, t]; None -> all `default`."""
    if mask is None:
        return xp.full((b, t), default, dtype=bool)
    return check_key_mask(mask, b, t, xp, name=name)


def _first_token_global(input_ids, inputs_embeds):
    """A global_attention_mask [b, t] with 1 on the first token (<s>) only; None when the
    inputs are missing (the model's input check then says what is wrong)."""
    ref = input_ids if input_ids is not None else inputs_embeds
    if ref is None or np.ndim(ref) == 0:
        return None
    shape = np.shape(ref)
    b, t = (1, shape[0]) if input_ids is not None and len(shape) == 1 else shape[:2]
    mask = np.zeros((b, t), dtype=np.int64)
    mask[:, :1] = 1
    return mask


def _body_kwargs(input_ids, attention_mask, global_attention_mask, head_mask, token_type_ids,
                 position_ids, inputs_embeds, output_attentions, output_hidden_states):
    return dict(input_ids=input_ids, attention_mask=attention_mask,
                global_attention_mask=global_attention_mask, head_mask=head_mask,
                token_type_ids=token_type_ids, position_ids=position_ids,
                inputs_embeds=inputs_embeds, output_attentions=output_attentions,
                output_hidden_states=output_hidden_states)


class LongformerForMaskedLM(EncoderPreTrainedModel):
    """Longformer with RoBERTa's masked-language-model head: logits [b, t, vocab]."""

    config_class = LongformerConfig
    base_model_prefix = "longformer"
    tied_keys = {"lm_head.decoder.weight": "longformer.embeddings.word_embeddings.weight"}
    aliased_keys = {"lm_head.decoder.bias": "lm_head.bias"}
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("longformer.pooler.*",)

    def __init__(self, config: LongformerConfig):
        self.config = config
        self.longformer = LongformerModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.tie_weights()

    def forward(self, input_ids=None, attention_mask=None, global_attention_mask=None,
                 head_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
                 output_attentions=False, output_hidden_states=False, return_dict=True,
                 use_cache=None):
        out = self.longformer(**_body_kwargs(input_ids, attention_mask, global_attention_mask,
                                             head_mask, token_type_ids, position_ids, inputs_embeds,
                                             output_attentions, output_hidden_states))
        logits = self.lm_head(out.last_hidden_state)  # [b, t, d] -> [b, t, V]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states,
                           attentions=out.attentions, global_attentions=out.global_attentions)


class LongformerForSequenceClassification(EncoderPreTrainedModel):
    """One label per sequence: logits [b, num_labels] from `classifier` on <s>. Without a
    global_attention_mask, <s> (the first token) gets global attention, as in transformers:
    a classifier reading one token should let that token see the whole document."""

    config_class = LongformerConfig
    base_model_prefix = "longformer"
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("longformer.pooler.*",)

    def __init__(self, config: LongformerConfig):
        self.config = config
        self.longformer = LongformerModel(config, add_pooling_layer=False)
        self.classifier = RobertaClassificationHead(config)

    def forward(self, input_ids=None, attention_mask=None, global_attention_mask=None,
                 head_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
                 output_attentions=False, output_hidden_states=False, return_dict=True,
                 use_cache=None):
        if global_attention_mask is None:
            global_attention_mask = _first_token_global(input_ids, inputs_embeds)  # [b, t]
        out = self.longformer(**_body_kwargs(input_ids, attention_mask, global_attention_mask,
                                             head_mask, token_type_ids, position_ids, inputs_embeds,
                                             output_attentions, output_hidden_states))
        logits = self.classifier(out.last_hidden_state)  # [b, t, d] -> [b, num_labels]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states,
                           attentions=out.attentions, global_attentions=out.global_attentions)
