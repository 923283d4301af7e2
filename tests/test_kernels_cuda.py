"""The CUDA kernels (kernels/*.cu, kernels/gpu.py) against the NumPy reference.

Three layers, so that most of it runs on machines without a GPU (CI has none):
1. Every .cu file compiles with the machine's nvcc for sm_80 and sm_90 (skipped only when
   nvcc is absent); register/shared-memory use and ptxas warnings are reported.
2. The kernels' numbers on fresh random inputs against `scaled_dot_product_attention`,
   `numpy.matmul`, `ops.layer_norm`, `ops.gelu*` - run twice:
   - "emulator": the .cu sources compiled by the host C++ compiler with a small emulator of
     CUDA's threads (below: every thread of a block is a fiber, __syncthreads and warp
     shuffles are real rendezvous), driven through kernels/gpu.py with NumPy arrays. It checks
     indexing, tiling, masking and the online softmax; it cannot see GPU-only effects
     (timing, memory-model races the fibers' fixed order hides, the PTX half conversions).
   - "cuda": the same tests on a GPU through CuPy; skipped without CuPy or a visible GPU.
3. A whole GPT-2 forward and greedy generation on device="cuda" against the CPU (GPU only).
"""
from __future__ import annotations

import ctypes
import dataclasses
import importlib.util
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf import ops
from minitf.attention import causal_mask, scaled_dot_product_attention, split_heads
from minitf.backend import kernel, use_backend

ROOT = Path(__file__).resolve().parents[1]
KERNEL_DIR = ROOT / "kernels"
CU_FILES = sorted(KERNEL_DIR.glob("*.cu"))
TINY_GPT2 = ROOT / "weights" / "tiny-gpt2"

gpu = pytest.importorskip("minitf.kernels.gpu")  # imports without CuPy: only numpy at import


# ---------------------------------------------------------------------------------------------
# 1. nvcc
# ---------------------------------------------------------------------------------------------

def test_there_are_cuda_sources():
    assert {p.name for p in CU_FILES} >= {"attention.cu", "teaching_matmul.cu", "elementwise.cu"}


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("source", CU_FILES, ids=lambda p: p.name)
def test_cu_compiles_with_nvcc(source, arch, tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not installed: the CUDA sources cannot be compiled on this machine")
    cmd = [nvcc, "-cubin", f"-arch={arch}", "-std=c++17", "--resource-usage",
           "-Xptxas", "-warn-spills,-warn-lmem-usage", "-o", str(tmp_path / "out.cubin"), str(source)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"{' '.join(cmd)} failed:\n{log}"
    print(f"$ {' '.join(cmd)}\n{log}")  # registers and shared memory per kernel (pytest -rP)
    problems = [line for line in log.splitlines() if "warning" in line.lower()
                or re.search(r"[1-9]\d* bytes spill", line)]
    if problems:
        warnings.warn(f"{source.name} ({arch}):\n" + "\n".join(problems))


# ---------------------------------------------------------------------------------------------
# 2a. The CPU emulator of CUDA threads
# ---------------------------------------------------------------------------------------------

EMULATOR_H = r"""
// Runs a CUDA kernel on the CPU: the blocks one after another, and the threads of a block as
// fibers (ucontext) on one OS thread. A thread runs until it waits at a barrier
// (__syncthreads, __syncwarp, a shuffle) and then yields; a round-robin scheduler resumes the
// others, in thread order and in reverse order on alternate rounds, so that a missing barrier
// shows up as a wrong result whichever thread writes first. __shared__ becomes static (one
// block at a time). A round in which no thread moves means some threads wait at a barrier
// the others never reach: reported as a deadlock.
#include <math.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>
#include <ucontext.h>

struct dim3 { unsigned x, y, z; };
static dim3 threadIdx, blockIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
using std::max;
using std::min;
static inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }

namespace emu {
struct Fiber { ucontext_t ctx; dim3 tid; bool done; int or_phase; char* stack; };
struct Barrier { int arrived; unsigned long long generation; };
static const size_t STACK = 256 * 1024;
static std::vector<Fiber> fibers;
static ucontext_t scheduler;
static int current, n_threads;
static unsigned long long progress;
static Barrier block_barrier, warp_barrier[32];
static int or_flag[2];
static unsigned long long slot[1024];
static std::function<void()> body;

static void wait(Barrier& b, int n) {
    ++progress;
    unsigned long long generation = b.generation;
    if (++b.arrived == n) { b.arrived = 0; ++b.generation; return; }
    while (b.generation == generation) swapcontext(&fibers[current].ctx, &scheduler);
}
static void fiber_main() { body(); fibers[current].done = true; ++progress; }

static int run(dim3 grid, dim3 block) {
    gridDim = grid; blockDim = block;
    n_threads = (int)(block.x * block.y * block.z);
    if (n_threads < 1 || n_threads > 1024) return 1;
    while ((int)fibers.size() < n_threads) {
        fibers.push_back(Fiber());
        fibers.back().stack = (char*)std::malloc(STACK);
    }
    for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = dim3{bx, by, bz};
        block_barrier = Barrier{0, 0};
        for (auto& w : warp_barrier) w = Barrier{0, 0};
        or_flag[0] = or_flag[1] = 0;
        for (int i = 0; i < n_threads; ++i) {
            Fiber& f = fibers[i];
            getcontext(&f.ctx);
            f.ctx.uc_stack.ss_sp = f.stack;
            f.ctx.uc_stack.ss_size = STACK;
            f.ctx.uc_link = &scheduler;
            makecontext(&f.ctx, fiber_main, 0);
            f.done = false;
            f.or_phase = 0;
            f.tid = dim3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
        }
        for (int alive = n_threads, round = 0; alive > 0; ++round) {
            unsigned long long before = progress;
            for (int turn = 0; turn < n_threads; ++turn) {
                int i = round % 2 ? n_threads - 1 - turn : turn;
                if (fibers[i].done) continue;
                current = i;
                threadIdx = fibers[i].tid;
                swapcontext(&scheduler, &fibers[i].ctx);
                if (fibers[i].done) --alive;
            }
            if (alive > 0 && progress == before) {
                std::fprintf(stderr, "emulator: deadlock in block (%u, %u, %u)\n", bx, by, bz);
                return 2;
            }
        }
    }
    return 0;
}

template <class... A, std::size_t... I>
static void call(void (*kernel)(A...), void** args, std::index_sequence<I...>) {
    kernel(*static_cast<typename std::remove_reference<A>::type*>(args[I])...);
}

// cuLaunchKernel's convention: args[i] points at the value of parameter i.
template <class... A>
static int launch(void (*kernel)(A...), unsigned gx, unsigned gy, unsigned gz,
                  unsigned bx, unsigned by, unsigned bz, void** args) {
    body = [=] { call(kernel, args, std::index_sequence_for<A...>{}); };
    return run(dim3{gx, gy, gz}, dim3{bx, by, bz});
}
}  // namespace emu

static inline void __syncthreads() { emu::wait(emu::block_barrier, emu::n_threads); }
static inline void __syncwarp(unsigned = 0xffffffffu) {
    int w = emu::current / 32;
    emu::wait(emu::warp_barrier[w], std::min(32, emu::n_threads - 32 * w));
}
static inline int __syncthreads_or(int predicate) {
    int& phase = emu::fibers[emu::current].or_phase;  // two flags, used alternately
    int which = phase;
    phase ^= 1;
    if (predicate) emu::or_flag[which] = 1;
    __syncthreads();
    int result = emu::or_flag[which];
    __syncthreads();
    if (emu::current == 0) emu::or_flag[which] = 0;
    return result;
}
template <class T>
static inline T __shfl_xor_sync(unsigned, T value, int lane_mask, int = 32) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    int t = emu::current;
    std::memcpy(&emu::slot[t], &value, sizeof(T));
    __syncwarp();
    T result;
    std::memcpy(&result, &emu::slot[(t & ~31) | ((t & 31) ^ lane_mask)], sizeof(T));
    __syncwarp();
    return result;
}
"""


class CudaEmulator:
    """Builds each .cu file into a shared library with the emulator; `launch` mirrors
    `kernels.gpu._launch` for NumPy arrays."""

    def __init__(self, compiler: str, build_dir: Path):
        self.compiler, self.build_dir, self.libs = compiler, build_dir, {}
        (build_dir / "emulator.h").write_text(EMULATOR_H)

    def lib(self, filename: str):
        if filename not in self.libs:
            source = KERNEL_DIR / filename
            names = re.findall(r'extern "C" __global__ void(?: __launch_bounds__\([^)]*\))? (\w+)\(',
                               source.read_text())
            assert names, f"no kernels found in {filename}"
            unit = self.build_dir / f"{source.stem}_emulated.cpp"
            unit.write_text(f'#include "emulator.h"\n#include "{source}"\n' + "".join(
                f'extern "C" int emu_launch_{n}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, '
                f'unsigned by, unsigned bz, void** args) {{ return emu::launch({n}, gx, gy, gz, bx, by, '
                f'bz, args); }}\n' for n in names))
            out = self.build_dir / f"{source.stem}_emulated.so"
            cmd = [self.compiler, "-std=c++17", "-O2", "-fPIC", "-shared", "-Wno-unknown-pragmas",
                   f"-I{self.build_dir}", str(unit), "-o", str(out)]
            run = subprocess.run(cmd, capture_output=True, text=True)
            assert run.returncode == 0, f"{' '.join(cmd)} failed:\n{run.stderr}"
            self.libs[filename] = ctypes.CDLL(str(out))
        return self.libs[filename]

    def launch(self, filename, name, grid, block, args):
        values = []
        for a in args:
            if isinstance(a, np.ndarray):
                values.append(ctypes.c_void_p(a.ctypes.data))
            elif isinstance(a, np.uint64):  # gpu._NULL
                values.append(ctypes.c_void_p(int(a) or None))
            elif isinstance(a, np.int32):
                values.append(ctypes.c_int32(int(a)))
            elif isinstance(a, np.int64):
                values.append(ctypes.c_int64(int(a)))
            elif isinstance(a, np.float32):
                values.append(ctypes.c_float(float(a)))
            else:
                raise TypeError(f"kernel argument of type {type(a).__name__}")
        argv = (ctypes.c_void_p * len(values))(*(ctypes.addressof(v) for v in values))
        fn = getattr(self.lib(filename), f"emu_launch_{name}")
        fn.restype = ctypes.c_int
        grid, block = (tuple(grid) + (1, 1))[:3], (tuple(block) + (1, 1))[:3]
        rc = fn(*(ctypes.c_uint(int(g)) for g in grid + block), argv)
        assert rc == 0, f"emulated {name} failed (code {rc}: 1 = bad block size, 2 = deadlock)"


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None or not sys.platform.startswith("linux"):
        pytest.skip("the CPU emulator needs a C++ compiler and Linux (ucontext)")
    return CudaEmulator(compiler, tmp_path_factory.mktemp("cuda_emulator"))


def _gpu_or_skip():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install 'minitf[gpu]')")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # no driver, or a driver too old for this CuPy
        pytest.skip(f"no usable CUDA GPU: {type(err).__name__}: {err}")
    if count == 0:
        pytest.skip("no CUDA GPU is visible")
    return cupy


class Device:
    """Where the kernels run: `put` moves a NumPy array there, `get` brings a result back."""

    def __init__(self, name, put, get):
        self.name, self.put, self.get = name, put, get


@pytest.fixture(params=["emulator", "cuda"])
def dev(request, monkeypatch):
    if request.param == "emulator":
        emu = request.getfixturevalue("emulator")
        monkeypatch.setattr(gpu, "_xp", lambda: np)
        monkeypatch.setattr(gpu, "_launch", emu.launch)
        return Device("emulator", np.asarray, np.asarray)
    cupy = _gpu_or_skip()
    return Device("cuda", cupy.asarray, cupy.asnumpy)


# ---------------------------------------------------------------------------------------------
# 2b. Numbers against the reference
# ---------------------------------------------------------------------------------------------

def reference_attention(q, k, v, mask, scale=None):
    """minitf's NumPy attention in float64 (the readable reference)."""
    with use_backend("numpy"):
        out, _ = scaled_dot_product_attention(q.astype(np.float64), k.astype(np.float64),
                                              v.astype(np.float64), mask, scale)
    return out


def qkv(rng, b, h, n_q, n_k, d, dtype=np.float32):
    return tuple(rng.standard_normal((b, h, n, d)).astype(dtype) for n in (n_q, n_k, n_k))


def check(got, ref, atol=2e-5, rtol=1e-4):
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == ref.shape
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, atol=atol, rtol=rtol)


# (batch, heads, n_q, n_k, head_dim): lengths off the 32-tile, one token, head_dim 8/64/80/128
ATTENTION_SHAPES = [(1, 1, 1, 1, 64), (1, 1, 2, 2, 64), (2, 3, 37, 37, 64), (1, 2, 33, 33, 80), (1, 1, 40, 40, 8),
                    (1, 1, 65, 65, 128), (2, 2, 7, 45, 80)]


@pytest.mark.parametrize("shape", ATTENTION_SHAPES, ids=str)
def test_flash_attention_causal(dev, shape):
    b, h, n_q, n_k, d = shape
    q, k, v = qkv(np.random.default_rng(0), *shape)
    mask = causal_mask(n_q, n_k)  # with n_k > n_q: the first n_k - n_q keys are a KV cache
    ref = reference_attention(q, k, v, mask)
    put = dev.put
    check(dev.get(gpu.flash_attention(put(q), put(k), put(v), causal=True)), ref)
    check(dev.get(gpu.flash_attention(put(q), put(k), put(v), put(mask))), ref)  # the same, as a mask


@pytest.mark.parametrize("shape", [(2, 2, 33, 70, 80), (3, 1, 5, 5, 64)], ids=str)
def test_flash_attention_padding_and_fully_masked_rows(dev, shape):
    b, h, n_q, n_k, d = shape
    rng = np.random.default_rng(1)
    q, k, v = qkv(rng, *shape)
    keep = rng.random((b, n_k)) > 0.3
    keep[0] = False  # batch row 0 is all padding: every query of it has nothing to attend to
    pad = keep[:, None, None, :]  # [b, 1, 1, n_k]
    ref = reference_attention(q, k, v, pad)
    np.testing.assert_allclose(ref[0], np.broadcast_to(v[0].mean(axis=1, keepdims=True), ref[0].shape),
                               atol=1e-6)  # uniform weights: the mean of v
    got = gpu.flash_attention(dev.put(q), dev.put(k), dev.put(v), dev.put(pad))
    check(dev.get(got), ref)
    lengths = keep.sum(axis=1)  # padding as lengths instead: keys >= length are masked
    by_length = np.arange(n_k)[None, None, None, :] < lengths[:, None, None, None]
    got = gpu.flash_attention(dev.put(q), dev.put(k), dev.put(v), key_lengths=dev.put(lengths), causal=True)
    check(dev.get(got), reference_attention(q, k, v, by_length & causal_mask(n_q, n_k)))


def test_flash_attention_left_padding_with_causal_and_general_mask(dev):
    """GPT-2 generation's prefill: left-padded prompts, causal & padding combined into one
    [b, 1, t, t] mask; padded query rows see nothing (mean of v)."""
    rng = np.random.default_rng(2)
    b, h, t, d = 3, 2, 41, 64
    q, k, v = qkv(rng, b, h, t, t, d)
    attn = np.ones((b, t), np.int64)
    attn[1, :9], attn[2, :40] = 0, 0
    mask = causal_mask(t, t) & attn.astype(bool)[:, None, None, :]
    random_mask = rng.random((b, h, t, t)) > 0.5  # any mask at all, per head
    for m in (mask, random_mask):
        got = gpu.flash_attention(dev.put(q), dev.put(k), dev.put(v), dev.put(m), scale=0.3)
        check(dev.get(got), reference_attention(q, k, v, m, scale=0.3))


def test_flash_attention_reads_strided_views(dev):
    """q, k, v cut from one fused projection and a preallocated KV cache: read in place."""
    rng = np.random.default_rng(3)
    b, t, n_head, d, capacity, past = 2, 19, 3, 64, 64, 11
    qkv_fused = rng.standard_normal((b, t, 3 * n_head * d)).astype(np.float32)
    q = split_heads(qkv_fused[..., : n_head * d], n_head)  # [b, h, t, d], strided
    cache = rng.standard_normal((2, b, n_head, capacity, d)).astype(np.float32)
    k, v = cache[0, :, :, : past + t], cache[1, :, :, : past + t]  # [b, h, past + t, d] views
    ref = reference_attention(q, k, v, causal_mask(t, past + t))
    if dev.name == "emulator":  # NumPy views straight into the kernel
        got = gpu.flash_attention(q, k, v, causal=True)
    else:
        fused, cache_d = dev.put(qkv_fused), dev.put(cache)
        got = gpu.flash_attention(split_heads(fused[..., : n_head * d], n_head),
                                  cache_d[0, :, :, : past + t], cache_d[1, :, :, : past + t], causal=True)
    check(dev.get(got), ref)
    assert got.transpose(0, 2, 1, 3).flags.c_contiguous  # out's memory is [b, t, h, d]: merge_heads is free


def test_flash_attention_float16(dev):
    rng = np.random.default_rng(4)
    q, k, v = qkv(rng, 2, 2, 37, 37, 64, np.float16)
    mask = causal_mask(37, 37)
    got = gpu.flash_attention(dev.put(q), dev.put(k), dev.put(v), causal=True)
    assert got.dtype == np.float16
    check(dev.get(got), reference_attention(q, k, v, mask), atol=2e-3, rtol=2e-3)


@pytest.mark.parametrize("n_k", [1, 7, 70, 300])
@pytest.mark.parametrize("d", [64, 80])
def test_decode_attention(dev, n_k, d):
    rng = np.random.default_rng(5)
    b, h = 3, 2
    q, k, v = qkv(rng, b, h, 1, n_k, d)
    keep = rng.random((b, n_k)) > 0.3
    keep[:, -1] = True
    keep[2] = False  # a row with nothing to attend to
    pad = keep[:, None, None, :]
    for m in (None, pad):
        got = gpu.decode_attention(dev.put(q), dev.put(k), dev.put(v),
                                   None if m is None else dev.put(m))
        check(dev.get(got), reference_attention(q, k, v, m))
    # flash_attention hands one query to the decode kernel
    got = gpu.flash_attention(dev.put(q), dev.put(k), dev.put(v), dev.put(pad), causal=True)
    check(dev.get(got), reference_attention(q, k, v, pad))


def test_decode_attention_reads_the_kv_cache_in_place(dev):
    rng = np.random.default_rng(6)
    b, h, d, capacity, n_k = 2, 3, 64, 128, 45
    cache = rng.standard_normal((2, b, h, capacity, d)).astype(np.float32)
    q = rng.standard_normal((b, 1, h, d)).astype(np.float32).transpose(0, 2, 1, 3)
    if dev.name == "emulator":
        k, v = cache[0, :, :, :n_k], cache[1, :, :, :n_k]
        got = gpu.decode_attention(q, k, v)
    else:
        c = dev.put(cache)
        got = gpu.decode_attention(dev.put(q), c[0, :, :, :n_k], c[1, :, :, :n_k])
    check(dev.get(got), reference_attention(q, cache[0, :, :, :n_k], cache[1, :, :, :n_k], None))


def test_decode_attention_float16(dev):
    q, k, v = qkv(np.random.default_rng(7), 2, 2, 1, 50, 64, np.float16)
    got = gpu.decode_attention(dev.put(q), dev.put(k), dev.put(v))
    assert got.dtype == np.float16
    check(dev.get(got), reference_attention(q, k, v, None), atol=2e-3, rtol=2e-3)


@pytest.mark.parametrize("a_shape,b_shape", [((1, 1), (1, 1)), ((33, 17), (17, 65)), ((64, 64), (64, 64)),
                                             ((5, 100), (100, 3)), ((2, 17, 33), (33, 9)),
                                             ((3, 1, 8, 40), (2, 40, 31)), ((4, 0), (0, 5))], ids=str)
def test_teaching_tiled_matmul(dev, a_shape, b_shape):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal(a_shape).astype(np.float32), rng.standard_normal(b_shape).astype(np.float32)
    got = dev.get(gpu.teaching_matmul_tiled(dev.put(a), dev.put(b)))
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    check(got, ref, atol=1e-4)


def test_teaching_tiled_matmul_transposed_operand(dev):
    w = np.random.default_rng(9).standard_normal((20, 50)).astype(np.float32)
    x = np.random.default_rng(10).standard_normal((7, 50)).astype(np.float32)
    got = gpu.teaching_matmul_tiled(dev.put(x), dev.put(w).T)  # [7, 50] @ [50, 20], a strided view
    check(dev.get(got), x.astype(np.float64) @ w.T.astype(np.float64), atol=1e-4)


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (2, 5, 33), (1, 4, 768), (2, 3, 129)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_layer_norm(dev, shape, dtype):
    rng = np.random.default_rng(11)
    x = (rng.normal(0, 3, shape) + 5).astype(dtype)
    w, b = rng.normal(size=shape[-1]).astype(dtype), rng.normal(size=shape[-1]).astype(dtype)
    with use_backend("numpy"):
        ref = ops.layer_norm(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 1e-5)
    got = gpu.layer_norm(dev.put(x), dev.put(w), dev.put(b), 1e-5)
    assert got.dtype == dtype and got.shape == x.shape
    tol = 1e-5 if dtype == np.float32 else 2e-2
    check(dev.get(got), ref, atol=tol, rtol=tol)


@pytest.mark.parametrize("name", ["gelu_new", "gelu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_gelu(dev, name, dtype):
    x = np.random.default_rng(12).normal(0, 4, (3, 5, 77)).astype(dtype)
    x.flat[:6] = [-1e4, -9.5, -1e-8, 0, 9.5, 1e4] if dtype == np.float32 else [-60, -9.5, 0, 0, 9.5, 60]
    with use_backend("numpy"):
        ref = getattr(ops, name)(x.astype(np.float64))
    got = getattr(gpu, name)(dev.put(x))
    assert got.dtype == dtype and got.shape == x.shape
    tol = 2e-6 if dtype == np.float32 else 2e-3
    check(dev.get(got), ref, atol=tol, rtol=tol)


# ---------------------------------------------------------------------------------------------
# 2c. Input checks (no kernel runs) and the backend's dispatch
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def numpy_seams(monkeypatch):
    """gpu.py on NumPy arrays, with a launcher that must not be reached."""
    monkeypatch.setattr(gpu, "_xp", lambda: np)
    monkeypatch.setattr(gpu, "_launch", lambda *a: pytest.fail("a kernel was launched"))


def test_errors_name_the_argument(numpy_seams):
    q = np.zeros((1, 2, 5, 64), np.float32)
    with pytest.raises(TypeError, match="k has dtype float64"):
        gpu.flash_attention(q, q.astype(np.float64), q)
    with pytest.raises(ValueError, match=r"v must be 4-D \[batch, heads, seq, head_dim\]"):
        gpu.flash_attention(q, q, q[0])
    with pytest.raises(ValueError, match="v's last axis"):
        gpu.flash_attention(q, q, np.zeros((1, 2, 64, 5), np.float32).transpose(0, 1, 3, 2))
    with pytest.raises(ValueError, match=r"k has shape \(1, 3, 5, 64\)"):
        gpu.flash_attention(q, np.zeros((1, 3, 5, 64), np.float32), q)
    with pytest.raises(ValueError, match="head_dim 256"):
        gpu.flash_attention(*(np.zeros((1, 1, 3, 256), np.float32),) * 3)
    with pytest.raises(ValueError, match="does not broadcast"):
        gpu.flash_attention(q, q, q, np.ones((3, 5), bool))
    with pytest.raises(TypeError, match="boolean"):
        gpu.flash_attention(q, q, q, np.zeros((5, 5), np.float32))
    with pytest.raises(ValueError, match="one query"):
        gpu.decode_attention(q, q, q)
    with pytest.raises(TypeError, match="q must be a CuPy array"):
        gpu.flash_attention(q.tolist(), q, q)
    with pytest.raises(TypeError, match="a has dtype float16"):
        gpu.teaching_matmul_tiled(np.zeros((2, 2), np.float16), np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"a's last axis \(3\) must equal b's second-to-last \(4\)"):
        gpu.teaching_matmul_tiled(np.zeros((2, 3), np.float32), np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\)"):
        gpu.layer_norm(q, np.ones(3, np.float32), np.zeros(64, np.float32))


def test_attention_op_declines_what_the_reference_can_do():
    """The registered "attention" declares what it takes, so `backend.kernel` hands it out only
    for those inputs (the op runs the reference otherwise): head_dim <= 128, contiguous head_dim,
    4-D, float32 or float16 (for every array: no mixed dtypes)."""
    op = minitf.backend.registered("cuda")["attention"]
    assert op.fn is gpu.attention and op.dtypes == ("float32", "float16") and op.device == "cuda"
    q = np.zeros((1, 1, 3, 64), np.float32)
    assert op.accepts(q, q, q)
    big = np.zeros((1, 1, 3, 256), np.float32)
    assert not op.accepts(big, big, big)
    assert not op.accepts(q, q, np.zeros((1, 1, 64, 3), np.float32).transpose(0, 1, 3, 2))
    assert not op.accepts(q[0], q[0], q[0])
    assert not op.accepts(q, q[:, :, :0], q[:, :, :0])  # no keys


def test_the_teaching_matmul_is_on_no_library_path():
    """kernels/teaching_matmul.cu is for reading: no op is registered for it, no minitf code
    calls it (the matmuls are cuBLAS / BLAS, `a @ b`)."""
    assert "matmul" not in minitf.backend.registered("cuda")
    assert "matmul" not in minitf.backend.registered("numba")
    callers = [p for p in (ROOT / "minitf").rglob("*.py") if "teaching_matmul" in p.read_text()]
    assert callers == []


def test_backend_dispatch_without_cupy_leaves_the_cpu_path_alone():
    x = np.zeros((2, 3), np.float32)
    with use_backend("numpy"):
        assert kernel("layer_norm", x, x[0], x[0], 1e-5) is None

    class FakeCupyArray:  # what `kernel` sees for a CuPy array
        __module__ = "cupy"
        dtype = np.dtype(np.float32)

    if importlib.util.find_spec("cupy") is None:
        assert kernel("attention", *(FakeCupyArray(),) * 3, None, None) is None  # no CuPy: array code


def test_cuda_kernels_are_dispatched_for_cupy_arrays():
    cupy = _gpu_or_skip()
    q = cupy.zeros((1, 1, 4, 64), cupy.float32)
    w = cupy.ones(64, cupy.float32)
    assert kernel("attention", q, q, q, None, None) is gpu.attention
    assert kernel("layer_norm", q, w, w, 1e-5) is gpu.layer_norm
    q64 = q.astype(cupy.float64)
    assert kernel("attention", q64, q64, q64, None, None) is None  # the CuPy array code instead
    assert kernel("attention", q, q64, q, None, None) is None  # mixed dtypes: the same
    assert kernel("attention", q, q, q.get(), None, None) is None  # one array on the CPU
    assert kernel("softmax", q) is None
    with use_backend("numpy"):  # the reference everywhere
        assert kernel("attention", q, q, q, None, None) is None


def test_cuda_warm_up_compiles_the_kernels_once():
    _gpu_or_skip()
    first = minitf.backend.warm_up("float32", "cuda")
    assert first >= 0.0 and minitf.backend.warm_up("float32", "cuda") == 0.0


# ---------------------------------------------------------------------------------------------
# 3. A whole model on the GPU
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gpt2_pair():
    _gpu_or_skip()
    if not (TINY_GPT2 / "model.safetensors").exists():
        pytest.skip(f"{TINY_GPT2} is missing (make weights)")
    cpu = minitf.AutoModelForCausalLM.from_pretrained(TINY_GPT2)
    cuda = minitf.AutoModelForCausalLM.from_pretrained(TINY_GPT2, device="cuda")
    return cpu, cuda


def test_gpt2_forward_on_cuda_matches_cpu(gpt2_pair, monkeypatch):
    cpu, cuda = gpt2_pair
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return gpu.attention(*args, **kwargs)

    registered = minitf.backend.registered("cuda")["attention"]
    monkeypatch.setitem(minitf.backend._registry["cuda"], "attention",
                        dataclasses.replace(registered, fn=counting))
    rng = np.random.default_rng(13)
    ids = rng.integers(0, cpu.config.vocab_size, (2, 50))
    attention_mask = np.ones_like(ids)
    attention_mask[1, :7] = 0  # left padding
    ref = cpu(input_ids=ids, attention_mask=attention_mask).logits
    out = cuda(input_ids=ids, attention_mask=attention_mask)
    assert type(out.logits).__module__.startswith("cupy")
    np.testing.assert_allclose(minitf.backend.to_numpy(out.logits), ref, atol=1e-4, rtol=1e-4)
    assert calls, "the GPT-2 forward on CuPy arrays did not use the fused attention kernel"


def test_gpt2_greedy_generation_on_cuda_matches_cpu(gpt2_pair):
    cpu, cuda = gpt2_pair
    ids = np.random.default_rng(14).integers(0, cpu.config.vocab_size, (2, 9))
    kw = dict(max_new_tokens=20, do_sample=False, min_new_tokens=20)
    np.testing.assert_array_equal(minitf.backend.to_numpy(cuda.generate(ids, **kw)),
                                  minitf.backend.to_numpy(cpu.generate(ids, **kw)))
