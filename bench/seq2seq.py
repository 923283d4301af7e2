"""BART-base (random weights) beam search on this CPU: minitf against transformers + PyTorch.

    .venv/bin/python bench/seq2seq.py [--repeats 3] [--batch 4] [--src 256] [--new-tokens 64]
                                      [--beams 4] [--src-lengths 128 512] [--quick] [--profile]

Both frameworks get the same float32 weights (transformers' BartForConditionalGeneration of
bart-base size, its state_dict copied into minitf), the same batch of sources (4 x 256 tokens
by default, no padding) and the same thread count (all cores; --threads N sets torch's, and
OpenBLAS's and Numba's for minitf through the environment before NumPy loads). Measured side
by side in one process, alternating, median of the repeats, on
    generate(num_beams=4, max_new_tokens=64, min_length=0, no_repeat_ngram_size=0,
             early_stopping=False)
</s> can never win (its final_logits_bias is -1e4 in both models), so every call runs exactly
64 decoder steps; generation still forces </s> as the last token (forced_eos_token_id), in both.
Printed, for both: the encoder pass (inside generate), the mean decoder step (one token for all
batch x beams rows: decoder forward + beam-search bookkeeping), the whole generate() call, the
ratios torch/minitf (> 1 means minitf is faster) and whether the generated ids are equal. Then
the decoder step at source lengths 128 and 512 (--src-lengths): it should grow only by the
cross-attention read of the longer source (printed as bytes and as time at the copy bandwidth;
minitf keeps one copy of a source's cross-attention keys/values for all its beams).

Timing: minitf reports `generation_stats` (encoder_time, step_times); for transformers a
forward hook on the encoder times the encoder pass, and a LogitsProcessor notes the time at
each step (the mean gap between calls is the step time, as minitf's step_times).
With --profile, a cProfile of one minitf generate() call says where the time goes.
Results are also written to bench/results/seq2seq.json.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path


def _threads_from_argv(argv) -> int | None:
    """--threads N / --threads=N, read before NumPy loads: OpenBLAS and Numba take their thread
    counts from the environment at import, so minitf gets N threads the only way it can."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return None


if __name__ == "__main__" and _threads_from_argv(sys.argv[1:]):
    for var in ("OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[var] = str(_threads_from_argv(sys.argv[1:]))

import minitf  # noqa: E402  (before NumPy: it sets OpenBLAS's thread timeout, see minitf/__init__.py)
import numpy as np  # noqa: E402
from gpt2 import measure_bandwidth  # noqa: E402  (bench/ is on the path: same copy-bandwidth probe)

EOS = 2


def bart_base_kwargs() -> dict:
    """bart-base's sizes (the rest are BartConfig's defaults in both libraries)."""
    return dict(vocab_size=50265, d_model=768, encoder_layers=6, decoder_layers=6,
                encoder_attention_heads=12, decoder_attention_heads=12, encoder_ffn_dim=3072,
                decoder_ffn_dim=3072, max_position_embeddings=1024, activation_function="gelu",
                pad_token_id=1, bos_token_id=0, eos_token_id=EOS, decoder_start_token_id=2,
                forced_eos_token_id=EOS, forced_bos_token_id=None, scale_embedding=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--src", type=int, default=256, help="source tokens per row")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--beams", type=int, default=4)
    ap.add_argument("--src-lengths", type=int, nargs="*", default=[128, 512],
                    help="source lengths for the decoder-step comparison")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--quick", action="store_true",
                    help="a short run: 1 repeat, 16 new tokens, no source-length sweep")
    ap.add_argument("--profile", action="store_true", help="cProfile one minitf generate() call")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats, args.new_tokens, args.src_lengths = 1, 16, []

    import torch
    import transformers

    from minitf.config import BartConfig
    from minitf.models.bart import BartForConditionalGeneration

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    hf_cfg = transformers.BartConfig(**bart_base_kwargs())
    ref = transformers.BartForConditionalGeneration(hf_cfg).eval()
    with torch.no_grad():
        ref.final_logits_bias[0, EOS] = -1e4  # </s> never wins: every call runs all the steps
    state = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    ours = BartForConditionalGeneration(BartConfig(**bart_base_kwargs()))
    ours.load_weights(state)
    print(f"BART-base, {sum(p.numel() for p in ref.model.parameters()):,} parameters, float32, "
          f"batch {args.batch} x {args.src} source tokens, {args.beams} beams, "
          f"{args.new_tokens} new tokens, {args.threads} threads; minitf backend "
          f"{minitf.backend.get_backend()!r}, torch {torch.__version__}, transformers "
          f"{transformers.__version__} ({ref.config._attn_implementation} attention)")

    # transformers' timing hooks: the encoder pass, and one timestamp per decoder step
    enc_times: list[float] = []
    enc_start: list[float] = []
    ref.model.encoder.register_forward_pre_hook(lambda m, a: enc_start.append(time.perf_counter()))
    ref.model.encoder.register_forward_hook(
        lambda m, a, o: enc_times.append(time.perf_counter() - enc_start[-1]))
    stamps: list[float] = []

    class Stamp(transformers.LogitsProcessor):
        def __call__(self, input_ids, scores):
            stamps.append(time.perf_counter())
            return scores

    def kwargs(n_new):
        return dict(num_beams=args.beams, max_new_tokens=n_new, min_length=0,
                    no_repeat_ngram_size=0, early_stopping=False)

    def run_ours(ids, n_new):
        out = ours.generate(ids, attention_mask=np.ones_like(ids), **kwargs(n_new))
        s = ours.generation_stats
        return out, s.encoder_time, statistics.mean(s.step_times), s.total_time

    def run_ref(ids, n_new):
        tids = torch.from_numpy(ids)
        stamps.clear()
        with torch.no_grad():
            t = time.perf_counter()
            out = ref.generate(tids, attention_mask=torch.ones_like(tids),
                               logits_processor=transformers.LogitsProcessorList([Stamp()]),
                               **kwargs(n_new))
            total = time.perf_counter() - t
        return out.numpy(), enc_times[-1], statistics.mean(np.diff(stamps)), total

    def compare(ids, n_new, repeats):
        """Alternate minitf and torch; medians of (encoder, step, total); ids equal in every run."""
        run_ours(ids, 2), run_ref(ids, 2)  # warm-up (numba compilation, page faults, oneDNN)
        a, b, same = [], [], True
        for _ in range(repeats):
            out_a, *ta = run_ours(ids, n_new)
            out_b, *tb = run_ref(ids, n_new)
            a.append(ta)
            b.append(tb)
            same &= out_a.shape == out_b.shape and bool(np.array_equal(out_a, out_b))
        med = lambda rows: [statistics.median(c) for c in zip(*rows)]  # noqa: E731
        return med(a), med(b), same, out_a.shape

    rng = np.random.default_rng(0)

    def source(b, n):
        ids = rng.integers(3, hf_cfg.vocab_size, (b, n))
        ids[:, 0], ids[:, -1] = 0, EOS  # <s> ... </s>
        return ids

    # correctness first: the same logits for one teacher-forced pass
    ids = source(2, 32)
    dec = rng.integers(3, hf_cfg.vocab_size, (2, 8))
    with torch.no_grad():
        r = ref(input_ids=torch.from_numpy(ids), decoder_input_ids=torch.from_numpy(dec)).logits.numpy()
    diff = float(np.abs(ours(input_ids=ids, decoder_input_ids=dec).logits - r).max())
    print(f"max |logits difference| (2 x 32 source, 8 target tokens): {diff:.2e}")

    ids = source(args.batch, args.src)
    (ea, sa, ta), (eb, sb, tb), same, shape = compare(ids, args.new_tokens, args.repeats)
    print(f"\ngenerate: {shape[0]} sequences of {shape[1]} ids, same ids: {same}")
    print(f"{'':>14} {'minitf':>10} {'torch':>10} {'ratio':>7}")
    print(f"{'encoder':>14} {ea * 1e3:>8.1f}ms {eb * 1e3:>8.1f}ms {eb / ea:>7.2f}")
    print(f"{'decoder step':>14} {sa * 1e3:>8.1f}ms {sb * 1e3:>8.1f}ms {sb / sa:>7.2f}")
    print(f"{'total':>14} {ta:>9.2f}s {tb:>9.2f}s {tb / ta:>7.2f}")
    results = {"threads": args.threads, "backend": minitf.backend.get_backend(),
               "torch_version": torch.__version__, "transformers": transformers.__version__,
               "batch": args.batch, "src": args.src, "beams": args.beams,
               "new_tokens": args.new_tokens, "repeats": args.repeats,
               "max_abs_logit_diff": diff, "same_ids": same,
               "minitf": {"encoder_s": ea, "step_s": sa, "total_s": ta},
               "torch": {"encoder_s": eb, "step_s": sb, "total_s": tb},
               "ratio": {"encoder": eb / ea, "step": sb / sa, "total": tb / ta},
               "step_by_src": {}}

    if args.src_lengths:
        print(f"\ndecoder step by source length ({args.batch} x {args.beams} rows, "
              f"{args.new_tokens} new tokens)")
        print(f"{'src':>6} {'minitf':>10} {'torch':>10} {'ratio':>7} {'same ids':>9}")
        for n in args.src_lengths:
            (_, sa_n, _), (_, sb_n, _), same_n, _ = compare(source(args.batch, n), args.new_tokens,
                                                            args.repeats)
            print(f"{n:>6} {sa_n * 1e3:>8.1f}ms {sb_n * 1e3:>8.1f}ms {sb_n / sa_n:>7.2f} {same_n!s:>9}")
            results["step_by_src"][n] = {"minitf_step_s": sa_n, "torch_step_s": sb_n,
                                         "ratio": sb_n / sa_n, "same_ids": same_n}
        if len(args.src_lengths) >= 2:
            lo, hi = min(args.src_lengths), max(args.src_lengths)
            by = results["step_by_src"]
            grow_a = by[hi]["minitf_step_s"] - by[lo]["minitf_step_s"]
            grow_b = by[hi]["torch_step_s"] - by[lo]["torch_step_s"]
            # what the longer source adds to a step: reading the extra cross-attention keys and
            # values of every layer; minitf keeps one copy per source (its beams share it),
            # transformers one per row (batch x beams)
            per_source = (hi - lo) * 2 * hf_cfg.d_model * 4 * hf_cfg.decoder_layers  # bytes
            bw = measure_bandwidth()
            extra_a, extra_b = per_source * args.batch, per_source * args.batch * args.beams
            print(f"src {lo} -> {hi}: the step grows by {grow_a * 1e3:.1f} ms (minitf, reads "
                  f"{extra_a / 1e6:.0f} MB more cross-attention k/v = {extra_a / bw * 1e3:.1f} ms "
                  f"at the copy bandwidth {bw / 1e9:.1f} GB/s) and {grow_b * 1e3:.1f} ms (torch, "
                  f"{extra_b / 1e6:.0f} MB = {extra_b / bw * 1e3:.1f} ms)")
            results["step_growth"] = {"src": [lo, hi], "minitf_s": grow_a, "torch_s": grow_b,
                                      "minitf_extra_cross_kv_bytes": extra_a,
                                      "torch_extra_cross_kv_bytes": extra_b,
                                      "copy_bandwidth_GBps": bw / 1e9}

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run_ours(ids, args.new_tokens)
        prof.disable()
        print("\nminitf generate(), by function (tottime = time in the function itself):")
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)

    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "seq2seq.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
