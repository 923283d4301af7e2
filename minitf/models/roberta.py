"""RoBERTa (Liu et al. 2019): BERT's architecture, trained longer on more text, without the
next-sentence task, with a byte-level BPE vocabulary. The body is `BertModel` under `roberta.`;
what differs is small and written here:

- **positions** count only real tokens and start after the padding id, as fairseq did:

      ids          = [<s>, Hello, world, </s>, <pad>, <pad>]      (pad id 1)
      not padding  = [ 1,    1,     1,    1,     0,     0  ]
      position ids = pad + cumsum(not padding) * not padding
                   = [ 2,    3,     4,    5,     1,     1  ]

  so a checkpoint with max_position_embeddings=514 takes 512 tokens;
- one segment (type_vocab_size=1 in real checkpoints): token_type_ids are all 0;
- the heads: `lm_head` (dense -> erf GELU -> layer_norm -> decoder tied to the word
  embeddings, + bias) and `classifier` (dense -> tanh -> out_proj on the <s> token; there is no
  pooler in the task models).

    >>> import numpy as np
    >>> from minitf import AutoModelForMaskedLM
    >>> model = AutoModelForMaskedLM.from_pretrained("weights/tiny-roberta-mlm")
    >>> model(input_ids=np.array([[0, 31, 41, 2]])).logits.shape   # <s> ... </s>
    (1, 4, 1000)
    >>> model.lm_head.decoder.weight is model.roberta.embeddings.word_embeddings.weight
    True
"""
from __future__ import annotations

from .. import ops
from ..backend import get_array_module
from ..config import RobertaConfig
from ..modeling import EncoderPreTrainedModel, LayerNorm, Linear, Module, ModelOutput
from .bert import BertEmbeddings, BertModel, _body_kwargs, span_logits


class RobertaEmbeddings(BertEmbeddings):
    """BertEmbeddings whose default position ids skip the padding (see the module docstring)."""

    def __init__(self, config: RobertaConfig):
        super().__init__(config)
        self.padding_idx = config.pad_token_id

    def make_position_ids(self, input_ids, b: int, t: int, xp):
        pad = self.padding_idx
        limit = self.max_positions - pad - 1  # positions pad+1 .. max_positions-1
        if input_ids is None:  # inputs_embeds: nothing tells padding apart, count every token
            n, position_ids = t, xp.arange(pad + 1, pad + 1 + t)[None, :]  # [1, t]
        else:
            real = (input_ids != pad).astype(input_ids.dtype)  # [b, t] 1 for tokens, 0 for padding
            position_ids = xp.cumsum(real, axis=1) * real + pad  # [b, t]
            n = int(real.sum(axis=1).max())
        if n > limit:
            raise ValueError(f"sequence length {n} exceeds the model's limit of {limit} tokens "
                             f"(max_position_embeddings={self.max_positions}, positions start at "
                             f"padding_idx + 1 = {pad + 1}); truncate the input")
        return position_ids


class RobertaModel(BertModel):
    """The bare RoBERTa encoder: `last_hidden_state` and `pooler_output`, as BertModel."""

    config_class = RobertaConfig
    base_model_prefix = "roberta"
    embeddings_class = RobertaEmbeddings


class RobertaLMHead(Module):
    """dense -> GELU (erf, whatever hidden_act says, as in transformers) -> layer_norm -> decoder.

    decoder.weight is the word-embedding table (tied) and decoder.bias is `bias`."""

    def __init__(self, config: RobertaConfig):
        d = config.hidden_size
        self.dense = Linear(d, d)
        self.layer_norm = LayerNorm(d, config.layer_norm_eps)
        self.decoder = Linear(d, config.vocab_size)  # [V, d], tied
        self.bias = self.decoder.bias  # [V]

    def forward(self, x):
        x = self.layer_norm(ops.gelu(self.dense(x)))  # [b, t, d]
        return self.decoder(x)  # [b, t, d] -> [b, t, V]


class RobertaForMaskedLM(EncoderPreTrainedModel):
    """RoBERTa with the masked-language-model head: logits [b, t, vocab]."""

    config_class = RobertaConfig
    base_model_prefix = "roberta"
    tied_keys = {"lm_head.decoder.weight": "roberta.embeddings.word_embeddings.weight"}
    aliased_keys = {"lm_head.decoder.bias": "lm_head.bias"}
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("roberta.pooler.*",)

    def __init__(self, config: RobertaConfig):
        self.config = config
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.tie_weights()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        out = self.roberta(**_body_kwargs(input_ids, attention_mask, token_type_ids, position_ids,
                                          head_mask, inputs_embeds, output_attentions,
                                          output_hidden_states))
        logits = self.lm_head(out.last_hidden_state)  # [b, t, d] -> [b, t, V]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class RobertaClassificationHead(Module):
    """The sentence head: out_proj(tanh(dense(h[:, 0]))) on the <s> token."""

    def __init__(self, config: RobertaConfig):
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.out_proj = Linear(config.hidden_size, config.num_labels)

    def forward(self, hidden):
        x = get_array_module(hidden).tanh(self.dense(hidden[:, 0]))  # [b, t, d] -> [b, d]
        return self.out_proj(x)  # [b, d] -> [b, num_labels]


class RobertaForSequenceClassification(EncoderPreTrainedModel):
    """One label per sequence: logits [b, num_labels] from `classifier` on <s>."""

    config_class = RobertaConfig
    base_model_prefix = "roberta"
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("roberta.pooler.*",)

    def __init__(self, config: RobertaConfig):
        self.config = config
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = RobertaClassificationHead(config)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        out = self.roberta(**_body_kwargs(input_ids, attention_mask, token_type_ids, position_ids,
                                          head_mask, inputs_embeds, output_attentions,
                                          output_hidden_states))
        logits = self.classifier(out.last_hidden_state)  # [b, t, d] -> [b, num_labels]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class RobertaForTokenClassification(EncoderPreTrainedModel):
    """One label per token: classifier(h) -> logits [b, t, num_labels]."""

    config_class = RobertaConfig
    base_model_prefix = "roberta"
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("roberta.pooler.*",)

    def __init__(self, config: RobertaConfig):
        self.config = config
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        out = self.roberta(**_body_kwargs(input_ids, attention_mask, token_type_ids, position_ids,
                                          head_mask, inputs_embeds, output_attentions,
                                          output_hidden_states))
        logits = self.classifier(out.last_hidden_state)  # [b, t, d] -> [b, t, num_labels]
        return ModelOutput(logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class RobertaForQuestionAnswering(EncoderPreTrainedModel):
    """Extractive QA: qa_outputs(h) -> start_logits [b, t], end_logits [b, t]."""

    config_class = RobertaConfig
    base_model_prefix = "roberta"
    ignore_keys = EncoderPreTrainedModel.ignore_keys + ("roberta.pooler.*",)

    def __init__(self, config: RobertaConfig):
        self.config = config
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.qa_outputs = Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                 head_mask=None, inputs_embeds=None, output_attentions=False,
                 output_hidden_states=False, return_dict=True, use_cache=None):
        out = self.roberta(**_body_kwargs(input_ids, attention_mask, token_type_ids, position_ids,
                                          head_mask, inputs_embeds, output_attentions,
                                          output_hidden_states))
        start, end = span_logits(self.qa_outputs(out.last_hidden_state))  # 2 x [b, t]
        return ModelOutput(start_logits=start, end_logits=end, hidden_states=out.hidden_states,
                           attentions=out.attentions)
