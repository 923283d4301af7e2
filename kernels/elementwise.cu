// Fused layer norm and GELU for minitf's GPU backend (compiled by CuPy; see gpu.py).
//
// The CuPy versions of these ops (the NumPy code of minitf/ops.py run on the GPU) launch one
// kernel per array expression: layer norm is about 6 passes over memory, tanh-GELU about 7,
// each writing a temporary. These kernels read the input once and write the output once.
// Storage float32 or float16 (raw 16-bit patterns), arithmetic float32.

typedef unsigned short half_t;  // an IEEE float16, as its 16 bits
#define FULL_WARP 0xffffffffu

// float16 <-> float32 (the same helpers as attention.cu: every .cu file compiles on its own).
__device__ __forceinline__ float half_to_float(half_t h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
#else
    unsigned sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
    if (exponent == 0) {
        float f = (float)mantissa * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    unsigned bits = exponent == 0x1f ? sign | 0x7f800000u | (mantissa << 13)
                                     : sign | ((exponent + 112u) << 23) | (mantissa << 13);
    return __uint_as_float(bits);
#endif
}

__device__ __forceinline__ half_t float_to_half(float f) {
#ifdef __CUDA_ARCH__
    half_t h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
#else
    unsigned x = __float_as_uint(f), sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return (half_t)(sign | 0x7e00u);
    if (a >= 0x47800000u) return (half_t)(sign | 0x7c00u);
    if (a < 0x38800000u) return (half_t)(sign | (unsigned)rintf(__uint_as_float(a) * 16777216.0f));
    a += 0xfffu + ((a >> 13) & 1u);
    return (half_t)(sign | ((a - 0x38000000u) >> 13));
#endif
}

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(half_t x) { return half_to_float(x); }
__device__ __forceinline__ void store(float* p, float x) { *p = x; }
__device__ __forceinline__ void store(half_t* p, float x) { *p = float_to_half(x); }

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(FULL_WARP, x, offset);
    return x;
}

// ------------------------------------------------------------------------------------------
// Layer norm over the last axis: y = (x - mean) / sqrt(var + eps) * w + b, x: [rows, d].
// One warp per row (lanes stride over the row: coalesced), 4 rows per 128-thread block.
// Two passes over the row (mean, then the centred variance, as the reference computes it);
// the second and third reads of the row come from the L1/L2 cache.
// ------------------------------------------------------------------------------------------

#define LN_WARPS 4

template <typename T>
__device__ void layer_norm(const T* __restrict__ x, const T* __restrict__ w,
                           const T* __restrict__ b, T* __restrict__ y,
                           long long rows, int d, float eps)
{
    const int lane = threadIdx.x % 32;
    const long long row = (long long)blockIdx.x * LN_WARPS + threadIdx.x / 32;
    if (row >= rows) return;  // a whole warp leaves together: the shuffles stay complete
    x += row * d;
    y += row * d;

    float sum = 0.0f;
    for (int c = lane; c < d; c += 32) sum += to_float(x[c]);
    const float mean = warp_sum(sum) / (float)d;

    float sq = 0.0f;
    for (int c = lane; c < d; c += 32) {
        float centred = to_float(x[c]) - mean;
        sq += centred * centred;
    }
    const float inv = 1.0f / sqrtf(warp_sum(sq) / (float)d + eps);

    for (int c = lane; c < d; c += 32)
        store(y + c, (to_float(x[c]) - mean) * inv * to_float(w[c]) + to_float(b[c]));
}

// grid (ceil(rows / 4)), block 128.
extern "C" __global__ void __launch_bounds__(LN_WARPS * 32) layer_norm_f32(
    const float* x, const float* w, const float* b, float* y, long long rows, int d, float eps)
{
    layer_norm<float>(x, w, b, y, rows, d, eps);
}

extern "C" __global__ void __launch_bounds__(LN_WARPS * 32) layer_norm_f16(
    const half_t* x, const half_t* w, const half_t* b, half_t* y, long long rows, int d, float eps)
{
    layer_norm<half_t>(x, w, b, y, rows, d, eps);
}

// ------------------------------------------------------------------------------------------
// GELU, element-wise over n values (a grid-stride loop: any n with a bounded grid).
//   gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (GPT-2)
//   gelu:     0.5 x (1 + erf(x / sqrt(2)))                        (BERT)
// ------------------------------------------------------------------------------------------

template <typename T>
__device__ void gelu_new(const T* __restrict__ x, T* __restrict__ y, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = to_float(x[i]);
        float inner = 0.7978845608028654f * (v + 0.044715f * (v * v * v));
        store(y + i, 0.5f * v * (1.0f + tanhf(inner)));
    }
}

template <typename T>
__device__ void gelu_erf(const T* __restrict__ x, T* __restrict__ y, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = to_float(x[i]);
        store(y + i, 0.5f * v * (1.0f + erff(v * 0.7071067811865476f)));
    }
}

extern "C" __global__ void gelu_new_f32(const float* x, float* y, long long n) { gelu_new<float>(x, y, n); }
extern "C" __global__ void gelu_new_f16(const half_t* x, half_t* y, long long n) { gelu_new<half_t>(x, y, n); }
extern "C" __global__ void gelu_f32(const float* x, float* y, long long n) { gelu_erf<float>(x, y, n); }
extern "C" __global__ void gelu_f16(const half_t* x, half_t* y, long long n) { gelu_erf<half_t>(x, y, n); }
