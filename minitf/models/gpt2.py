"""GPT-2 (Radford et al. 2019): a stack of pre-norm decoder blocks with learned positions.

    ids -> wte[ids] + wpe[positions] -> n_layer x Block -> ln_f -> @ wte.T -> logits

    Block(x) = x + attn(ln_1(x));  then  x + mlp(ln_2(x))

Attribute names are the checkpoint names (`transformer.h.0.attn.c_attn.weight`), so
`from_pretrained` is a walk over `named_parameters()`. Linear layers are `TransposedLinear`
(transformers calls the class `Conv1D`, but it is a matrix product): weights stored [in, out],
applied as `x @ W + b`.

    >>> from minitf import AutoModelForCausalLM
    >>> model = AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")  # ("gpt2": the real one)
    >>> model(input_ids=np.array([[15, 99]])).logits.shape   # [batch, seq, vocab_size]
    (1, 2, 557)
    >>> model.lm_head.weight is model.transformer.wte.weight   # the head is the tied embedding
    True
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..attention import causal_attention, causal_mask, merge_heads, padding_mask, scaled_dot_product_attention, split_heads
from ..backend import get_array_module
from ..config import GPT2Config
from ..generation.kv_cache import KVCache
from ..generation.utils import GenerationMixin
from ..inputs import as_array, check_ids, check_inputs, check_key_mask
from ..modeling import Embedding, LayerNorm, Module, ModelOutput, PreTrainedModel, TransposedLinear


class GPT2Attention(Module):
    """Causal multi-head self-attention with one fused q/k/v projection (`c_attn`)."""

    def __init__(self, config: GPT2Config, layer_idx: int):
        d = config.n_embd
        if d % config.n_head:
            raise ValueError(f"n_embd={d} is not divisible by n_head={config.n_head}")
        self.c_attn = TransposedLinear(d, 3 * d)
        self.c_proj = TransposedLinear(d, d)
        self.n_head = config.n_head
        self.layer_idx = layer_idx
        scale = 1.0 / np.sqrt(d // config.n_head) if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            scale /= float(layer_idx + 1)
        self.scale = scale

    def forward(self, x, mask, cache=None, output_attentions=False):
        qkv = self.c_attn(x)  # [b, t, d] -> [b, t, 3d]
        q, k, v = get_array_module(qkv).split(qkv, 3, axis=-1)  # 3 x [b, t, d]
        q, k, v = (split_heads(a, self.n_head) for a in (q, k, v))  # 3 x [b, h, t, hd]
        if cache is not None:
            k, v = cache.update(self.layer_idx, k, v)  # [b, h, past + t, hd]
        if output_attentions:  # the full [b, h, t, past + t] weights are wanted
            out, weights = scaled_dot_product_attention(q, k, v, mask, self.scale, return_weights=True)
        else:  # the same numbers, skipping the scores above the diagonal
            out, weights = causal_attention(q, k, v, mask, self.scale), None
        out = merge_heads(out)  # [b, h, t, hd] -> [b, t, d]
        return self.c_proj(out), weights  # [b, t, d]


class GPT2MLP(Module):
    """Position-wise feed-forward: d -> 4d -> GELU -> d."""

    def __init__(self, config: GPT2Config):
        inner = config.n_inner or 4 * config.n_embd
        self.c_fc = TransposedLinear(config.n_embd, inner)
        self.c_proj = TransposedLinear(inner, config.n_embd)
        self.activation_function = config.activation_function
        ops.activation(config.activation_function)  # an unknown name fails here, at construction

    def forward(self, x):
        h = self.c_fc(x, activation=self.activation_function)  # [b, t, d] -> [b, t, 4d]
        return self.c_proj(h)  # [b, t, 4d] -> [b, t, d]


class GPT2Block(Module):
    def __init__(self, config: GPT2Config, layer_idx: int):
        eps = config.layer_norm_epsilon
        self.ln_1 = LayerNorm(config.n_embd, eps)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = LayerNorm(config.n_embd, eps)
        self.mlp = GPT2MLP(config)

    def forward(self, x, mask, cache=None, output_attentions=False):
        a, weights = self.attn(self.ln_1(x), mask, cache, output_attentions)
        x = x + a  # residual around attention, [b, t, d]
        x = x + self.mlp(self.ln_2(x))  # residual around the MLP, [b, t, d]
        return x, weights


class GPT2Model(PreTrainedModel):
    """The bare decoder: returns `last_hidden_state` (after the final layer norm)."""

    config_class = GPT2Config
    base_model_prefix = "transformer"
    ignore_keys = ("*attn.bias", "*attn.masked_bias")  # saved causal-mask buffers, not weights

    def __init__(self, config: GPT2Config):
        self.config = config
        self.wte = Embedding(config.vocab_size, config.n_embd)  # token embeddings [V, d]
        self.wpe = Embedding(config.n_positions, config.n_embd)  # position embeddings [P, d]
        self.h = [GPT2Block(config, i) for i in range(config.n_layer)]
        self.ln_f = LayerNorm(config.n_embd, config.layer_norm_epsilon)

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None,
                 use_cache=None, output_attentions=False, output_hidden_states=False,
                 token_type_ids=None, inputs_embeds=None, return_dict=True):
        cfg = self.config
        xp = get_array_module(self.wte.weight)
        input_ids, inputs_embeds = check_inputs(input_ids, inputs_embeds, xp)
        b, t = (input_ids.shape if input_ids is not None else inputs_embeds.shape[:2])
        if input_ids is not None:
            check_ids(input_ids, cfg.vocab_size, "input_ids", "vocab_size")
        use_cache = cfg.use_cache if use_cache is None else use_cache
        cache = _as_cache(past_key_values, cfg.n_layer) if (use_cache or past_key_values is not None) else None
        past = cache.get_seq_length() if cache is not None else 0
        if past + t > cfg.n_positions:
            raise ValueError(f"sequence length {past + t} (past {past} + new {t}) exceeds GPT-2's "
                             f"n_positions={cfg.n_positions}; truncate the input")
        if position_ids is None:
            position_ids = xp.arange(past, past + t)[None, :]  # [1, t]
        else:
            position_ids = as_array(position_ids, "position_ids", xp).reshape(-1, t)
            check_ids(position_ids, cfg.n_positions, "position_ids", "n_positions")

        # mask: causal [t, past + t], and padding [b, 1, 1, past + t] when given
        mask = causal_mask(t, past + t, xp)
        attention_mask = check_key_mask(attention_mask, b, past + t, xp,  # [b, past + t] bool
                                        against=f"input_ids with {past} cached tokens" if past else "input_ids",
                                        layout="(batch, past + new tokens)")
        if attention_mask is not None:
            mask = mask & padding_mask(attention_mask)  # [b, 1, t, past + t]

        if inputs_embeds is None:
            inputs_embeds = self.wte(input_ids)  # [b, t] -> [b, t, d]
        x = inputs_embeds + self.wpe(position_ids)  # [b, t, d] + [1 or b, t, d]
        if token_type_ids is not None:
            token_type_ids = as_array(token_type_ids, "token_type_ids", xp)
            check_ids(token_type_ids, cfg.vocab_size, "token_type_ids", "vocab_size")
            x = x + self.wte(token_type_ids)  # GPT-2 embeds segments with wte
        x = x.astype(self.dtype, copy=False)

        hidden_states, attentions = [], []
        for block in self.h:
            if output_hidden_states:
                hidden_states.append(x)
            x, weights = block(x, mask, cache, output_attentions)  # [b, t, d]
            if output_attentions:
                attentions.append(weights)
        x = self.ln_f(x)  # [b, t, d]
        if output_hidden_states:
            hidden_states.append(x)
        return ModelOutput(
            last_hidden_state=x,
            past_key_values=cache if use_cache else None,
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            attentions=tuple(attentions) if output_attentions else None,
        )


class GPT2LMHeadModel(PreTrainedModel, GenerationMixin):
    """GPT-2 with the language-model head: logits over the vocabulary for every position.

    The head shares its weight with the token embeddings (`lm_head.weight is transformer.wte.weight`).
    """

    config_class = GPT2Config
    base_model_prefix = "transformer"
    ignore_keys = GPT2Model.ignore_keys
    tied_keys = {"lm_head.weight": "transformer.wte.weight"}

    def __init__(self, config: GPT2Config):
        self.config = config
        self.transformer = GPT2Model(config)
        self.lm_head = Embedding(config.vocab_size, config.n_embd)  # [V, d], tied to wte
        self.tie_weights()

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None,
                 use_cache=None, output_attentions=False, output_hidden_states=False,
                 token_type_ids=None, inputs_embeds=None, logits_to_keep: int = 0, return_dict=True):
        out = self.transformer(input_ids, attention_mask, position_ids, past_key_values, use_cache,
                               output_attentions, output_hidden_states, token_type_ids, inputs_embeds)
        h = out.last_hidden_state
        if logits_to_keep:  # generation only needs the last position's logits
            h = h[:, -logits_to_keep:]
        logits = h @ self.lm_head.weight.T  # [b, t, d] @ [d, V] -> [b, t, V]
        return ModelOutput(logits=logits, past_key_values=out.past_key_values,
                           hidden_states=out.hidden_states, attentions=out.attentions)

    # -- used by GenerationMixin -------------------------------------------------------------
    def new_cache(self, capacity: int = 0) -> KVCache:
        return KVCache(self.config.n_layer, capacity)

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, attention_mask=None,
                                      **model_kwargs) -> dict:
        """The default step inputs, plus positions that count real tokens only, so a
        left-padded row sees the positions it would see alone (padding gets 1, as transformers)."""
        inputs = super().prepare_inputs_for_generation(input_ids, past_key_values, attention_mask,
                                                       **model_kwargs)
        if attention_mask is not None and "position_ids" not in model_kwargs:
            positions = np.cumsum(attention_mask, axis=-1) - 1  # [rows, past + new]
            positions[attention_mask == 0] = 1
            inputs["position_ids"] = positions[:, -inputs["input_ids"].shape[1]:]  # [rows, new]
        return inputs


def _as_cache(past_key_values, n_layer: int) -> KVCache:
    if past_key_values is None:
        return KVCache(n_layer)
    if isinstance(past_key_values, KVCache):
        return past_key_values
    if isinstance(past_key_values, (tuple, list)) and len(past_key_values) == n_layer:
        return KVCache.from_legacy(past_key_values)
    raise TypeError(f"past_key_values must be a KVCache or a tuple of {n_layer} (key, value) pairs; "
                    f"got {type(past_key_values).__name__}")
