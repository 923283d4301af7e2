"""BERT (Devlin et al. 2018): a stack of post-norm encoder layers that see the whole sentence.

    ids -> word[ids] + token_type[segments] + position[0..t-1] -> LayerNorm -> L x BertLayer

    BertLayer(x):  a = LayerNorm(x + Wo · SelfAttention(x))        (attention.output)
                   y = LayerNorm(a + W2 · act(W1 · a))             (intermediate, output)

Unlike GPT-2 there is no causal mask: every token attends to every (non-padding) token, and
the layer norm comes *after* each residual sum ("post-norm"). The task heads read either every
position (masked LM, token classification, question answering) or the pooled [CLS] vector
(`pooler`: tanh(W · h[:, 0]), sequence classification).

Attribute names are the checkpoint names (`bert.encoder.layer.0.attention.self.query.weight`),
so loading is a walk, and they are also transformers' module names, so
`minitf.debug.compare_with_transformers` lines the two models up layer by layer.
Linear layers are torch's: weight [out, in], y = x @ W.T + b.

    >>> from minitf import AutoModelForMaskedLM
    >>> model = AutoModelForMaskedLM.from_pretrained("weights/tiny-bert")
    >>> model(input_ids=np.array([[2, 45, 4, 3]])).logits.shape
    (1, 4, 1000)

What every family shares lives outside this file: the loading policy for task heads
(`EncoderPreTrainedModel`, modeling.py) and the input checks (inputs.py).
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..attention import merge_heads, scaled_dot_product_attention, split_heads
from ..backend import get_array_module
from ..config import BertConfig
from ..inputs import as_array, check_attention_mask, check_ids, check_inputs, check_token_types, layer_head_mask
from ..modeling import EncoderPreTrainedModel, Embedding, LayerNorm, Linear, Module, ModelOutput


# -- the BERT body ---------------------------------------------------------------------------------
class BertEmbeddings(Module):
    """word + token type (segment A/B) + absolute position embeddings, then LayerNorm."""

    def __init__(self, config: BertConfig):
        d = config.hidden_size
        self.word_embeddings = Embedding(config.vocab_size, d)  # [V, d]
        self.position_embeddings = Embedding(config.max_position_embeddings, d)  # [P, d]
        self.token_type_embeddings = Embedding(config.type_vocab_size, d)  # [2, d]
        self.LayerNorm = LayerNorm(d, config.layer_norm_eps)
        self.max_positions = config.max_position_embeddings

    def make_position_ids(self, input_ids, b: int, t: int, xp):
        """BERT counts positions 0, 1, ..., t-1 for every sequence (padding included)."""
        if t > self.max_positions:
            raise ValueError(f"sequence length {t} exceeds the model's limit of {self.max_positions} "
                             f"tokens (max_position_embeddings={self.max_positions}); truncate the "
                             f"input (e.g. tokenizer(..., truncation=True))")
        return xp.arange(t)[None, :]  # [1, t]

    def forward(self, input_ids, token_type_ids, position_ids, inputs_embeds=None):
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # [b, t] -> [b, t, d]
        x = inputs_embeds + self.token_type_embeddings(token_type_ids)  # [b, t, d]
        x = x + self.position_embeddings(position_ids)  # + [1 or b, t, d]
        return self.LayerNorm(x)  # [b, t, d]


class BertSelfAttention(Module):
    """Multi-head attention over the whole sequence: softmax(q k^T / sqrt(head_dim) + mask) v."""

    def __init__(self, config: BertConfig):
        d, h = config.hidden_size, config.num_attention_heads
        if d % h:
            raise ValueError(f"hidden_size={d} is not divisible by num_attention_heads={h}")
        self.query = Linear(d, d)
        self.key = Linear(d, d)
        self.value = Linear(d, d)
        self.num_attention_heads = h
        self.scale = 1.0 / np.sqrt(d // h)

    def forward(self, x, mask, output_attentions=False, head_mask=None):
        h = self.num_attention_heads
        q = split_heads(self.query(x), h)  # [b, t, d] -> [b, h, t, hd]
        k = split_heads(self.key(x), h)  # [b, h, t, hd]
        v = split_heads(self.value(x), h)  # [b, h, t, hd]
        out, weights = scaled_dot_product_attention(q, k, v, mask, self.scale,
                                                    return_weights=output_attentions)
        if head_mask is not None:  # (w * m) @ v == m * (w @ v) for a per-head m
            m = get_array_module(out).asarray(head_mask, dtype=out.dtype)  # [h, 1, 1]
            out = out * m  # [b, h, t, hd]
            weights = weights * m if weights is not None else None
        return merge_heads(out), weights  # [b, t, d], [b, h, t, t] or None


class BertSelfOutput(Module):
    """Project the heads back and close the residual: LayerNorm(x + dense(attn))."""

    def __init__(self, config: BertConfig):
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, config.layer_norm_eps)

    def forward(self, hidden, input_tensor):
        return self.LayerNorm(self.dense(hidden), residual=input_tensor)  # LN(dense + x), [b, t, d]


class BertAttention(Module):
    def __init__(self, config: BertConfig):
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, x, mask, output_attentions=False, head_mask=None):
        a, weights = self.self(x, mask, output_attentions, head_mask)  # [b, t, d]
        return self.output(a, x), weights  # residual + post-norm, [b, t, d]


class BertIntermediate(Module):
    """The first half of the feed-forward block: d -> intermediate_size, then the activation."""

    def __init__(self, config: BertConfig):
        self.dense = Linear(config.hidden_size, config.intermediate_size)
        self.hidden_act = config.hidden_act
        ops.activation(config.hidden_act)  # an unknown name fails here, at construction

    def forward(self, x):
        return self.dense(x, activation=self.hidden_act)  # [b, t, d] -> [b, t, 4d]


class BertOutput(Module):
    """The second half: intermediate_size -> d, residual, LayerNorm."""

    def __init__(self, config: BertConfig):
        self.dense = Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, config.layer_norm_eps)

    def forward(self, hidden, input_tensor):
        return self.LayerNorm(self.dense(hidden), residual=input_tensor)  # [b, t, 4d] -> [b, t, d]


class BertLayer(Module):
    def __init__(self, config: BertConfig):
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, x, mask, output_attentions=False, head_mask=None):
        a, weights = self.attention(x, mask, output_attentions, head_mask)  # [b, t, d]
        return self.output(self.intermediate(a), a), weights  # [b, t, d]


class BertEncoder(Module):
    def __init__(self, config: BertConfig):
        self.layer = [BertLayer(config) for _ in range(config.num_hidden_layers)]

    def forward(self, x, mask, head_mask=None, output_attentions=False, output_hidden_states=False):
        hidden_states, attentions = [], []
        for i, layer in enumerate(self.layer):
            if output_hidden_states:
                hidden_states.append(x)
            x, weights = layer(x, mask, output_attentions,
                               layer_head_mask(head_mask, len(self.layer), i))  # [b, t, d]
            if output_attentions:
                attentions.append(weights)
        if output_hidden_states:
            hidden_states.append(x)
        return ModelOutput(last_hidden_state=x,
                           hidden_states=tuple(hidden_states) if output_hidden_states else None,
                           attentions=tuple(attentions) if output_attentions else None)


class BertPooler(Module):
    """The sentence vector: tanh(dense(h[:, 0])), read from the first ([CLS]) token."""

    def __init__(self, config: BertConfig):
        self.dense = Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden):
        xp = get_array_module(hidden)
        return xp.tanh(self.dense(hidden[:, 0]))  # [b, t, d] -> [b, d]


class BertModel(EncoderPreTrainedModel):
    """The bare encoder: `last_hidden_state` [b, t, d] and `pooler_output` [b, d]."""

    config_class = BertConfig
    base_model_prefix = "bert"
    embeddings_class = BertEmbeddings

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        if getattr(config, "position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"position_embedding_type={config.position_embedding_type!r} is not "
                             f"supported: minitf implements BERT's absolute positions only")
        if getattr(config, "is_decoder", False):
            raise ValueError("is_decoder=True (BERT as a causal decoder) is not supported by minitf")
        self.config = config
        self.embeddings = self.embeddings_class(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        cfg = self.config
        xp = get_array_module(self.embeddings.word_embeddings.weight)
        input_ids, inputs_embeds = check_inputs(input_ids, inputs_embeds, xp)
        b, t = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
        if input_ids is not None:
            check_ids(input_ids, cfg.vocab_size, "input_ids", "vocab_size")
        if position_ids is None:
            position_ids = self.embeddings.make_position_ids(input_ids, b, t, xp)  # [1 or b, t]
        else:
            position_ids = as_array(position_ids, "position_ids", xp).reshape(-1, t)
            check_ids(position_ids, cfg.max_position_embeddings, "position_ids", "max_position_embeddings")
        token_type_ids = check_token_types(token_type_ids, b, t, cfg.type_vocab_size, xp)  # [b, t]
        mask = check_attention_mask(attention_mask, b, t, xp)  # [b, 1, 1, t] bool, or None

        x = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # [b, t, d]
        x = x.astype(self.dtype, copy=False)
        out = self.encoder(x, mask, head_mask, output_attentions, output_hidden_states)
        h = out.last_hidden_state  # [b, t, d]
        return ModelOutput(last_hidden_state=h,
                           pooler_output=self.pooler(h) if self.pooler is not None else None,
                           hidden_states=out.hidden_states, attentions=out.attentions)


# -- task heads ------------------------------------------------------------------------------------
def _body_kwargs(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                 output_attentions, output_hidden_states):
    return dict(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
                output_attentions=output_attentions, output_hidden_states=output_hidden_states)


class BertPredictionHeadTransform(Module):
    """dense -> activation -> LayerNorm, before the vocabulary projection."""

    def __init__(self, config: BertConfig):
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = ops.activation(config.hidden_act)
        self.LayerNorm = LayerNorm(config.hidden_size, config.layer_norm_eps)

    def forward(self, x):
        return self.LayerNorm(self.transform_act_fn(self.dense(x)))  # [b, t, d]


class BertLMPredictionHead(Module):
    """Scores over the vocabulary: decoder.weight is the word-embedding table (tied), and the
    decoder's bias is `bias` (one array under two names, as in transformers)."""

    def __init__(self, config: BertConfig):
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = Linear(config.hidden_size, config.vocab_size)  # [V, d], tied
        self.bias = self.decoder.bias  # [V]

    def forward(self, x):
        return self.decoder(self.transform(x))  # [b, t, d] -> [b, t, V]


class BertOnlyMLMHead(Module):
    def __init__(self, config: BertConfig):
        self.predictions = BertLMPredictionHead(config)

    def forward(self, x):
        return self.predictions(x)  # [b, t, V]


class BertForMaskedLM(EncoderPreTrainedModel):
    """BERT with the masked-language-model head: logits [b, t, vocab] at every position
    (fill-mask reads them at the [MASK] positions)."""

    config_class = BertConfig
    base_model_prefix = "bert"
    tied_keys = {"cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight"}
    aliased_keys = {"cls.predictions.decoder.bias": "cls.predictions.bias"}
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("bert.pooler.*",)

    def __init__(self, config: BertConfig):
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.tie_weights()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        out = self.bert(**_body_kwargs(input_ids, attention_mask, token_type_ids, position_ids,
                                       head_mask, inputs_embeds, output_attentions, output_hidden_states))
        logits = self.cls(out.last_hidden_state)  # [b, t, d] -> [b, t, V]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class BertForSequenceClassification(EncoderPreTrainedModel):
    """One label per sequence: classifier(pooler_output) -> logits [b, num_labels]
    (config.id2label names them)."""

    config_class = BertConfig
    base_model_prefix = "bert"

    def __init__(self, config: BertConfig):
        self.config = config
        self.bert = BertModel(config)
        self.classifier = Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        out = self.bert(**_body_kwargs(input_ids, attention_mask, token_type_ids, position_ids,
                                       head_mask, inputs_embeds, output_attentions, output_hidden_states))
        logits = self.classifier(out.pooler_output)  # [b, d] -> [b, num_labels]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class BertForTokenClassification(EncoderPreTrainedModel):
    """One label per token (NER): classifier(h) -> logits [b, t, num_labels]."""

    config_class = BertConfig
    base_model_prefix = "bert"
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("bert.pooler.*",)

    def __init__(self, config: BertConfig):
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.classifier = Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        out = self.bert(**_body_kwargs(input_ids, attention_mask, token_type_ids, position_ids,
                                       head_mask, inputs_embeds, output_attentions, output_hidden_states))
        logits = self.classifier(out.last_hidden_state)  # [b, t, d] -> [b, t, num_labels]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


def span_logits(logits):
    """[b, t, 2] -> start_logits [b, t], end_logits [b, t] (copies, not views)."""
    return logits[..., 0].copy(), logits[..., 1].copy()


class BertForQuestionAnswering(EncoderPreTrainedModel):
    """Extractive QA: qa_outputs(h) -> a start score and an end score for every token."""

    config_class = BertConfig
    base_model_prefix = "bert"
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("bert.pooler.*",)

    def __init__(self, config: BertConfig):
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = Linear(config.hidden_size, config.num_labels)  # num_labels is 2

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        out = self.bert(**_body_kwargs(input_ids, attention_mask, token_type_ids, position_ids,
                                       head_mask, inputs_embeds, output_attentions, output_hidden_states))
        start, end = span_logits(self.qa_outputs(out.last_hidden_state))  # [b, t, 2] -> 2 x [b, t]
        return ModelOutput(start_logits=start, end_logits=end, hidden_states=out.hidden_states,
                           attentions=out.attentions)
