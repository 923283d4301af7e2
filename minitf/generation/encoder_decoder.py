"""Generation for encoder-decoders (BART, Marian; Whisper later): the same loop as a decoder's,
with three hooks filled in.

    source ids --encoder (once)--> encoder states [b, src, d]
    target = [decoder_start_token_id]
    repeat:  logits = decoder(target so far, encoder states)     # cross-attention reads them
             choose the next token, append it to the target

- `generation_start` runs the encoder once and repeats its output for every beam / returned
  sequence; the loop then extends the *decoder* sequence, so `max_length`, `min_length`,
  `forced_bos_token_id` and the returned ids are about the target, as in transformers 4.x;
- `new_cache` is an `EncoderDecoderCache`: the decoder's own keys and values grow by one row a
  step, the cross-attention keys and values of the source are computed at the first step and
  reused (beam search reorders only the first part);
- `prepare_inputs_for_generation` feeds the decoder the tokens the cache has not seen, with the
  source mask and the encoder output.

A model using it has `get_encoder()` and a forward taking `decoder_input_ids`,
`encoder_outputs` and `past_key_values`.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from .kv_cache import EncoderDecoderCache
from .utils import GenerationMixin


class EncoderDecoderGenerationMixin(GenerationMixin):
    """`generate()` for a model with an encoder and a decoder (see the module docstring)."""

    def decoder_layer_count(self) -> int:
        return int(getattr(self.config, "decoder_layers", 0) or self.config.num_hidden_layers)

    def new_cache(self, capacity: int = 0):
        return EncoderDecoderCache(self.decoder_layer_count(), capacity)

    def generation_start(self, input_ids, attention_mask, config, model_kwargs: dict, expand: int):
        """Run the encoder on the source once; the decoder starts from decoder_start_token_id
        (or the caller's decoder_input_ids)."""
        model_kwargs = dict(model_kwargs)
        encoder_outputs = model_kwargs.pop("encoder_outputs", None)
        if encoder_outputs is None:
            encoder_outputs = self.get_encoder()(input_ids=input_ids, attention_mask=attention_mask)
        hidden = encoder_outputs["last_hidden_state"] if isinstance(encoder_outputs, dict) \
            else encoder_outputs[0]
        xp = get_array_module(hidden)
        batch = input_ids.shape[0]
        # every beam / returned sequence of a source reads the same encoder rows
        model_kwargs["encoder_outputs"] = {"last_hidden_state": xp.repeat(hidden, expand, axis=0)}
        model_kwargs["encoder_attention_mask"] = np.repeat(attention_mask, expand, axis=0)

        start = model_kwargs.pop("decoder_input_ids", None)
        if start is None:
            start_id = config.decoder_start_token_id
            if start_id is None:
                start_id = self.config.decoder_start_token_id
            if start_id is None:
                start_id = config.bos_token_id if config.bos_token_id is not None else self.config.bos_token_id
            if start_id is None:
                raise ValueError(f"{type(self).__name__}.generate() needs decoder_start_token_id (in "
                                 f"the config or generation_config) to start the decoder")
            start = np.full((batch, 1), int(start_id), dtype=np.int64)  # [b, 1]
        else:
            start = np.asarray(start, dtype=np.int64).reshape(batch, -1)
        model_kwargs.pop("decoder_attention_mask", None)  # the target has no padding
        return start, np.ones_like(start), model_kwargs

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, attention_mask=None,
                                      encoder_outputs=None, encoder_attention_mask=None,
                                      **model_kwargs) -> dict:
        """One decoder step: `input_ids` here are the target so far [rows, t]; the cache has
        seen all but the new ones; `attention_mask` (the target's) is all ones and is not sent."""
        past = past_key_values.get_seq_length() if past_key_values is not None else 0
        return {"decoder_input_ids": input_ids[:, past:],  # [rows, new]
                "attention_mask": encoder_attention_mask,  # the source's padding
                "encoder_outputs": encoder_outputs, "past_key_values": past_key_values,
                "use_cache": past_key_values is not None, **model_kwargs}
