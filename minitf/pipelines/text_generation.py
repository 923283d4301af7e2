"""text-generation: continue a prompt with a causal language model (chapter 1 of the course).

With the course's GPT-2 (sampled, so the continuations change from run to run)::

    generator = pipeline("text-generation", model="gpt2")
    generator("In this course, we will teach you how to", max_length=30, num_return_sequences=2)
    [{'generated_text': 'In this course, we will teach you how to ...'},
     {'generated_text': 'In this course, we will teach you how to ...'}]

The same call on the committed tiny random GPT-2 (its config, unlike gpt2's, does not ask for
sampling, so do_sample=True is given):

    >>> from minitf import pipeline
    >>> generator = pipeline("text-generation", model="weights/tiny-gpt2")
    >>> out = generator("In this course, we will teach you how to", max_length=30,
    ...                 num_return_sequences=2, do_sample=True)
    >>> len(out), all(r["generated_text"].startswith("In this course, we will") for r in out)
    (2, True)

As in transformers 4.x: one prompt gives a list of dicts, a list of prompts a list of such
lists; `return_full_text=False` returns only the continuation; the model config's
`task_specific_params["text-generation"]` (gpt2: do_sample=True, max_length=50) are the defaults.
"""
from __future__ import annotations

import numpy as np

from ..generation.configuration import FIELDS
from ..models.auto import AutoModelForCausalLM
from .base import Pipeline

# what the call passes on to generate(): every generation option, and generate()'s own arguments
_GENERATE_KEYS = set(FIELDS) | {"streamer", "generation_config", "logits_processor",
                                "stopping_criteria"}


class TextGenerationPipeline(Pipeline):
    task = "text-generation"
    model_loader = AutoModelForCausalLM

    def __call__(self, text_inputs, return_full_text: bool = True, return_tensors: bool = False,
                 clean_up_tokenization_spaces=None, batch_size: int = 1, prefix: str = "",
                 **generate_kwargs):
        kwargs = {**self.defaults, **generate_kwargs}
        unknown = set(kwargs) - _GENERATE_KEYS
        if unknown:
            raise TypeError(f"text-generation got unexpected argument(s) {sorted(unknown)}; "
                            f"generation arguments are {sorted(_GENERATE_KEYS)}")
        single = isinstance(text_inputs, str)
        prompts = [text_inputs] if single else text_inputs
        if not isinstance(prompts, (list, tuple)) or not all(isinstance(p, str) for p in prompts):
            raise TypeError(f"text-generation takes a string or a list of strings "
                            f"(got {type(text_inputs).__name__})")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int (got {batch_size!r})")
        kwargs = self._with_model_defaults(kwargs)
        results = []
        for start in range(0, len(prompts), batch_size):
            chunk = list(prompts[start:start + batch_size])
            results.extend(self._generate(chunk, prefix, return_full_text, return_tensors,
                                          clean_up_tokenization_spaces, kwargs))
        return results[0] if single else results

    def _with_model_defaults(self, kwargs: dict) -> dict:
        """Task defaults from config.json, used only where the call does not say otherwise."""
        params = (getattr(self.model.config, "task_specific_params", None) or {}).get(self.task, {})
        defaults = {k: v for k, v in params.items() if k in _GENERATE_KEYS}
        if "max_new_tokens" in kwargs:
            defaults.pop("max_length", None)  # an explicit max_new_tokens wins, as in transformers
        return {**defaults, **kwargs}

    def _left_padded(self, texts):
        """ids and mask [n, longest], left-padded so the new tokens line up (decoder-only).
        The caller's tokenizer is left as it was: the padding is done here, with its pad
        token, or EOS when it has none (as transformers' pipeline pads GPT-2)."""
        tok = self.tokenizer
        rows = [tok(t)["input_ids"] for t in texts]
        if len(rows) == 1:
            ids = np.asarray(rows, dtype=np.int64)  # [1, t]
            return ids, np.ones_like(ids)
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        if pad_id is None:
            raise ValueError("batching prompts of different lengths needs a pad or EOS token, and "
                             "this tokenizer has neither; use batch_size=1")
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), pad_id, dtype=np.int64)  # [n, longest]
        mask = np.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, width - len(r):] = r
            mask[i, width - len(r):] = 1
        return ids, mask

    def _generate(self, prompts, prefix, return_full_text, return_tensors, clean_up, kwargs):
        tok = self.tokenizer
        texts = [prefix + p for p in prompts]
        if any(t == "" for t in texts):
            raise ValueError("text-generation got an empty prompt; give at least one character "
                             "(or a prefix=) to continue from")
        ids, mask = self._left_padded(texts)
        if "pad_token_id" not in kwargs and tok.pad_token_id is not None:
            kwargs = {**kwargs, "pad_token_id": tok.pad_token_id}
        if "stop_strings" in kwargs:
            kwargs = {**kwargs, "tokenizer": tok}
        out = self.model.generate(ids, attention_mask=mask, **kwargs)  # [n * n_ret, total]
        n_ret = out.shape[0] // len(prompts)  # the call's or the model's num_return_sequences
        decode = dict(skip_special_tokens=True)
        if clean_up is not None:
            decode["clean_up_tokenization_spaces"] = clean_up
        results = []
        for i, prompt in enumerate(prompts):
            prompt_ids = ids[i][mask[i] == 1]
            # the decoded prompt's length, to cut it off the decoded whole (as transformers does)
            prompt_len = len(tok.decode(prompt_ids, **decode))
            records = []
            for seq in out[i * n_ret:(i + 1) * n_ret]:
                seq = seq[ids.shape[1] - len(prompt_ids):]  # drop left padding
                if return_tensors:
                    records.append({"generated_token_ids": np.asarray(seq).tolist()})
                    continue
                new_text = tok.decode(seq, **decode)[prompt_len:]
                records.append({"generated_text": (prompt + new_text) if return_full_text else new_text})
            results.append(records)
        return results
