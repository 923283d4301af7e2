"""minitf's CUDA kernels on this GPU, against CuPy and PyTorch on the same card.

    .venv/bin/python bench/kernels_gpu.py [--seq 256 512 1024 2048 4096 8192] [--repeats 10]
                                          [--dtype float32 float16] [--new-tokens 64]

1. Attention, batch 1, 12 heads x 64 (GPT-2 small's shape), causal and full, for each length:
   - fused: minitf's FlashAttention-style kernel (kernels/attention.cu via kernels/gpu.py);
   - cupy:  minitf's reference on CuPy arrays: q k^T with cuBLAS, masked softmax, @ v
            (`scaled_dot_product_attention` under the "numpy" backend, i.e. without the kernel);
   - torch: torch.nn.functional.scaled_dot_product_attention on CUDA (its fastest backend for
            the dtype: FlashAttention-2 for float16, memory-efficient attention for float32).
   Times are CUDA-event times around each call after a warm-up, median of the repeats;
   TFLOP/s counts 4 * heads * n_q * n_k * head_dim (halved for causal).
2. GPT-2 small (124M, random weights) greedy decoding: 16-token prompt then --new-tokens tokens
   with the KV cache; minitf on CuPy (device="cuda") against transformers on PyTorch, eager
   mode (no torch.compile), float32, the same weights. Tokens per second, and whether the ids agree.

Needs a CUDA GPU and CuPy (pip install 'minitf[gpu]'); the PyTorch columns need torch with
CUDA and transformers (pip install 'minitf[reference]' with a CUDA build of torch) and are left
out, with a note, otherwise. Without a GPU it says so and exits 0.
Results are also written to bench/results/kernels_gpu.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def find_gpu():
    """cupy, or None (with the reason printed) when there is no usable GPU."""
    try:
        import cupy
    except ImportError:
        print("bench/kernels_gpu.py needs a CUDA GPU with CuPy (pip install 'minitf[gpu]'); "
              "CuPy is not installed here. Nothing to measure.")
        return None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # no driver / too old a driver
        count, why = 0, f" ({type(err).__name__}: {err})"
    else:
        why = ""
    if count == 0:
        print(f"bench/kernels_gpu.py needs a CUDA GPU; none is visible{why}. Nothing to measure.")
        return None
    return cupy


def find_torch():
    try:
        import torch
    except ImportError:
        print("(torch is not installed: no PyTorch columns)")
        return None
    if not torch.cuda.is_available():
        print(f"(torch {torch.__version__} has no CUDA here: no PyTorch columns)")
        return None
    return torch


def cuda_time(fn, repeats: int, cupy) -> float:
    """Median seconds of fn() between two CUDA events on the default stream (shared by CuPy
    and PyTorch), after one warm-up call."""
    fn()
    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    times = []
    for _ in range(repeats):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end) / 1e3)
    return statistics.median(times)


def bench_attention(args, cupy, torch, results):
    import minitf
    from minitf.attention import causal_mask, scaled_dot_product_attention
    from minitf.kernels import gpu

    b, h, d = 1, 12, 64
    results["attention"] = []
    for dtype in args.dtype:
        for causal in (True, False):
            title = f"attention {'causal' if causal else 'full'}, {dtype}, batch {b}, {h} heads x {d}"
            print(f"\n{title}\n{'seq':>6} {'fused':>10} {'cupy':>10} {'torch':>10}  "
                  f"{'fused TF/s':>10} {'cupy/fused':>10} {'torch/fused':>11} {'max|diff|':>10}")
            for n in args.seq:
                rng = cupy.random.default_rng(n)
                q, k, v = (rng.standard_normal((b, h, n, d), dtype=cupy.float32).astype(dtype)
                           for _ in range(3))
                mask = causal_mask(n, n, cupy) if causal else None
                fused = lambda: gpu.flash_attention(q, k, v, causal=causal)  # noqa: E731

                def reference():
                    with minitf.backend.use_backend("numpy"):  # the readable code, on CuPy
                        return scaled_dot_product_attention(q, k, v, mask)[0]

                row = {"dtype": dtype, "causal": causal, "seq": n, "fused_s": cuda_time(fused, args.repeats, cupy)}
                try:
                    row["cupy_s"] = cuda_time(reference, args.repeats, cupy)
                    row["max_abs_diff"] = float(cupy.abs(fused().astype(cupy.float32)
                                                         - reference().astype(cupy.float32)).max())
                except cupy.cuda.memory.OutOfMemoryError:
                    row["cupy_s"] = row["max_abs_diff"] = None  # the [n, n] scores do not fit
                cupy.get_default_memory_pool().free_all_blocks()
                if torch is not None:
                    tq, tk, tv = (torch.as_tensor(a, device="cuda") for a in (q, k, v))
                    sdpa = torch.nn.functional.scaled_dot_product_attention
                    with torch.no_grad():
                        row["torch_s"] = cuda_time(lambda: sdpa(tq, tk, tv, is_causal=causal),
                                                   args.repeats, cupy)
                flops = 4 * b * h * n * n * d / (2 if causal else 1)
                t, c, p = row["fused_s"], row.get("cupy_s"), row.get("torch_s")
                fmt = lambda s: f"{s * 1e3:>8.3f}ms" if s else f"{'-':>10}"  # noqa: E731
                print(f"{n:>6} {fmt(t)} {fmt(c)} {fmt(p)}  {flops / t / 1e12:>10.2f} "
                      f"{(c / t if c else float('nan')):>10.2f} {(p / t if p else float('nan')):>11.2f} "
                      f"{row['max_abs_diff'] if row['max_abs_diff'] is not None else float('nan'):>10.1e}")
                results["attention"].append(row)


def bench_decode(args, cupy, torch, results):
    from minitf.config import GPT2Config
    from minitf.models.gpt2 import GPT2LMHeadModel

    n_new = args.new_tokens
    ours = GPT2LMHeadModel(GPT2Config()).init_weights(seed=0).to(device="cuda")
    ids = np.random.default_rng(0).integers(0, 50257, (1, 16))
    kw = dict(max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False, pad_token_id=0)
    ours.generate(ids, max_new_tokens=4, pad_token_id=0)  # warm-up: compiles the kernels
    times = []
    for _ in range(args.decode_repeats):
        cupy.cuda.Device().synchronize()
        t = time.perf_counter()
        out_ours = ours.generate(ids, **kw)
        times.append(time.perf_counter() - t)
    t_ours = statistics.median(times)
    print(f"\nGPT-2 small greedy decoding, float32, 16-token prompt + {n_new} new tokens, batch 1")
    print(f"  minitf on CuPy       {n_new / t_ours:>8.1f} tokens/s  ({t_ours / n_new * 1e3:.2f} ms/token)")
    row = {"new_tokens": n_new, "minitf_s": t_ours, "minitf_tokens_per_s": n_new / t_ours}
    if torch is not None:
        try:
            import transformers
        except ImportError:
            print("  (transformers is not installed: no PyTorch row)")
            torch = None
    if torch is not None:
        ref = transformers.GPT2LMHeadModel(transformers.GPT2Config()).eval()
        ref.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()},
                            strict=False)
        ref.tie_weights()
        ref = ref.to("cuda")
        tids = torch.from_numpy(ids).to("cuda")
        with torch.no_grad():
            ref.generate(tids, max_new_tokens=4, pad_token_id=0)
            times = []
            for _ in range(args.decode_repeats):
                torch.cuda.synchronize()
                t = time.perf_counter()
                out_ref = ref.generate(tids, **kw)
                torch.cuda.synchronize()
                times.append(time.perf_counter() - t)
        t_ref = statistics.median(times)
        same = bool(np.array_equal(np.asarray(out_ours), out_ref.cpu().numpy()))
        print(f"  PyTorch eager ({ref.config._attn_implementation}) {n_new / t_ref:>8.1f} tokens/s  "
              f"({t_ref / n_new * 1e3:.2f} ms/token); same ids: {same}")
        row.update(torch_s=t_ref, torch_tokens_per_s=n_new / t_ref, same_ids=same,
                   torch_attention=ref.config._attn_implementation)
    results["decode"] = row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seq", type=int, nargs="*", default=[256, 512, 1024, 2048, 4096, 8192])
    ap.add_argument("--dtype", nargs="*", default=["float32", "float16"], choices=["float32", "float16"])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--decode-repeats", type=int, default=3)
    ap.add_argument("--skip-decode", action="store_true")
    args = ap.parse_args(argv)

    cupy = find_gpu()
    if cupy is None:
        return 0
    torch = find_torch()
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    print(f"GPU: {name}; CuPy {cupy.__version__}" + (f", torch {torch.__version__}" if torch else ""))
    results = {"gpu": name, "cupy": cupy.__version__, "torch": torch.__version__ if torch else None}
    bench_attention(args, cupy, torch, results)
    if not args.skip_decode:
        bench_decode(args, cupy, torch, results)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "kernels_gpu.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
