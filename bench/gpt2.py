"""GPT-2 small (124M, random weights) on this CPU: minitf against transformers + PyTorch.

    make bench            # or: .venv/bin/python bench/gpt2.py [--repeats 5] [--new-tokens 128]

Both frameworks get the same float32 weights, batch 1, and the same thread count (all cores).
Measured side by side in one process, alternating, median of the repeats:
- prefill: one forward pass over 128 and 512 prompt tokens (logits for every position);
- decode: greedy generation of 128 new tokens after a 16-token prompt, with the KV cache
  (min_new_tokens forces both to run all 128 steps).
Printed: both times, the ratio torch/minitf (> 1 means minitf is faster), and the
memory-bandwidth bound for decoding: every weight byte is read once per token, so a token
cannot take less than weight_bytes / bandwidth, with bandwidth measured here by a large copy.
Results are also written to bench/results/gpt2.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import minitf  # noqa: F401  (before NumPy: it sets OpenBLAS's thread timeout, see minitf/__init__.py)
import numpy as np


def measure_bandwidth(mb: int = 512, repeats: int = 5) -> float:
    """Bytes per second for a large copy (read + write), the ceiling for weight streaming."""
    src = np.ones(mb * 1024 * 1024 // 4, np.float32)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return 2 * src.nbytes / best


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--prefill", type=int, nargs="*", default=[128, 512])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args(argv)

    import torch
    import transformers

    import minitf
    from minitf.config import GPT2Config
    from minitf.models.gpt2 import GPT2LMHeadModel

    torch.set_num_threads(args.threads)
    ours = GPT2LMHeadModel(GPT2Config()).init_weights(seed=0)
    hf_cfg = transformers.GPT2Config()
    hf_cfg._attn_implementation = "sdpa"  # transformers' default (and fastest) on CPU
    ref = transformers.GPT2LMHeadModel(hf_cfg).eval()
    ref.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()},
                        strict=False)
    ref.tie_weights()
    print(f"GPT-2 small, {ours.num_parameters() - ours.lm_head.weight.size:,} parameters, float32, "
          f"batch 1, {args.threads} threads; minitf backend {minitf.backend.get_backend()!r}, "
          f"torch {torch.__version__}, transformers {transformers.__version__}")
    rng = np.random.default_rng(0)
    results = {"threads": args.threads, "backend": minitf.backend.get_backend(), "prefill": {}}

    # correctness first: the same logits
    ids = rng.integers(0, 50257, (1, 32))
    with torch.no_grad():
        diff = np.abs(ours(input_ids=ids).logits - ref(torch.from_numpy(ids)).logits.numpy()).max()
    print(f"max |logits difference| on 32 tokens: {diff:.2e}")
    results["max_abs_logit_diff"] = float(diff)

    print(f"\n{'prefill':>12} {'minitf':>10} {'torch':>10} {'ratio':>7}")
    for n in args.prefill:
        ids = rng.integers(0, 50257, (1, n))
        tids = torch.from_numpy(ids)
        ours(input_ids=ids, use_cache=False)  # warm-up (numba compilation, page faults)
        with torch.no_grad():
            ref(tids, use_cache=False)
        a, b = [], []
        for _ in range(args.repeats):  # alternate, so drift hits both alike
            a += timed(lambda: ours(input_ids=ids, use_cache=False), 1)
            with torch.no_grad():
                b += timed(lambda: ref(tids, use_cache=False), 1)
        ta, tb = statistics.median(a), statistics.median(b)
        print(f"{n:>8} tok {ta * 1e3:>8.1f}ms {tb * 1e3:>8.1f}ms {tb / ta:>7.2f}")
        results["prefill"][n] = {"minitf_s": ta, "torch_s": tb, "ratio": tb / ta}

    n_new = args.new_tokens
    ids = rng.integers(0, 50257, (1, 16))
    tids = torch.from_numpy(ids)
    kw = dict(max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False, pad_token_id=0)
    ours.generate(ids, max_new_tokens=4)
    with torch.no_grad():
        ref.generate(tids, max_new_tokens=4, pad_token_id=0)
    a, b, tpot = [], [], []
    same = True
    for _ in range(max(1, args.repeats // 2)):
        t = time.perf_counter()
        out_a = ours.generate(ids, **kw)
        a.append(time.perf_counter() - t)
        tpot.append(ours.generation_stats.time_per_output_token)
        with torch.no_grad():
            t = time.perf_counter()
            out_b = ref.generate(tids, **kw).numpy()
            b.append(time.perf_counter() - t)
        same &= np.array_equal(out_a, out_b)
    ta, tb = statistics.median(a), statistics.median(b)
    bw = measure_bandwidth()
    bound = ours.weight_bytes() / bw
    per_token = statistics.median(tpot)
    print(f"\ndecode {n_new} new tokens (16-token prompt, KV cache), same ids: {same}")
    print(f"{'':>12} {'minitf':>10} {'torch':>10} {'ratio':>7}")
    print(f"{'total':>12} {ta:>9.2f}s {tb:>9.2f}s {tb / ta:>7.2f}")
    print(f"{'tokens/s':>12} {n_new / ta:>10.1f} {n_new / tb:>10.1f}")
    print(f"\nmemory bandwidth (copy): {bw / 1e9:.1f} GB/s; weights {ours.weight_bytes() / 1e6:.0f} MB "
          f"-> bound {bound * 1e3:.1f} ms/token")
    print(f"minitf time per output token {per_token * 1e3:.1f} ms = {per_token / bound:.2f}x the bound")
    results["decode"] = {"new_tokens": n_new, "minitf_s": ta, "torch_s": tb, "ratio": tb / ta,
                         "same_ids": bool(same), "bandwidth_GBps": bw / 1e9,
                         "bound_ms_per_token": bound * 1e3, "minitf_ms_per_token": per_token * 1e3,
                         "x_bound": per_token / bound}
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "gpt2.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
