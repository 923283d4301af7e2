"""`model.generate()`: greedy, sampling and beam search over a decoder, with a KV cache.

The loop is the same for every strategy:

    prefill: run the whole prompt once, filling the KV cache
    repeat:  scores = processors(sequence, logits of the last position)
             choose the next token(s)  (argmax / sample / top beams)
             append, stop the sequences that are done, feed only the new token back

Greedy and beam search follow transformers' `generate` step for step (same processors in the
same order, same beam bookkeeping), so they return the same ids; a parity test checks it.

    >>> from minitf import AutoModelForCausalLM, AutoTokenizer
    >>> model = AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")
    >>> tok = AutoTokenizer.from_pretrained("weights/tiny-gpt2")
    >>> ids = tok("The cat", return_tensors="np")["input_ids"]
    >>> ids
    array([[288, 444]])
    >>> out = model.generate(ids, max_new_tokens=10, do_sample=True, top_p=0.9, seed=0)
    >>> out.shape                       # the prompt, then the 10 new tokens
    (1, 12)
    >>> model.generation_stats.new_tokens
    10
"""
from __future__ import annotations

import copy
import inspect
import time
import warnings
from typing import NamedTuple

import numpy as np

from .. import ops
from ..attention.masks import check_mask
from ..backend import to_numpy, warm_up
from .configuration import FIELDS, GenerationConfig
from .logits_process import build_processors, merge_custom
from .seed import sampling_rng
from .stats import GenerationStats
from .stopping import EosTokenCriteria, MaxLengthCriteria, StoppingCriteriaList, StopStringCriteria
from ..user_warnings import user_stacklevel

_BEAM_NEG = np.float32(-1.0e9)  # transformers' "this beam is out" score


class _Run(NamedTuple):
    """What one generate() call fixed before its loop starts."""
    procs: object
    stopping: object
    max_length: int
    eos_ids: list
    pad_id: int | None
    use_cache: bool
    do_sample: bool
    rng: np.random.Generator
    stats: GenerationStats
    model_kwargs: dict


class GenerationMixin:
    """Adds `generate()` to a model whose forward returns `.logits` [batch, t, vocab].

    Three hooks let a family plug in without branches in the loop:

    - `generation_start(input_ids, attention_mask, config, model_kwargs, expand)` -> the
      sequences the loop extends, their mask and the keyword arguments of every step (a
      decoder extends the prompt itself; an encoder-decoder runs its encoder once here and
      starts the decoder from `decoder_start_token_id`, see `encoder_decoder.py`);
    - `prepare_inputs_for_generation(input_ids, past_key_values, attention_mask, **kw)` ->
      the forward's keyword arguments for one step (the default feeds the tokens the cache has
      not seen; GPT-2 adds positions that skip the left padding);
    - `new_cache(capacity)` -> the model's KV cache, or None when it has none (then every step
      recomputes the whole sequence, as Reformer does).
    """

    generation_stats: GenerationStats | None = None

    @property
    def generation_config(self) -> GenerationConfig:
        """The decoding defaults: generation_config.json at load, else the config's options."""
        if self.__dict__.get("_generation_config") is None:
            self.__dict__["_generation_config"] = GenerationConfig.from_model_config(self.config)
        return self.__dict__["_generation_config"]

    @generation_config.setter
    def generation_config(self, value) -> None:
        if isinstance(value, dict):
            value = GenerationConfig.from_dict(value)
        if value is not None and not isinstance(value, GenerationConfig):
            raise TypeError(f"generation_config must be a minitf.GenerationConfig (or a dict of "
                            f"its options), not {type(value).__name__}")
        self.__dict__["_generation_config"] = value

    # -- hooks a model family may override ----------------------------------------------------
    def generation_start(self, input_ids, attention_mask, config, model_kwargs: dict, expand: int):
        """(sequences [batch, start], their mask, model kwargs for every step). A decoder-only
        model continues the prompt, which must then be left-padded."""
        if input_ids.shape[0] > 1 and (attention_mask[:, -1] == 0).any():
            warnings.warn("a prompt is right-padded (attention_mask ends in 0); decoder-only models "
                          "need left padding: set tokenizer.padding_side = 'left'",
                          stacklevel=user_stacklevel())
        return input_ids, attention_mask, model_kwargs

    def new_cache(self, capacity: int = 0):
        """The KV cache for one generation; None: this model has none (full recompute)."""
        return None

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, attention_mask=None,
                                      **model_kwargs) -> dict:
        """The forward's arguments for one step: the tokens the cache has not seen yet (all of
        them without a cache), the mask over everything, and the caller's model kwargs."""
        past = past_key_values.get_seq_length() if past_key_values is not None else 0
        inputs = {"input_ids": input_ids[:, past:], **model_kwargs}  # [rows, new]
        params = self._forward_parameters()
        if attention_mask is not None and "attention_mask" in params:
            inputs["attention_mask"] = attention_mask  # [rows, past + new]
        if "past_key_values" in params:
            inputs["past_key_values"] = past_key_values
        if "use_cache" in params:
            inputs["use_cache"] = past_key_values is not None
        if "logits_to_keep" in params:
            inputs["logits_to_keep"] = 1  # generation only needs the last position's logits
        return inputs

    def _forward_parameters(self) -> dict:
        return dict(inspect.signature(type(self).forward).parameters)

    # -- generate -----------------------------------------------------------------------------
    def generate(self, input_ids=None, attention_mask=None, generation_config=None,
                 logits_processor=None, stopping_criteria=None, streamer=None, tokenizer=None,
                 **kwargs):
        """Generate continuations of `input_ids` [batch, prompt_len] (int64, left-padded when
        prompts differ in length). Returns int64 [batch * num_return_sequences, total_len],
        prompt included.

        Options (`max_new_tokens`, `do_sample`, `top_p`, ... every name in
        `minitf.generation.configuration.FIELDS`) come from `model.generation_config`, then
        `generation_config=`, then keyword arguments; as in transformers, an option given as
        None is set to None (``forced_eos_token_id=None`` turns the forced EOS off for this
        call). Without max_new_tokens or max_length, 20 new tokens.
        `top_k=0` turns top-k filtering off. `seed` makes sampling repeatable (else
        `minitf.set_seed` does). Other keyword arguments go to the model's forward.

        `logits_processor` / `stopping_criteria`: lists of callables ``(ids, scores) -> scores``
        and ``(ids, scores) -> bool [rows]``, run after the built-in ones.
        """
        config, model_kwargs, given = self._generation_config_for_call(generation_config, kwargs)
        self._check_model_kwargs(model_kwargs)
        config.validate(stacklevel=2)
        ids = _as_ids(input_ids, config.bos_token_id)
        eos_ids = _eos_list(config.eos_token_id if config.eos_token_id is not None
                            else self.config.eos_token_id)
        pad_token_id = config.pad_token_id
        if pad_token_id is None:
            pad_token_id = self.config.pad_token_id
        if pad_token_id is None and eos_ids:
            pad_token_id = eos_ids[0]  # as transformers: pad finished sequences with EOS
        mask = _attention_mask(ids, attention_mask, pad_token_id, eos_ids)
        n_ret = config.num_return_sequences
        _check_strategy(config.do_sample, config.num_beams, n_ret, streamer, config.early_stopping)
        min_new = config.min_new_tokens or 0
        if not isinstance(min_new, (int, np.integer)) or min_new < 0:
            raise ValueError(f"min_new_tokens must be >= 0 (got {config.min_new_tokens!r})")
        expand = config.num_beams if config.num_beams > 1 else n_ret
        source_len = ids.shape[1]
        # the kernels are compiled before the clock starts (normally already at load: then 0 here)
        self.kernel_compile_seconds = (getattr(self, "kernel_compile_seconds", 0.0)
                                       + warm_up(getattr(self, "dtype", np.float32), getattr(self, "device", "cpu")))
        started = time.perf_counter()
        ids, mask, model_kwargs = self.generation_start(ids, mask, config, model_kwargs, expand)
        # an encoder-decoder's one encoder pass, reported inside the time to first token
        start_seconds = time.perf_counter() - started if getattr(self.config, "is_encoder_decoder", False) else 0.0
        batch, prompt_len = ids.shape
        max_length = self._max_length(config, prompt_len, "max_length" in given)

        rows_ids, rows_mask = np.repeat(ids, expand, axis=0), np.repeat(mask, expand, axis=0)
        procs = build_processors(config, prompt_length=prompt_len, eos_token_ids=eos_ids,
                                 max_length=max_length, prompt_mask=rows_mask, custom=logits_processor)
        stopping = StoppingCriteriaList([MaxLengthCriteria(max_length)])
        if eos_ids:
            stopping.append(EosTokenCriteria(eos_ids))
        if config.stop_strings:
            stopping.append(StopStringCriteria(tokenizer, config.stop_strings))
        stopping.extend(merge_custom(stopping, stopping_criteria, "stopping criterion", "stopping_criteria"))

        stats = GenerationStats(batch_size=batch * n_ret, prompt_tokens=source_len,
                                weight_bytes=self.weight_bytes(),
                                kernel_compile_s=self.kernel_compile_seconds,
                                encoder_time=start_seconds)
        self.generation_stats = stats
        rng = sampling_rng(config.seed)
        if max_length == prompt_len:  # max_new_tokens=0: nothing to do
            return np.repeat(ids, n_ret, axis=0)

        run = _Run(procs, stopping, max_length, eos_ids, pad_token_id, config.use_cache,
                   config.do_sample, rng, stats, model_kwargs)
        if config.num_beams > 1:
            out = self._beam_search(rows_ids, rows_mask, run, batch, config.num_beams,
                                    config.length_penalty, config.early_stopping, n_ret)
        else:
            out = self._sample(rows_ids, rows_mask, run, streamer)
        stats.new_tokens = out.shape[1] - prompt_len
        return out

    def _generation_config_for_call(self, generation_config, kwargs):
        """model.generation_config -> generation_config= -> kwargs. A given config's options
        left at the global defaults take the model's values (transformers 4.x's merge)."""
        own = self.generation_config
        if generation_config is None:
            config = copy.deepcopy(own)
        else:
            if not isinstance(generation_config, GenerationConfig):
                raise TypeError(f"generation_config must be a minitf.GenerationConfig "
                                f"(got {type(generation_config).__name__})")
            config = copy.deepcopy(generation_config)
            defaults = GenerationConfig()
            for key, value in own.to_dict().items():
                default = getattr(defaults, key, None)
                if getattr(config, key, None) == default and value != default:
                    setattr(config, key, copy.deepcopy(value))
        # an option given as None is set to None, as transformers' GenerationConfig.update does;
        # a model keyword argument given as None is left out
        given = {k: v for k, v in kwargs.items() if v is not None or k in FIELDS}
        model_kwargs = config.update(**given)
        return config, model_kwargs, {k for k, v in given.items() if v is not None} - set(model_kwargs)

    def _check_model_kwargs(self, model_kwargs: dict) -> None:
        params = {**self._forward_parameters(),
                  **inspect.signature(self.prepare_inputs_for_generation).parameters}
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for n, p in self._forward_parameters().items()):
            return
        unknown = sorted(k for k in model_kwargs
                         if k not in params or k in ("self", "input_ids", "past_key_values"))
        if unknown:
            raise TypeError(f"generate() got unexpected keyword argument(s) {unknown}: they are "
                            f"neither generation options (GenerationConfig fields) nor arguments "
                            f"of {type(self).__name__}'s forward")

    def _max_length(self, config, prompt_len: int, max_length_given: bool) -> int:
        """Total length to stop at, as transformers 4.x: max_new_tokens wins; the default
        max_length (20) means 20 new tokens, capped by the model's positions."""
        n_pos = (getattr(self.config, "n_positions", None)
                 or getattr(self.config, "max_position_embeddings", None))
        max_new = config.max_new_tokens
        if max_new is not None:
            if not isinstance(max_new, (int, np.integer)) or isinstance(max_new, bool) or max_new < 0:
                raise ValueError(f"max_new_tokens must be a non-negative int (got {max_new!r})")
            if max_length_given:
                warnings.warn(f"both max_new_tokens (={max_new}) and max_length (={config.max_length}) "
                              f"are set; max_new_tokens takes precedence", UserWarning, stacklevel=3)
            max_length = prompt_len + int(max_new)
        elif not max_length_given and config.max_length == FIELDS["max_length"].default:
            max_length = prompt_len + config.max_length  # "by default, 20 new tokens"
            if n_pos and prompt_len < n_pos:
                max_length = min(max_length, n_pos)
        else:
            max_length = config.max_length
            if max_length is None or max_length <= prompt_len:
                raise ValueError(f"the prompt has {prompt_len} tokens but max_length is {max_length}; "
                                 f"ask for new tokens with max_new_tokens=")
        if n_pos and max_length > n_pos:
            raise ValueError(f"prompt ({prompt_len}) + new tokens = {max_length} exceeds the model's "
                             f"{n_pos} positions; ask for fewer new tokens or truncate the prompt")
        return max_length

    # -- one forward step ---------------------------------------------------------------------
    def _next_logits(self, seqs, mask, cache, model_kwargs):
        """Logits [rows, vocab] (float32) for the next token of every row of `seqs`."""
        inputs = self.prepare_inputs_for_generation(seqs, past_key_values=cache, attention_mask=mask,
                                                    **model_kwargs)
        out = self(**inputs)
        return to_numpy(out.logits[:, -1, :]).astype(np.float32)

    # -- greedy and sampling ------------------------------------------------------------------
    def _sample(self, seqs, mask, run, streamer):
        rows = seqs.shape[0]
        cache = self.new_cache(capacity=run.max_length) if run.use_cache else None
        unfinished = np.ones(rows, dtype=bool)
        if streamer is not None:
            streamer.put(seqs)
        run.stats.start()
        first = True
        while True:
            logits = self._next_logits(seqs, mask, cache, run.model_kwargs)  # [rows, vocab]
            scores = run.procs(seqs, logits)
            if run.do_sample:
                next_tokens = _sample_rows(ops.softmax(scores), run.rng)  # [rows]
            else:
                next_tokens = scores.argmax(axis=-1)  # [rows]
            if run.eos_ids:  # finished rows keep emitting padding
                next_tokens = np.where(unfinished, next_tokens, run.pad_id)
            seqs = np.concatenate([seqs, next_tokens[:, None].astype(np.int64)], axis=1)
            mask = np.concatenate([mask, np.ones((rows, 1), mask.dtype)], axis=1)
            if streamer is not None:
                streamer.put(next_tokens)
            run.stats.first_token() if first else run.stats.step()
            run.stats.note_cache(cache)
            first = False
            unfinished &= ~run.stopping(seqs, scores)
            if not unfinished.any():
                break
        if streamer is not None:
            streamer.end()
        run.stats.finish(cache)
        return seqs

    # -- beam search --------------------------------------------------------------------------
    def _beam_search(self, seqs, mask, run, batch, num_beams, length_penalty, early_stopping,
                     num_return_sequences):
        """Beam search as transformers >= 4.50 does it, vectorised over the batch.

        Each step scores every (beam, token) continuation by its summed log-probability, keeps
        the best `k = max(2, 1 + n_eos) * num_beams` candidates, moves those that just finished
        (EOS, max length, stop string) and rank among the first `num_beams` into the finished
        pool with the length-normalised score sum_logprob / new_len ** length_penalty, and keeps
        the best `num_beams` unfinished ones running.
        """
        nb, cur = num_beams, seqs.shape[1]
        prompt_len = cur
        procs, stopping, max_length, eos_ids, pad_id = run.procs, run.stopping, run.max_length, run.eos_ids, run.pad_id
        stats, rng = run.stats, run.rng
        k = max(2, 1 + len(eos_ids)) * nb
        top_mask = np.arange(k) < nb  # [k], only these may enter the finished pool
        fill = (pad_id if pad_id else eos_ids[0]) if eos_ids else -1  # transformers' fill value
        cache = self.new_cache(capacity=max_length) if run.use_cache else None
        running = np.full((batch, nb, max_length), fill, dtype=np.int64)  # [b, nb, L]
        running[:, :, :cur] = seqs.reshape(batch, nb, cur)
        finished_seqs = running.copy()  # the finished pool, [b, nb, L]
        running_scores = np.zeros((batch, nb), np.float32)
        running_scores[:, 1:] = _BEAM_NEG  # all beams start equal: only beam 0 may expand at first
        finished_scores = np.full((batch, nb), _BEAM_NEG, np.float32)
        finished_len = np.zeros((batch, nb), np.int64)  # new tokens in each finished sequence
        is_finished = np.zeros((batch, nb), dtype=bool)
        can_improve = np.ones((batch, 1), dtype=bool)
        hits = np.zeros((batch, k), dtype=bool)
        rows = np.arange(batch)[:, None]
        stats.start()
        first = True
        while True:
            flat = running[:, :, :cur].reshape(batch * nb, cur)
            logits = self._next_logits(flat, mask, cache, run.model_kwargs)  # [b*nb, V]
            vocab = logits.shape[-1]
            logp = procs(flat, ops.log_softmax(logits))  # processors see log-probs in beam search
            logp = (logp.reshape(batch, nb, vocab) + running_scores[:, :, None]).reshape(batch, nb * vocab)

            # 1. the k best (or, with do_sample, k sampled) continuations over all beams
            if run.do_sample:
                top = _sample_without_replacement(logp, k, rng)  # [b, k]
            else:
                top = _topk_indices(logp, k)  # [b, k], best first
            top_logp = logp[rows, top]  # [b, k]
            parent, token = top // vocab, top % vocab  # [b, k] each
            cand = running[rows, parent]  # [b, k, L]
            cand[:, :, cur] = token
            hits = stopping(cand[:, :, :cur + 1].reshape(batch * k, cur + 1)).reshape(batch, k)

            # 2. the nb best candidates that did not finish keep running
            run_logp = top_logp + hits.astype(np.float32) * _BEAM_NEG
            keep = _topk_indices(run_logp, nb)  # [b, nb]
            running = cand[rows, keep]
            running_scores = run_logp[rows, keep]
            beam_idx = (parent[rows, keep] + rows * nb).reshape(-1)  # [b*nb], flat parent rows

            # 3. the finished pool: merge in candidates that just finished, keep the nb best
            just = hits & top_mask[None, :]
            new_len = cur + 1 - prompt_len
            fin_logp = top_logp / np.float32(new_len ** length_penalty)
            fin_logp = fin_logp + (np.all(is_finished, -1, keepdims=True) & (early_stopping is True)) * _BEAM_NEG
            fin_logp = fin_logp + (~can_improve).astype(np.float32) * _BEAM_NEG
            fin_logp = fin_logp + (~just).astype(np.float32) * _BEAM_NEG
            merged_scores = np.concatenate([finished_scores, fin_logp], axis=1)  # [b, nb + k]
            best = _topk_indices(merged_scores, nb)
            finished_seqs = np.concatenate([finished_seqs, cand], axis=1)[rows, best]
            finished_len = np.concatenate([finished_len, np.full((batch, k), new_len)], axis=1)[rows, best]
            is_finished = np.concatenate([is_finished, just], axis=1)[rows, best]
            finished_scores = merged_scores[rows, best]

            if cache is not None:
                cache.reorder(beam_idx)
            mask = np.concatenate([mask[beam_idx], np.ones((batch * nb, 1), mask.dtype)], axis=1)
            stats.first_token() if first else stats.step()
            stats.note_cache(cache)
            first = False
            cur += 1

            # 4. stop when no running beam can beat the worst finished one, or all are done
            if early_stopping == "never" and length_penalty > 0.0:
                best_len = max_length - prompt_len
            else:
                best_len = cur - prompt_len
            best_running = running_scores[:, :1] / np.float32(best_len ** length_penalty)
            worst_finished = np.where(is_finished, finished_scores.min(axis=1, keepdims=True), _BEAM_NEG)
            can_improve = can_improve & np.any(best_running > worst_finished, axis=-1, keepdims=True)
            open_beam = not (is_finished.all() and early_stopping is True)
            if not (can_improve.any() and open_beam and not hits.all()):
                break
        stats.finish(cache)
        out = finished_seqs[:, :num_return_sequences].reshape(batch * num_return_sequences, max_length)
        out_len = finished_len[:, :num_return_sequences].max()
        return out[:, :prompt_len + out_len]


def _as_ids(input_ids, bos_token_id=None):
    if input_ids is None:
        if bos_token_id is not None:  # as transformers: start from the BOS token alone
            return np.array([[int(bos_token_id)]], dtype=np.int64)
        raise ValueError("generate() needs input_ids (the prompt), shape (batch, prompt_len), or "
                         "a bos_token_id to start from")
    ids = np.asarray(to_numpy(input_ids) if not isinstance(input_ids, list) else input_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"input_ids must be integer token ids (got dtype {ids.dtype})")
    if ids.ndim == 1:
        ids = ids[None, :]
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"input_ids must have shape (batch, prompt_len) with prompt_len >= 1; "
                         f"got {ids.shape}")
    return ids.astype(np.int64)


def _eos_list(eos) -> list[int]:
    if eos is None:
        return []
    if isinstance(eos, (int, np.integer)):
        return [int(eos)]
    return [int(e) for e in eos]


def _attention_mask(ids, attention_mask, pad_id, eos_ids):
    if attention_mask is None:
        # as transformers: mask padding only when the pad token is distinguishable from EOS
        if pad_id is not None and pad_id not in eos_ids and (ids == pad_id).any():
            return (ids != pad_id).astype(np.int64)
        return np.ones_like(ids)
    mask = check_mask(to_numpy(attention_mask), ids.shape).astype(np.int64)  # [b, t] of 0/1
    return mask


def _check_strategy(do_sample, num_beams, num_return_sequences, streamer, early_stopping):
    if not isinstance(num_beams, (int, np.integer)) or num_beams < 1:
        raise ValueError(f"num_beams must be a positive int (got {num_beams!r})")
    if not isinstance(num_return_sequences, (int, np.integer)) or num_return_sequences < 1:
        raise ValueError(f"num_return_sequences must be a positive int (got {num_return_sequences!r})")
    if num_beams > 1 and num_return_sequences > num_beams:
        raise ValueError(f"num_return_sequences ({num_return_sequences}) must be <= num_beams "
                         f"({num_beams}) in beam search")
    if num_beams == 1 and not do_sample and num_return_sequences > 1:
        raise ValueError(f"greedy decoding gives one sequence per prompt; num_return_sequences="
                         f"{num_return_sequences} needs do_sample=True or num_beams >= "
                         f"{num_return_sequences}")
    if num_beams > 1 and streamer is not None:
        raise ValueError("a streamer cannot be used with beam search (num_beams > 1): the best "
                         "beam is only known at the end")
    if early_stopping not in (True, False, "never"):
        raise ValueError(f"early_stopping must be True, False or 'never' (got {early_stopping!r})")


def _sample_rows(probs, rng):
    """One token per row from categorical distributions [rows, vocab] (inverse-CDF sampling)."""
    cdf = np.cumsum(probs.astype(np.float64), axis=-1)  # [rows, vocab]
    u = rng.random(probs.shape[0]) * cdf[:, -1]  # [rows]
    picks = (cdf < u[:, None]).sum(axis=-1)
    return np.minimum(picks, probs.shape[-1] - 1).astype(np.int64)


def _topk_indices(x, k):
    """Indices of the k largest entries per row, best first. [rows, n] -> [rows, k]"""
    part = np.argpartition(-x, k - 1, axis=-1)[:, :k] if k < x.shape[-1] else np.tile(
        np.arange(x.shape[-1]), (x.shape[0], 1))
    order = np.argsort(-np.take_along_axis(x, part, axis=-1), axis=-1, kind="stable")
    return np.take_along_axis(part, order, axis=-1)


def _sample_without_replacement(logp, k, rng):
    """k distinct indices per row drawn in order from softmax(logp) (the Gumbel-top-k trick)."""
    gumbel = -np.log(-np.log(rng.random(logp.shape).clip(1e-20, 1.0)))
    return _topk_indices(logp.astype(np.float64) + gumbel, k)
