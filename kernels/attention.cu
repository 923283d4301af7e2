// Fused attention for minitf's GPU backend (compiled at run time by CuPy; see gpu.py).
//
//     out = softmax(q k^T * scale, masked) v          q: [B, H, Nq, D]    k, v: [B, H, Nk, D]
//
// The readable reference is `scaled_dot_product_attention` in minitf/attention/full.py: it
// writes the whole [B, H, Nq, Nk] score matrix to memory, softmaxes it, then multiplies by v.
// These kernels compute the same numbers without ever storing a score:
//
// 1. flash_attention_*: the FlashAttention forward pass (Dao et al. 2022). A block owns BQ
//    queries of one (batch, head). It walks over the keys BK at a time; each key tile (and
//    then the value tile) is staged in shared memory, the BQ x BK scores live in registers,
//    and the softmax is computed "online": per query row we keep the running max m and the
//    running sum l of exp(score - m). When a later tile raises the max to m', everything
//    accumulated so far is rescaled by exp(m - m'), so the result equals the softmax over
//    all keys at once.
// 2. decode_attention_*: generation's case, one query per (batch, head) against a KV cache
//    of Nk keys. One block per (batch, head); its warps split the keys, each keeps its own
//    running max/sum/output, and the block merges them at the end (the same rescaling).
//
// Conventions shared by both kernels:
// - Tensors are [batch, heads, seq, head_dim] with the last axis contiguous; the other axes
//   take any stride (in elements), so a slice of the preallocated KV cache or the q/k/v
//   views cut out of one fused projection are read in place, without a copy.
// - mask (optional, nullptr for none): bool bytes, 1 = may attend, indexed with strides
//   (mb, mh, mq, mk), where a stride of 0 broadcasts (e.g. a [B, 1, 1, Nk] padding mask).
//   causal != 0 additionally lets query i see only keys <= i + (Nk - Nq), the position of
//   query i when the first Nk - Nq keys come from a cache.
// - A masked score counts as -infinity here (the reference adds finfo.min; both give weight
//   exactly 0). A query with no key at all to attend gets uniform weights over all Nk keys,
//   i.e. the mean of v, as transformers gives: never NaN.
// - Storage is float32 or float16 (CuPy's float16, passed as raw 16-bit patterns); all
//   arithmetic is float32.

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

typedef unsigned short half_t;  // an IEEE float16, as its 16 bits

#define NEG_INF __uint_as_float(0xff800000u)  // -infinity without <math.h> (NVRTC has no headers)
#define FULL_WARP 0xffffffffu

// float16 <-> float32 in one PTX instruction each (what cuda_fp16.h's __half2float and
// __float2half_rn compile to; spelled out so that this file needs no header). Host
// compilers (the CPU emulator in tests/test_kernels_cuda.py) get the same rounding in C++.
__device__ __forceinline__ float half_to_float(half_t h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
#else
    unsigned sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
    if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
        float f = (float)mantissa * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    unsigned bits = exponent == 0x1f ? sign | 0x7f800000u | (mantissa << 13)      // inf, nan
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
    if (a > 0x7f800000u) return (half_t)(sign | 0x7e00u);            // nan
    if (a >= 0x47800000u) return (half_t)(sign | 0x7c00u);           // >= 65536: inf
    if (a < 0x38800000u)                                             // < 2^-14: subnormal
        return (half_t)(sign | (unsigned)rintf(__uint_as_float(a) * 16777216.0f));
    a += 0xfffu + ((a >> 13) & 1u);                                  // round to nearest even
    return (half_t)(sign | ((a - 0x38000000u) >> 13));               // rebias 127 -> 15
#endif
}

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(half_t x) { return half_to_float(x); }
__device__ __forceinline__ void store(float* p, float x) { *p = x; }
__device__ __forceinline__ void store(half_t* p, float x) { *p = float_to_half(x); }

// Butterfly reductions over the 32 lanes of a warp: after log2(32) = 5 exchanges every lane
// holds the result, with no shared memory and no __syncthreads.
__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) x = fmaxf(x, __shfl_xor_sync(FULL_WARP, x, offset));
    return x;
}

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(FULL_WARP, x, offset);
    return x;
}

// ------------------------------------------------------------------------------------------
// 1. FlashAttention forward
// ------------------------------------------------------------------------------------------

#define DMAX 128                      // largest head_dim
#define BQ 32                         // queries per block
#define BK 32                         // keys per tile: one key per lane when scoring
#define FA_WARPS 4
#define FA_THREADS (FA_WARPS * 32)    // 128 threads
#define ROWS (BQ / FA_WARPS)          // 8 query rows per warp
#define COLS (DMAX / 32)              // 4 output columns per lane: lane, lane + 32, ...
#define KV_STRIDE (DMAX + 1)          // row stride of the K/V tile, odd on purpose (see below)

// Shared memory per block: 16 KB (Q) + 16.1 KB (K, then V) + 4 KB (P) + 1 KB (mask) = 37 KB,
// under the 48 KB a block may declare statically.
//
// Who does what (warp w owns query rows 8w .. 8w+7 of the tile; lane = threadIdx.x % 32):
// - scores: lane j computes S[r][j] = q_r . k_j for key j of the tile and the warp's 8 rows.
//   The q_r reads are the same address for all 32 lanes (a broadcast: one transaction).
//   The k_j reads, kv_tile[j][c] for j = 0..31 at once, are 32 addresses KV_STRIDE floats apart;
//   shared memory has 32 banks of 4 bytes, an address's bank is (index % 32), and lanes that
//   hit the same bank are served one after another. With a stride of 128 every lane would hit
//   bank c % 32 (a 32-way conflict); with 129 lane j hits bank (j + c) % 32: all different.
// - output: lane owns columns lane, lane+32, lane+64, lane+96 of the warp's 8 rows and adds
//   P[r][j] * v[j][col]; kv_tile[j][lane + 32 i] are 32 consecutive floats: conflict-free.
template <typename T>
__device__ void flash_attention(
    const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
    T* __restrict__ out, const unsigned char* __restrict__ mask,
    int n_q, int n_k, int d,
    long long q_sb, long long q_sh, long long q_ss,
    long long k_sb, long long k_sh, long long k_ss,
    long long v_sb, long long v_sh, long long v_ss,
    long long o_sb, long long o_sh, long long o_ss,
    long long m_sb, long long m_sh, long long m_sq, long long m_sk,
    int causal, float scale)
{
    __shared__ float q_tile[BQ][DMAX];             // this block's queries, times `scale`
    __shared__ float kv_tile[BK][KV_STRIDE];       // the current key tile, then its value tile
    __shared__ float p_tile[BQ][BK];               // probabilities of the current tile
    __shared__ unsigned char allowed[BQ][BK];      // the mask of the current tile

    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int q0 = blockIdx.x * BQ, h = blockIdx.y, b = blockIdx.z;
    const int row0 = warp * ROWS;                  // this warp's first row in the tile
    const int past = n_k - n_q;                    // causal: query i sits at position past + i
    q += b * q_sb + h * q_sh;
    k += b * k_sb + h * k_sh;
    v += b * v_sb + h * v_sh;
    out += b * o_sb + h * o_sh;
    if (mask != nullptr) mask += b * m_sb + h * m_sh;

    // Load the query tile once. Consecutive threads read consecutive elements of a row
    // (coalesced: a warp's 32 reads become one or two memory transactions).
    for (int i = tid; i < BQ * d; i += FA_THREADS) {
        int r = i / d, c = i % d;
        q_tile[r][c] = q0 + r < n_q ? to_float(q[(q0 + r) * q_ss + c]) * scale : 0.0f;
    }

    // Per row: running max m, running sum l of exp(s - m), and the unnormalised output.
    float m[ROWS], l[ROWS], acc[ROWS][COLS];
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
        m[r] = NEG_INF;
        l[r] = 0.0f;
#pragma unroll
        for (int c = 0; c < COLS; ++c) acc[r][c] = 0.0f;
    }

    // With a causal mask no query of the tile sees a key at or after k_end.
    const int k_end = causal ? min(q0 + BQ, n_q) + past : n_k;

    for (int k0 = 0; k0 < k_end; k0 += BK) {
        // (1) Which (query, key) pairs of this tile may attend? If none, skip the tile: for a
        // causal mask that is every tile above the diagonal, about half of the work.
        int any = 0;
        for (int i = tid; i < BQ * BK; i += FA_THREADS) {
            int r = i / BK, j = i % BK, qi = q0 + r, kj = k0 + j;
            bool ok = qi < n_q && kj < n_k && (!causal || kj <= qi + past) &&
                      (mask == nullptr || mask[qi * m_sq + kj * m_sk]);
            allowed[r][j] = ok;
            any |= ok;
        }
        if (!__syncthreads_or(any)) continue;  // the same answer in every thread: safe to skip

        // (2) Key tile -> shared memory (zeros past the last key).
        for (int i = tid; i < BK * d; i += FA_THREADS) {
            int j = i / d, c = i % d;
            kv_tile[j][c] = k0 + j < n_k ? to_float(k[(k0 + j) * k_ss + c]) : 0.0f;
        }
        __syncthreads();

        // (3) Scores of the warp's 8 rows against key `lane`; masked ones become -inf.
        float s[ROWS];
#pragma unroll
        for (int r = 0; r < ROWS; ++r) s[r] = 0.0f;
        for (int c = 0; c < d; ++c) {
            float kc = kv_tile[lane][c];
#pragma unroll
            for (int r = 0; r < ROWS; ++r) s[r] += q_tile[row0 + r][c] * kc;
        }
#pragma unroll
        for (int r = 0; r < ROWS; ++r)
            if (!allowed[row0 + r][lane]) s[r] = NEG_INF;
        __syncthreads();  // every warp is done with the keys before the values overwrite them

        // (4) Value tile -> the same shared buffer.
        for (int i = tid; i < BK * d; i += FA_THREADS) {
            int j = i / d, c = i % d;
            kv_tile[j][c] = k0 + j < n_k ? to_float(v[(k0 + j) * v_ss + c]) : 0.0f;
        }

        // (5) Online softmax, one row at a time (all 32 lanes hold the same m and l).
#pragma unroll
        for (int r = 0; r < ROWS; ++r) {
            float m_new = fmaxf(m[r], warp_max(s[r]));
            float p = 0.0f;
            if (m_new != NEG_INF) {                  // the row has seen an allowed key
                p = expf(s[r] - m_new);              // a masked key: exp(-inf) = 0
                float rescale = expf(m[r] - m_new);  // 0 on the row's first allowed tile
                l[r] = l[r] * rescale + warp_sum(p);
#pragma unroll
                for (int c = 0; c < COLS; ++c) acc[r][c] *= rescale;
                m[r] = m_new;
            }
            p_tile[row0 + r][lane] = p;
        }
        __syncthreads();  // the value tile (all warps) and P (this warp) are in place

        // (6) acc += P V: a small matrix product out of shared memory.
        const int n_j = min(BK, n_k - k0);
        for (int j = 0; j < n_j; ++j) {
            float p[ROWS];
#pragma unroll
            for (int r = 0; r < ROWS; ++r) p[r] = p_tile[row0 + r][j];  // broadcast reads
#pragma unroll
            for (int c = 0; c < COLS; ++c) {
                if (lane + 32 * c < d) {
                    float vj = kv_tile[j][lane + 32 * c];
#pragma unroll
                    for (int r = 0; r < ROWS; ++r) acc[r][c] += p[r] * vj;
                }
            }
        }
        // No barrier needed here: the next tile writes kv_tile and p_tile only after its
        // __syncthreads_or, and `allowed` was last read before two barriers ago.
    }

    // Normalise and store (consecutive lanes write consecutive columns: coalesced).
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
        int qi = q0 + row0 + r;
        if (qi >= n_q) continue;
        T* o = out + qi * o_ss;
        if (m[r] != NEG_INF) {
            float inv = 1.0f / l[r];
#pragma unroll
            for (int c = 0; c < COLS; ++c)
                if (lane + 32 * c < d) store(o + lane + 32 * c, acc[r][c] * inv);
        } else {  // nothing to attend to: uniform weights over all keys = the mean of v
            for (int col = lane; col < d; col += 32) {
                float sum = 0.0f;
                for (int j = 0; j < n_k; ++j) sum += to_float(v[j * v_ss + col]);
                store(o + col, sum / (float)n_k);
            }
        }
    }
}

// grid (ceil(Nq / 32), H, B), block 128 threads.
extern "C" __global__ void __launch_bounds__(FA_THREADS) flash_attention_f32(
    const float* q, const float* k, const float* v, float* out, const unsigned char* mask,
    int n_q, int n_k, int d,
    long long q_sb, long long q_sh, long long q_ss, long long k_sb, long long k_sh, long long k_ss,
    long long v_sb, long long v_sh, long long v_ss, long long o_sb, long long o_sh, long long o_ss,
    long long m_sb, long long m_sh, long long m_sq, long long m_sk, int causal, float scale)
{
    flash_attention<float>(q, k, v, out, mask, n_q, n_k, d, q_sb, q_sh, q_ss, k_sb, k_sh, k_ss,
                           v_sb, v_sh, v_ss, o_sb, o_sh, o_ss, m_sb, m_sh, m_sq, m_sk, causal, scale);
}

extern "C" __global__ void __launch_bounds__(FA_THREADS) flash_attention_f16(
    const half_t* q, const half_t* k, const half_t* v, half_t* out, const unsigned char* mask,
    int n_q, int n_k, int d,
    long long q_sb, long long q_sh, long long q_ss, long long k_sb, long long k_sh, long long k_ss,
    long long v_sb, long long v_sh, long long v_ss, long long o_sb, long long o_sh, long long o_ss,
    long long m_sb, long long m_sh, long long m_sq, long long m_sk, int causal, float scale)
{
    flash_attention<half_t>(q, k, v, out, mask, n_q, n_k, d, q_sb, q_sh, q_ss, k_sb, k_sh, k_ss,
                            v_sb, v_sh, v_ss, o_sb, o_sh, o_ss, m_sb, m_sh, m_sq, m_sk, causal, scale);
}

// ------------------------------------------------------------------------------------------
// 2. Decode step: one query against a KV cache
// ------------------------------------------------------------------------------------------

#define DEC_WARPS 8
#define DEC_THREADS (DEC_WARPS * 32)  // 256 threads

// Warp w takes keys w, w + 8, w + 16, ...; for each key its 32 lanes split the head dimension
// (lane reads k[j][lane + 32 i]: one coalesced row read), a warp_sum gives the score, and the
// warp updates its own running max m, sum l and output acc (lane owns the same columns).
// Then the 8 partial states are merged: M = max m_w, L = sum l_w exp(m_w - M),
// out = sum acc_w exp(m_w - M) / L. A warp that saw no key has m_w = -inf and weighs 0.
template <typename T>
__device__ void decode_attention(
    const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
    T* __restrict__ out, const unsigned char* __restrict__ mask,
    int n_k, int d,
    long long q_sb, long long q_sh, long long k_sb, long long k_sh, long long k_ss,
    long long v_sb, long long v_sh, long long v_ss, long long o_sb, long long o_sh,
    long long m_sb, long long m_sh, long long m_sk, float scale)
{
    __shared__ float q_row[DMAX];
    __shared__ float warp_m[DEC_WARPS], warp_l[DEC_WARPS];
    __shared__ float warp_acc[DEC_WARPS][DMAX];

    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int h = blockIdx.x, b = blockIdx.y;
    q += b * q_sb + h * q_sh;
    k += b * k_sb + h * k_sh;
    v += b * v_sb + h * v_sh;
    out += b * o_sb + h * o_sh;
    if (mask != nullptr) mask += b * m_sb + h * m_sh;

    for (int c = tid; c < d; c += DEC_THREADS) q_row[c] = to_float(q[c]) * scale;
    __syncthreads();

    float m = NEG_INF, l = 0.0f, acc[COLS];
#pragma unroll
    for (int c = 0; c < COLS; ++c) acc[c] = 0.0f;

    for (int j = warp; j < n_k; j += DEC_WARPS) {
        if (mask != nullptr && !mask[j * m_sk]) continue;  // the same j in the whole warp
        const T* kj = k + j * k_ss;
        const T* vj = v + j * v_ss;
        float part = 0.0f;
#pragma unroll
        for (int c = 0; c < COLS; ++c)
            if (lane + 32 * c < d) part += q_row[lane + 32 * c] * to_float(kj[lane + 32 * c]);
        float s = warp_sum(part);
        float m_new = fmaxf(m, s);
        float rescale = expf(m - m_new), p = expf(s - m_new);  // first key: rescale = 0
        l = l * rescale + p;
#pragma unroll
        for (int c = 0; c < COLS; ++c)
            if (lane + 32 * c < d) acc[c] = acc[c] * rescale + p * to_float(vj[lane + 32 * c]);
        m = m_new;
    }

    if (lane == 0) {
        warp_m[warp] = m;
        warp_l[warp] = l;
    }
#pragma unroll
    for (int c = 0; c < COLS; ++c)
        if (lane + 32 * c < d) warp_acc[warp][lane + 32 * c] = acc[c];
    __syncthreads();

    float m_all = NEG_INF;
    for (int w = 0; w < DEC_WARPS; ++w) m_all = fmaxf(m_all, warp_m[w]);
    if (m_all == NEG_INF) {  // no key to attend to: the mean of v (uniform weights)
        for (int c = tid; c < d; c += DEC_THREADS) {
            float sum = 0.0f;
            for (int j = 0; j < n_k; ++j) sum += to_float(v[j * v_ss + c]);
            store(out + c, sum / (float)n_k);
        }
        return;
    }
    float l_all = 0.0f;
    for (int w = 0; w < DEC_WARPS; ++w) l_all += warp_l[w] * expf(warp_m[w] - m_all);
    for (int c = tid; c < d; c += DEC_THREADS) {
        float o = 0.0f;
        for (int w = 0; w < DEC_WARPS; ++w) o += warp_acc[w][c] * expf(warp_m[w] - m_all);
        store(out + c, o / l_all);
    }
}

// grid (H, B), block 256 threads. q: [B, H, 1, D]; out: [B, H, 1, D].
extern "C" __global__ void __launch_bounds__(DEC_THREADS) decode_attention_f32(
    const float* q, const float* k, const float* v, float* out, const unsigned char* mask,
    int n_k, int d, long long q_sb, long long q_sh, long long k_sb, long long k_sh, long long k_ss,
    long long v_sb, long long v_sh, long long v_ss, long long o_sb, long long o_sh,
    long long m_sb, long long m_sh, long long m_sk, float scale)
{
    decode_attention<float>(q, k, v, out, mask, n_k, d, q_sb, q_sh, k_sb, k_sh, k_ss,
                            v_sb, v_sh, v_ss, o_sb, o_sh, m_sb, m_sh, m_sk, scale);
}

extern "C" __global__ void __launch_bounds__(DEC_THREADS) decode_attention_f16(
    const half_t* q, const half_t* k, const half_t* v, half_t* out, const unsigned char* mask,
    int n_k, int d, long long q_sb, long long q_sh, long long k_sb, long long k_sh, long long k_ss,
    long long v_sb, long long v_sh, long long v_ss, long long o_sb, long long o_sh,
    long long m_sb, long long m_sh, long long m_sk, float scale)
{
    decode_attention<half_t>(q, k, v, out, mask, n_k, d, q_sb, q_sh, k_sb, k_sh, k_ss,
                             v_sb, v_sh, v_ss, o_sb, o_sh, m_sb, m_sh, m_sk, scale);
}
