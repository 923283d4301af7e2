"""`model.generate()`: greedy, sampling and beam search over a decoder, with a KV cache.

The loop is the same for every strategy:

    prefill: run the whole prompt once, filling the KV cache
    repeat:  scores = processors(sequence, logits of the last position)
             choose the next token(s)  (argmax / sample / top beams)
             append, stop the sequences that are done, feed only the new token back

Greedy and beam search follow transformers' `generate` step for step (same processors in the
same order, same beam bookkeeping), so they return the same ids; a parity test checks it.

    >>> ids = tok("The cat", return_tensors="np")["input_ids"]                       # doctest: +SKIP
    >>> out = model.generate(ids, max_new_tokens=10, do_sample=True, top_p=0.9, seed=0)  # doctest: +SKIP
    >>> print(model.generation_stats)                                                  # doctest: +SKIP
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from ..backend import to_numpy, warm_up
from .logits_process import build_processors
from .stats import GenerationStats
from .stopping import EosTokenCriteria, MaxLengthCriteria, StoppingCriteriaList, StopStringCriteria

_BEAM_NEG = np.float32(-1.0e9)  # transformers' "this beam is out" score


class GenerationMixin:
    """Adds `generate()` to a model whose forward takes input_ids, attention_mask, position_ids,
    past_key_values, use_cache, logits_to_keep and returns `.logits` [batch, t, vocab]."""

    generation_stats: GenerationStats | None = None

    def generate(self, input_ids=None, attention_mask=None, max_new_tokens=None, min_new_tokens=0,
                 do_sample=False, temperature=1.0, top_k=None, top_p=1.0, repetition_penalty=1.0,
                 presence_penalty=0.0, frequency_penalty=0.0, no_repeat_ngram_size=0, num_beams=1,
                 length_penalty=1.0, early_stopping=False, num_return_sequences=1,
                 eos_token_id=None, pad_token_id=None, stop_strings=None, tokenizer=None, seed=None,
                 use_cache=True, streamer=None, max_length=None, **unknown):
        """Generate continuations of `input_ids` [batch, prompt_len] (int64, left-padded when
        prompts differ in length). Returns int64 [batch * num_return_sequences, total_len],
        prompt included.

        `max_new_tokens` (default 20) counts new tokens; `max_length` counts the prompt too.
        `top_k=None` takes the model's generation config (transformers' default is 50);
        `top_k=0` turns top-k filtering off. `seed` makes sampling repeatable.
        """
        if unknown:
            raise TypeError(f"generate() got unexpected keyword argument(s) {sorted(unknown)}")
        gen_cfg = getattr(self, "generation_config", None) or {}
        ids = _as_ids(input_ids)
        batch, prompt_len = ids.shape
        eos_ids = _eos_list(eos_token_id if eos_token_id is not None
                            else gen_cfg.get("eos_token_id", self.config.eos_token_id))
        if pad_token_id is None:
            pad_token_id = gen_cfg.get("pad_token_id", self.config.pad_token_id)
        if pad_token_id is None and eos_ids:
            pad_token_id = eos_ids[0]  # as transformers: pad finished sequences with EOS
        if top_k is None:
            top_k = gen_cfg.get("top_k", 50)
        mask = _attention_mask(ids, attention_mask, pad_token_id, eos_ids)

        # lengths
        if max_new_tokens is None:
            max_length = max_length if max_length is not None else prompt_len + 20
        else:
            if not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
                raise ValueError(f"max_new_tokens must be a non-negative int (got {max_new_tokens!r})")
            max_length = prompt_len + int(max_new_tokens)
        if max_length < prompt_len or (max_length == prompt_len and max_new_tokens is None):
            raise ValueError(f"the prompt has {prompt_len} tokens but max_length is {max_length}; "
                             f"ask for new tokens with max_new_tokens=")
        n_pos = getattr(self.config, "n_positions", None) or getattr(self.config, "max_position_embeddings", None)
        if n_pos and max_length > n_pos:
            raise ValueError(f"prompt ({prompt_len}) + new tokens = {max_length} exceeds the model's "
                             f"{n_pos} positions; ask for fewer new tokens or truncate the prompt")
        _check_strategy(do_sample, num_beams, num_return_sequences, streamer, early_stopping)
        if min_new_tokens < 0:
            raise ValueError(f"min_new_tokens must be >= 0 (got {min_new_tokens!r})")

        procs = build_processors(
            prompt_length=prompt_len, eos_token_ids=eos_ids, repetition_penalty=repetition_penalty,
            presence_penalty=presence_penalty, frequency_penalty=frequency_penalty,
            no_repeat_ngram_size=no_repeat_ngram_size, min_new_tokens=min_new_tokens,
            do_sample=do_sample, temperature=temperature, top_k=top_k, top_p=top_p,
            num_beams=num_beams)
        stopping = StoppingCriteriaList([MaxLengthCriteria(max_length)])
        if eos_ids:
            stopping.append(EosTokenCriteria(eos_ids))
        if stop_strings:
            stopping.append(StopStringCriteria(tokenizer, stop_strings))

        # kernels are compiled before the clock starts (normally already at load: then 0 here)
        self.kernel_compile_seconds = (getattr(self, "kernel_compile_seconds", 0.0)
                                       + warm_up(getattr(self, "dtype", np.float32), getattr(self, "device", "cpu")))
        stats = GenerationStats(batch_size=batch * num_return_sequences, prompt_tokens=prompt_len,
                                weight_bytes=self.weight_bytes(),
                                kernel_compile_s=self.kernel_compile_seconds)
        self.generation_stats = stats
        rng = np.random.default_rng(seed)
        if max_length == prompt_len:  # max_new_tokens=0: nothing to do
            return np.repeat(ids, num_return_sequences, axis=0)

        expand = num_beams if num_beams > 1 else num_return_sequences
        ids, mask = np.repeat(ids, expand, axis=0), np.repeat(mask, expand, axis=0)
        if num_beams > 1:
            out = self._beam_search(ids, mask, procs, stopping, batch, num_beams, max_length,
                                    length_penalty, early_stopping, num_return_sequences,
                                    eos_ids, pad_token_id, use_cache, do_sample, rng, stats)
        else:
            out = self._sample(ids, mask, procs, stopping, max_length, eos_ids, pad_token_id,
                               use_cache, do_sample, rng, streamer, stats)
        stats.new_tokens = out.shape[1] - prompt_len
        return out

    # -- one forward step ---------------------------------------------------------------------
    def _step(self, seqs, mask, cache, use_cache, first: bool):
        """Logits [rows, vocab] (float32) for the next token of every row of `seqs`."""
        # positions count real tokens only, so left padding does not shift them
        positions = np.cumsum(mask, axis=-1) - 1  # [rows, cur_len]
        positions[mask == 0] = 1
        new = seqs if (first or not use_cache) else seqs[:, -1:]
        out = self(input_ids=new, attention_mask=mask, position_ids=positions[:, -new.shape[1]:],
                   past_key_values=cache if use_cache else None, use_cache=use_cache, logits_to_keep=1)
        return to_numpy(out.logits[:, -1, :]).astype(np.float32)

    # -- greedy and sampling ------------------------------------------------------------------
    def _sample(self, seqs, mask, procs, stopping, max_length, eos_ids, pad_id, use_cache,
                do_sample, rng, streamer, stats):
        rows = seqs.shape[0]
        cache = self.new_cache(capacity=max_length) if use_cache else None
        unfinished = np.ones(rows, dtype=bool)
        if streamer is not None:
            streamer.put(seqs)
        stats.start()
        first = True
        while True:
            logits = self._step(seqs, mask, cache, use_cache, first)  # [rows, vocab]
            scores = procs(seqs, logits)
            if do_sample:
                next_tokens = _sample_rows(ops.softmax(scores), rng)  # [rows]
            else:
                next_tokens = scores.argmax(axis=-1)  # [rows]
            if eos_ids:  # finished rows keep emitting padding
                next_tokens = np.where(unfinished, next_tokens, pad_id)
            seqs = np.concatenate([seqs, next_tokens[:, None].astype(np.int64)], axis=1)
            mask = np.concatenate([mask, np.ones((rows, 1), mask.dtype)], axis=1)
            if streamer is not None:
                streamer.put(next_tokens)
            stats.first_token() if first else stats.step()
            stats.note_cache(cache)
            first = False
            unfinished &= ~stopping(seqs)
            if not unfinished.any():
                break
        if streamer is not None:
            streamer.end()
        stats.finish(cache)
        return seqs

    # -- beam search --------------------------------------------------------------------------
    def _beam_search(self, seqs, mask, procs, stopping, batch, num_beams, max_length, length_penalty,
                     early_stopping, num_return_sequences, eos_ids, pad_id, use_cache, do_sample,
                     rng, stats):
        """Beam search as transformers >= 4.50 does it, vectorised over the batch.

        Each step scores every (beam, token) continuation by its summed log-probability, keeps
        the best `k = max(2, 1 + n_eos) * num_beams` candidates, moves those that just finished
        (EOS, max length, stop string) and rank among the first `num_beams` into the finished
        pool with the length-normalised score sum_logprob / new_len ** length_penalty, and keeps
        the best `num_beams` unfinished ones running.
        """
        nb, cur = num_beams, seqs.shape[1]
        prompt_len = cur
        k = max(2, 1 + len(eos_ids)) * nb
        top_mask = np.arange(k) < nb  # [k], only these may enter the finished pool
        fill = (pad_id if pad_id else eos_ids[0]) if eos_ids else -1  # transformers' fill value
        cache = self.new_cache(capacity=max_length) if use_cache else None
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
            logits = self._step(flat, mask, cache, use_cache, first)  # [b*nb, V]
            vocab = logits.shape[-1]
            logp = procs(flat, ops.log_softmax(logits))  # processors see log-probs in beam search
            logp = (logp.reshape(batch, nb, vocab) + running_scores[:, :, None]).reshape(batch, nb * vocab)

            # 1. the k best (or, with do_sample, k sampled) continuations over all beams
            if do_sample:
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


def _as_ids(input_ids):
    if input_ids is None:
        raise ValueError("generate() needs input_ids (the prompt), shape (batch, prompt_len)")
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
    mask = np.asarray(to_numpy(attention_mask)).astype(np.int64)
    if mask.shape != ids.shape:
        raise ValueError(f"attention_mask has shape {mask.shape} but input_ids has {ids.shape}")
    if ids.shape[0] > 1 and (mask[:, -1] == 0).any():
        warnings.warn("a prompt is right-padded (attention_mask ends in 0); decoder-only models "
                      "need left padding: set tokenizer.padding_side = 'left'", stacklevel=3)
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
