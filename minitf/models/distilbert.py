"""DistilBERT (Sanh et al. 2019): BERT distilled into half the layers, 40% smaller, 60% faster.

    ids -> word[ids] + position[0..t-1] -> LayerNorm -> n_layers x TransformerBlock

    TransformerBlock(x):  a = sa_layer_norm(x + out_lin(attention(x)))
                          y = output_layer_norm(a + lin2(act(lin1(a))))

The same post-norm encoder layer as BERT with other names (q_lin/k_lin/v_lin/out_lin,
ffn.lin1/lin2), and less around it: no token type (segment) embeddings, no pooler, every
layer norm with eps 1e-12. The sequence classifier reads the first token through
`pre_classifier` + ReLU. With `sinusoidal_pos_embds` the position table holds fixed
sinusoids (Vaswani et al. 2017) instead of learned vectors:

    PE[pos, 2i] = sin(pos / 10000^(2i/dim)),   PE[pos, 2i+1] = cos(pos / 10000^(2i/dim))

    >>> import numpy as np
    >>> from minitf import AutoModelForSequenceClassification
    >>> model = AutoModelForSequenceClassification.from_pretrained("weights/tiny-distilbert-seqcls")
    >>> ids = np.array([[101, 7, 8, 102], [101, 9, 102, 0]])
    >>> mask = np.array([[1, 1, 1, 1], [1, 1, 1, 0]])
    >>> model(input_ids=ids, attention_mask=mask).logits.shape   # [batch, num_labels]
    (2, 2)
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..attention import merge_heads, scaled_dot_product_attention, split_heads
from ..attention.positions import sinusoidal_positions
from ..backend import get_array_module
from ..config import DistilBertConfig
from ..inputs import check_attention_mask, check_ids, check_inputs, layer_head_mask
from ..modeling import EncoderPreTrainedModel, Embedding, LayerNorm, Linear, Module, ModelOutput
from .bert import span_logits

EPS = 1e-12  # DistilBERT's layer norms do not read layer_norm_eps from the config


class Embeddings(Module):
    """word + position embeddings, then LayerNorm (no segments)."""

    def __init__(self, config: DistilBertConfig):
        self.word_embeddings = Embedding(config.vocab_size, config.dim)  # [V, d]
        self.position_embeddings = Embedding(config.max_position_embeddings, config.dim)  # [P, d]
        if config.sinusoidal_pos_embds:
            self.position_embeddings.weight = sinusoidal_positions(config.max_position_embeddings,
                                                                   config.dim)
        self.LayerNorm = LayerNorm(config.dim, EPS)

    def forward(self, input_ids, inputs_embeds=None):
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # [b, t] -> [b, t, d]
        t = inputs_embeds.shape[1]
        xp = get_array_module(inputs_embeds)
        x = inputs_embeds + self.position_embeddings(xp.arange(t)[None, :])  # + [1, t, d]
        return self.LayerNorm(x)  # [b, t, d]


class MultiHeadSelfAttention(Module):
    """softmax(q k^T / sqrt(head_dim), padding keys masked) v, then out_lin."""

    def __init__(self, config: DistilBertConfig):
        d, h = config.dim, config.n_heads
        if d % h:
            raise ValueError(f"dim={d} is not divisible by n_heads={h}")
        self.q_lin = Linear(d, d)
        self.k_lin = Linear(d, d)
        self.v_lin = Linear(d, d)
        self.out_lin = Linear(d, d)
        self.n_heads = h
        self.scale = 1.0 / np.sqrt(d // h)

    def forward(self, x, mask, output_attentions=False, head_mask=None):
        h = self.n_heads
        q = split_heads(self.q_lin(x), h)  # [b, t, d] -> [b, h, t, hd]
        k = split_heads(self.k_lin(x), h)  # [b, h, t, hd]
        v = split_heads(self.v_lin(x), h)  # [b, h, t, hd]
        out, weights = scaled_dot_product_attention(q, k, v, mask, self.scale,
                                                    return_weights=output_attentions)
        if head_mask is not None:  # a per-head factor: (w * m) @ v == m * (w @ v)
            m = get_array_module(out).asarray(head_mask, dtype=out.dtype)  # [h, 1, 1]
            out = out * m
            weights = weights * m if weights is not None else None
        return self.out_lin(merge_heads(out)), weights  # [b, t, d], [b, h, t, t] or None


class FFN(Module):
    """dim -> hidden_dim -> activation -> dim."""

    def __init__(self, config: DistilBertConfig):
        self.lin1 = Linear(config.dim, config.hidden_dim)
        self.lin2 = Linear(config.hidden_dim, config.dim)
        self.activation = config.activation
        ops.activation(config.activation)  # an unknown name fails here, at construction

    def forward(self, x):
        h = self.lin1(x, activation=self.activation)  # [b, t, d] -> [b, t, 4d]
        return self.lin2(h)  # [b, t, 4d] -> [b, t, d]


class TransformerBlock(Module):
    def __init__(self, config: DistilBertConfig):
        self.attention = MultiHeadSelfAttention(config)
        self.sa_layer_norm = LayerNorm(config.dim, EPS)
        self.ffn = FFN(config)
        self.output_layer_norm = LayerNorm(config.dim, EPS)

    def forward(self, x, mask, output_attentions=False, head_mask=None):
        a, weights = self.attention(x, mask, output_attentions, head_mask)  # [b, t, d]
        a = self.sa_layer_norm(a, residual=x)  # residual + post-norm in one pass, [b, t, d]
        return self.output_layer_norm(self.ffn(a), residual=a), weights  # [b, t, d]


class Transformer(Module):
    def __init__(self, config: DistilBertConfig):
        self.layer = [TransformerBlock(config) for _ in range(config.n_layers)]

    def forward(self, x, mask, head_mask=None, output_attentions=False, output_hidden_states=False):
        hidden_states, attentions = [], []
        for i, block in enumerate(self.layer):
            if output_hidden_states:
                hidden_states.append(x)
            x, weights = block(x, mask, output_attentions,
                               layer_head_mask(head_mask, len(self.layer), i))  # [b, t, d]
            if output_attentions:
                attentions.append(weights)
        if output_hidden_states:
            hidden_states.append(x)
        return ModelOutput(last_hidden_state=x,
                           hidden_states=tuple(hidden_states) if output_hidden_states else None,
                           attentions=tuple(attentions) if output_attentions else None)


class DistilBertModel(EncoderPreTrainedModel):
    """The bare encoder: `last_hidden_state` [b, t, dim] (no pooler)."""

    config_class = DistilBertConfig
    base_model_prefix = "distilbert"

    def __init__(self, config: DistilBertConfig):
        self.config = config
        self.embeddings = Embeddings(config)
        self.transformer = Transformer(config)

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None,
                 output_attentions=False, output_hidden_states=False, return_dict=True,
                 token_type_ids=None, use_cache=None):
        cfg = self.config
        xp = get_array_module(self.embeddings.word_embeddings.weight)
        input_ids, inputs_embeds = check_inputs(input_ids, inputs_embeds, xp)
        b, t = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
        if input_ids is not None:
            check_ids(input_ids, cfg.vocab_size, "input_ids", "vocab_size")
        if t > cfg.max_position_embeddings:
            raise ValueError(f"sequence length {t} exceeds the model's limit of "
                             f"{cfg.max_position_embeddings} tokens (max_position_embeddings="
                             f"{cfg.max_position_embeddings}); truncate the input")
        if token_type_ids is not None and bool(xp.asarray(token_type_ids).any()):
            raise ValueError("DistilBERT has no token type (segment) embeddings: token_type_ids must "
                             "be omitted (a tokenizer for BERT returns them; drop the key)")
        mask = check_attention_mask(attention_mask, b, t, xp)  # [b, 1, 1, t] bool, or None
        x = self.embeddings(input_ids, inputs_embeds).astype(self.dtype, copy=False)  # [b, t, d]
        return self.transformer(x, mask, head_mask, output_attentions, output_hidden_states)


def _body_kwargs(input_ids, attention_mask, head_mask, inputs_embeds, output_attentions,
                 output_hidden_states, token_type_ids):
    return dict(input_ids=input_ids, attention_mask=attention_mask, head_mask=head_mask,
                inputs_embeds=inputs_embeds, output_attentions=output_attentions,
                output_hidden_states=output_hidden_states, token_type_ids=token_type_ids)


class DistilBertForMaskedLM(EncoderPreTrainedModel):
    """vocab_transform -> activation -> vocab_layer_norm -> vocab_projector (tied to the word
    embeddings, with its own bias): logits [b, t, vocab]."""

    config_class = DistilBertConfig
    base_model_prefix = "distilbert"
    tied_keys = {"vocab_projector.weight": "distilbert.embeddings.word_embeddings.weight"}

    def __init__(self, config: DistilBertConfig):
        self.config = config
        self.distilbert = DistilBertModel(config)
        self.vocab_transform = Linear(config.dim, config.dim)
        self.vocab_layer_norm = LayerNorm(config.dim, EPS)
        self.vocab_projector = Linear(config.dim, config.vocab_size)  # [V, d], tied
        self.activation = ops.activation(config.activation)
        self.tie_weights()

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None,
                 output_attentions=False, output_hidden_states=False, return_dict=True,
                 token_type_ids=None, use_cache=None):
        out = self.distilbert(**_body_kwargs(input_ids, attention_mask, head_mask, inputs_embeds,
                                             output_attentions, output_hidden_states, token_type_ids))
        x = self.activation(self.vocab_transform(out.last_hidden_state))  # [b, t, d]
        logits = self.vocab_projector(self.vocab_layer_norm(x))  # [b, t, d] -> [b, t, V]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class DistilBertForSequenceClassification(EncoderPreTrainedModel):
    """classifier(ReLU(pre_classifier(h[:, 0]))) -> logits [b, num_labels]."""

    config_class = DistilBertConfig
    base_model_prefix = "distilbert"

    def __init__(self, config: DistilBertConfig):
        self.config = config
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = Linear(config.dim, config.dim)
        self.classifier = Linear(config.dim, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None,
                 output_attentions=False, output_hidden_states=False, return_dict=True,
                 token_type_ids=None, use_cache=None):
        out = self.distilbert(**_body_kwargs(input_ids, attention_mask, head_mask, inputs_embeds,
                                             output_attentions, output_hidden_states, token_type_ids))
        pooled = ops.relu(self.pre_classifier(out.last_hidden_state[:, 0]))  # [b, t, d] -> [b, d]
        logits = self.classifier(pooled)  # [b, d] -> [b, num_labels]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class DistilBertForTokenClassification(EncoderPreTrainedModel):
    """classifier(h) -> logits [b, t, num_labels]."""

    config_class = DistilBertConfig
    base_model_prefix = "distilbert"

    def __init__(self, config: DistilBertConfig):
        self.config = config
        self.distilbert = DistilBertModel(config)
        self.classifier = Linear(config.dim, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None,
                 output_attentions=False, output_hidden_states=False, return_dict=True,
                 token_type_ids=None, use_cache=None):
        out = self.distilbert(**_body_kwargs(input_ids, attention_mask, head_mask, inputs_embeds,
                                             output_attentions, output_hidden_states, token_type_ids))
        logits = self.classifier(out.last_hidden_state)  # [b, t, d] -> [b, t, num_labels]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class DistilBertForQuestionAnswering(EncoderPreTrainedModel):
    """qa_outputs(h) -> start_logits [b, t], end_logits [b, t]."""

    config_class = DistilBertConfig
    base_model_prefix = "distilbert"

    def __init__(self, config: DistilBertConfig):
        if config.num_labels != 2:
            raise ValueError(f"question answering needs num_labels=2 (start, end); the config has "
                             f"{config.num_labels}")
        self.config = config
        self.distilbert = DistilBertModel(config)
        self.qa_outputs = Linear(config.dim, 2)

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None,
                 output_attentions=False, output_hidden_states=False, return_dict=True,
                 token_type_ids=None, use_cache=None):
        out = self.distilbert(**_body_kwargs(input_ids, attention_mask, head_mask, inputs_embeds,
                                             output_attentions, output_hidden_states, token_type_ids))
        start, end = span_logits(self.qa_outputs(out.last_hidden_state))  # [b, t, 2] -> 2 x [b, t]
        return ModelOutput(start_logits=start, end_logits=end, hidden_states=out.hidden_states,
                           attentions=out.attentions)
