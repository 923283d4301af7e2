"""Marian (Junczys-Dowmunt et al. 2018): the translation models of Helsinki-NLP (opus-mt-*).

The network is BART's (bart.py): post-norm encoder and decoder layers with cross-attention.
What differs, and is all this file holds:

- positions are static sinusoids, not learned: `PE[pos] = [sin(pos / 10000^(2i/d)) for i] ++
  [cos(...) for i]` (every sine first, then every cosine), computed, not loaded;
- no layer norm on the embeddings; `scale_embedding=True` in the published checkpoints
  (token embeddings * sqrt(d_model));
- the decoder starts from <pad> (decoder_start_token_id = pad_token_id) and </s> is id 0;
- source and target may have separate vocabularies (`share_encoder_decoder_embeddings=False`,
  `decoder_vocab_size`); the output projection is tied to the decoder's embeddings.

    >>> import numpy as np
    >>> from minitf import AutoModelForSeq2SeqLM
    >>> model = AutoModelForSeq2SeqLM.from_pretrained("weights/tiny-marian")
    >>> type(model).__name__, model.config.decoder_start_token_id == model.config.pad_token_id
    ('MarianMTModel', True)
    >>> table = model.model.encoder.embed_positions.weight      # [positions, d_model=32]
    >>> table[1, :2].astype(float).round(3).tolist()          # sin(1), sin(1 / 10000^(2/32))
    [0.841, 0.533]
"""
from __future__ import annotations

import numpy as np

from ..attention.positions import sinusoidal_positions
from ..config import MarianConfig
from ..modeling import Embedding
from .bart import BartDecoder, BartEncoder, BartForConditionalGeneration, BartModel


class MarianSinusoidalPositionalEmbedding(Embedding):
    """The static table [n_positions, d] (sines, then cosines), looked up at 0, 1, 2 ...

    It is computed from the formula, never loaded (checkpoints that store it are ignored):
    its rows are not trained, and the formula is exact.
    """

    offset = 0

    def __init__(self, n_positions: int, d: int):
        self._table = sinusoidal_positions(n_positions, d, halves=True)  # not a parameter

    @property
    def weight(self):
        return self._table

    def forward(self, ids):
        return self._table[ids]  # [...] -> [..., d]

    def positions(self, past: int, t: int, xp):
        if xp is not np and not isinstance(self._table, xp.ndarray):
            self._table = xp.asarray(self._table)
        return self._table[past:past + t]  # [t, d]


class MarianEncoder(BartEncoder):
    positions_class = MarianSinusoidalPositionalEmbedding
    has_embedding_norm = False


class MarianDecoder(BartDecoder):
    positions_class = MarianSinusoidalPositionalEmbedding
    has_embedding_norm = False


class MarianModel(BartModel):
    """Encoder + decoder of Marian; with `share_encoder_decoder_embeddings=False` the encoder and
    decoder have their own token tables (and there is no `shared`)."""

    config_class = MarianConfig
    encoder_class = MarianEncoder
    decoder_class = MarianDecoder
    ignore_keys = ("*embed_positions.weight", "*embed_positions._float_tensor")  # the formula's

    def __init__(self, config: MarianConfig):
        self.config = config
        if config.share_encoder_decoder_embeddings:
            self.shared = Embedding(config.vocab_size, config.d_model)
            encoder_tokens = decoder_tokens = self.shared
        else:
            self.aliased_keys = {}
            encoder_tokens = Embedding(config.vocab_size, config.d_model)
            # transformers 4.x builds the decoder's table as a copy of the source one, so its
            # checkpoints store vocab_size rows even when decoder_vocab_size is smaller (only
            # the lm_head has decoder_vocab_size rows); the same layout loads here
            decoder_tokens = Embedding(config.vocab_size, config.d_model)
        self.encoder = self.encoder_class(config, encoder_tokens)
        self.decoder = self.decoder_class(config, decoder_tokens)


class MarianMTModel(BartForConditionalGeneration):
    """Translation: MarianModel + lm_head (tied to the decoder's token embeddings) +
    final_logits_bias. Generation bans <pad> (the checkpoints' bad_words_ids=[[pad]])."""

    config_class = MarianConfig
    model_class = MarianModel
    ignore_keys = MarianModel.ignore_keys

    def __init__(self, config: MarianConfig):
        super().__init__(config)
        self.tied_keys = {"lm_head.weight": "model.shared.weight"
                          if config.share_encoder_decoder_embeddings else "model.decoder.embed_tokens.weight"}

    @staticmethod
    def output_vocab_size(config) -> int:
        return config.decoder_vocab_size
