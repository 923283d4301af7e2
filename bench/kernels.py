"""Kernels on this CPU: NumPy reference vs Numba vs PyTorch, measured in the same run.

    .venv/bin/python bench/kernels.py            # (make bench runs it after bench/gpt2.py)

1. Causal attention, 12 heads x 64, batch 1, sequence 256 .. 8192: the NumPy reference
   (`scaled_dot_product_attention` with the numpy backend: full score matrix), the Numba fused
   kernel (key tiles + online softmax), and `torch.nn.functional.scaled_dot_product_attention`.
   Each measurement runs in a fresh subprocess so its peak memory (ru_maxrss growth over the
   inputs) is its own. Printed: time, peak extra memory, and speed-ups over the reference.
2. The teaching tiled matmul against BLAS (`numpy.matmul`) on GPT-2 shapes.
3. GPT-2 small greedy decoding (128 new tokens, KV cache), tokens/s with each CPU backend
   vs PyTorch eager (transformers), and the memory-bandwidth bound.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

HEADS, HEAD_DIM = 12, 64


def _inputs(n):
    rng = np.random.default_rng(0)
    return [rng.standard_normal((1, HEADS, n, HEAD_DIM), dtype=np.float32) for _ in range(3)]


def one_attention(impl: str, n: int, repeats: int) -> dict:
    """Run one implementation at one length (called in a subprocess)."""
    def make(n):
        q, k, v = _inputs(n)
        if impl == "torch":
            import torch

            torch.set_num_threads(os.cpu_count())
            tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
            return lambda: torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
        from minitf.attention import causal_mask, scaled_dot_product_attention
        from minitf.backend import set_backend

        set_backend(impl)
        mask = causal_mask(n, n)
        return lambda: scaled_dot_product_attention(q, k, v, mask)

    make(32)()  # load libraries and compiled kernels before the memory baseline
    fn = make(n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # inputs and mask included
    fn()  # warm-up: first touch of memory
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base  # kB
    return {"time_s": min(times), "peak_mb": peak / 1024}


def bench_attention(lengths, repeats):
    print(f"causal attention, {HEADS} heads x {HEAD_DIM}, batch 1 (each cell its own process)")
    print(f"{'n':>6} | {'numpy ms':>9} {'MB':>7} | {'numba ms':>9} {'MB':>6} | {'torch ms':>9} {'MB':>6} |"
          f" {'numba/numpy':>11} {'numba/torch':>11}")
    rows = []
    for n in lengths:
        cell = {}
        for impl in ("numpy", "numba", "torch"):
            r = 1 if n >= 4096 and impl == "numpy" else repeats
            out = subprocess.run([sys.executable, __file__, "--one", impl, str(n), str(r)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                cell[impl] = {"time_s": float("nan"), "peak_mb": float("nan")}
                print(f"  {impl} at {n} failed: {out.stderr.strip().splitlines()[-1:]}")
            else:
                cell[impl] = json.loads(out.stdout.strip().splitlines()[-1])
        a, b, c = (cell[i]["time_s"] for i in ("numpy", "numba", "torch"))
        print(f"{n:>6} | {a * 1e3:>9.1f} {cell['numpy']['peak_mb']:>7.0f} | {b * 1e3:>9.1f} "
              f"{cell['numba']['peak_mb']:>6.0f} | {c * 1e3:>9.1f} {cell['torch']['peak_mb']:>6.0f} |"
              f" {a / b:>10.2f}x {c / b:>10.2f}x")
        rows.append({"n": n, **cell})
    return rows


def bench_matmul(repeats):
    from minitf.kernels.cpu import teaching_matmul_tiled

    print("\nmatmul, float32: teaching tiled kernel vs BLAS (numpy.matmul)")
    rows = []
    for n, k, m in [(128, 768, 2304), (512, 768, 3072), (512, 3072, 768)]:
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((n, k), dtype=np.float32), rng.standard_normal((k, m), dtype=np.float32)
        teaching_matmul_tiled(a, b)
        t_tiled = min(_time(lambda: teaching_matmul_tiled(a, b)) for _ in range(repeats))
        t_blas = min(_time(lambda: a @ b) for _ in range(repeats))
        gf = 2 * n * k * m / 1e9
        print(f"  [{n}x{k}] @ [{k}x{m}]: tiled {t_tiled * 1e3:7.1f} ms ({gf / t_tiled:5.1f} GFLOP/s), "
              f"BLAS {t_blas * 1e3:6.1f} ms ({gf / t_blas:5.1f} GFLOP/s): BLAS {t_tiled / t_blas:.1f}x faster")
        rows.append({"shape": [n, k, m], "tiled_s": t_tiled, "blas_s": t_blas})
    return rows


def _time(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_decode(new_tokens, repeats):
    import torch
    import transformers

    from minitf.backend import use_backend
    from minitf.config import GPT2Config
    from minitf.models.gpt2 import GPT2LMHeadModel
    sys.path.insert(0, os.path.dirname(__file__))
    from gpt2 import measure_bandwidth

    torch.set_num_threads(os.cpu_count())
    ours = GPT2LMHeadModel(GPT2Config()).init_weights(seed=0)
    ref = transformers.GPT2LMHeadModel(transformers.GPT2Config()).eval()
    ref.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()}, strict=False)
    ref.tie_weights()
    ids = np.random.default_rng(0).integers(0, 50257, (1, 16))
    kw = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, pad_token_id=0)
    res = {}
    for backend in ("numpy", "numba"):
        with use_backend(backend):
            ours.generate(ids, max_new_tokens=4)
            res[backend] = statistics.median(_time(lambda: ours.generate(ids, **kw)) for _ in range(repeats))
    with torch.no_grad():
        ref.generate(torch.from_numpy(ids), max_new_tokens=4, pad_token_id=0)
        res["torch"] = statistics.median(_time(lambda: ref.generate(torch.from_numpy(ids), do_sample=False, **kw))
                                         for _ in range(repeats))
    bound = ours.weight_bytes() / measure_bandwidth()
    print(f"\nGPT-2 small greedy decoding, {new_tokens} new tokens, KV cache")
    for name, t in res.items():
        print(f"  {name:6s} {new_tokens / t:6.1f} tokens/s  ({t / new_tokens * 1e3:5.1f} ms/token = "
              f"{t / new_tokens / bound:.2f}x the bandwidth bound of {bound * 1e3:.1f} ms)")
    best = min(("numpy", "numba"), key=res.get)
    print(f"  best CPU backend ({best}) vs PyTorch eager: {res['torch'] / res[best]:.2f}x the tokens per second")
    return {k: new_tokens / v for k, v in res.items()} | {"bound_ms": bound * 1e3}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", nargs=3, metavar=("IMPL", "N", "REPEATS"), help=argparse.SUPPRESS)
    ap.add_argument("--lengths", type=int, nargs="*", default=[256, 512, 1024, 2048, 4096, 8192])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--skip", nargs="*", default=[], choices=["attention", "matmul", "decode"])
    args = ap.parse_args(argv)
    if args.one:
        impl, n, r = args.one
        print(json.dumps(one_attention(impl, int(n), int(r))))
        return
    results = {}
    if "attention" not in args.skip:
        results["attention"] = bench_attention(args.lengths, args.repeats)
    if "matmul" not in args.skip:
        results["matmul"] = bench_matmul(args.repeats)
    if "decode" not in args.skip:
        results["decode"] = bench_decode(args.new_tokens, max(1, args.repeats - 1))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "kernels.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
