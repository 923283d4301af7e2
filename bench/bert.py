"""BERT-base (110M, random weights) on this CPU: minitf against transformers + PyTorch.

    .venv/bin/python bench/bert.py [--repeats 7] [--batch 8] [--seq 128] [--profile]

Both frameworks get the same float32 weights, the same right-padded batch (8 x 128 tokens by
default, rows of 64..128 real tokens with their attention mask) and the same thread count (all
cores). One forward pass of the bare BertModel (last_hidden_state + pooler_output), measured
side by side in one process, alternating, median of the repeats. transformers runs its default
attention (SDPA). Printed: both times, and the ratio torch/minitf (> 1 means minitf is faster).
With --profile, a cProfile of one minitf forward pass, by function, says where the time goes.
Results are also written to bench/results/bert.json.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import time
from pathlib import Path

import minitf  # before NumPy: it sets OpenBLAS's thread timeout, see minitf/__init__.py)
import numpy as np


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--profile", action="store_true", help="cProfile one minitf forward pass")
    args = ap.parse_args(argv)

    import torch
    import transformers

    from minitf.config import BertConfig
    from minitf.models.bert import BertModel

    torch.set_num_threads(args.threads)
    ours = BertModel(BertConfig()).init_weights(seed=0)
    ref = transformers.BertModel(transformers.BertConfig()).eval()  # SDPA attention by default
    ref.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    print(f"BERT-base, {ours.num_parameters():,} parameters, float32, batch {args.batch} x "
          f"{args.seq} tokens, {args.threads} threads; minitf backend "
          f"{minitf.backend.get_backend()!r}, torch {torch.__version__}, transformers "
          f"{transformers.__version__} ({ref.config._attn_implementation} attention)")

    rng = np.random.default_rng(0)
    b, t = args.batch, args.seq
    ids = rng.integers(1000, 30000, (b, t))
    mask = np.zeros((b, t), np.int64)
    for i, n in enumerate(rng.integers(t // 2, t + 1, b)):
        mask[i, :n] = 1
    mask[0] = 1  # at least one full row
    ids[mask == 0] = 0  # [PAD]
    inputs = dict(input_ids=ids, attention_mask=mask)
    tinputs = {k: torch.from_numpy(v) for k, v in inputs.items()}

    def run_ours():
        return ours(**inputs)

    def run_ref():
        with torch.no_grad():
            return ref(**tinputs)

    # correctness first: the same numbers
    a, r = run_ours(), run_ref()
    diff = float(np.abs(a.last_hidden_state - r.last_hidden_state.numpy()).max())
    pdiff = float(np.abs(a.pooler_output - r.pooler_output.numpy()).max())
    print(f"max |difference|: last_hidden_state {diff:.2e}, pooler_output {pdiff:.2e}")

    run_ours(), run_ref()  # warm-up (numba compilation, page faults, oneDNN primitives)
    ta, tb = [], []
    for _ in range(args.repeats):  # alternate, so drift hits both alike
        ta.append(timed(run_ours))
        tb.append(timed(run_ref))
    ma, mb = statistics.median(ta), statistics.median(tb)
    tokens = b * t
    print(f"\n{'':>10} {'minitf':>10} {'torch':>10} {'ratio':>7}")
    print(f"{'forward':>10} {ma * 1e3:>8.1f}ms {mb * 1e3:>8.1f}ms {mb / ma:>7.2f}")
    print(f"{'tokens/s':>10} {tokens / ma:>10.0f} {tokens / mb:>10.0f}")
    results = {"threads": args.threads, "backend": minitf.backend.get_backend(), "batch": b,
               "seq": t, "minitf_s": ma, "torch_s": mb, "ratio": mb / ma,
               "minitf_all_s": ta, "torch_all_s": tb, "max_abs_diff_last_hidden": diff,
               "max_abs_diff_pooler": pdiff, "torch": torch.__version__,
               "transformers": transformers.__version__}

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run_ours()
        prof.disable()
        print("\nminitf forward, by function (tottime = time in the function itself):")
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)

    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bert.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
