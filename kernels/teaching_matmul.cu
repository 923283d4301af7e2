// A tiled shared-memory matrix product, for teaching only (compiled by CuPy; see gpu.py
// `teaching_matmul_tiled`). It is not registered as a kernel: no op of minitf calls it.
//
//     C[M, N] = A[M, K] @ B[K, N]          float32, row-major, any M, N, K
//
// minitf's ops keep cuBLAS (`a @ b` on CuPy arrays) as the fast path: it uses tensor cores,
// double buffering and tuned tile shapes per GPU. This kernel shows the three ideas that all
// of that builds on.
//
// 1. Tiling. The naive kernel (one thread per C[i][j], looping over k) reads a row of A and a
//    column of B from global memory for every output: 2K loads per 2K flops. Here a block of
//    threads computes a 32 x 32 tile of C. It walks along K in steps of 32; at each step it
//    copies a 32 x 32 tile of A and one of B into shared memory (fast on-chip memory shared by
//    the block), waits (__syncthreads), and then every thread reads its operands from there.
//    Each element loaded from global memory is now used 32 times instead of once.
//
// 2. Coalescing. Global memory is read in 32-byte sectors. When the 32 threads of a warp load
//    32 consecutive floats the hardware merges them into 4 sectors; when they load 32 floats
//    a row apart it needs 32 sectors. So the loads below are arranged so that threadIdx.x (the
//    fastest-varying index inside a warp) walks along a row: A[row][k0 + tx], B[k][col0 + tx].
//    The stores to C follow the same rule.
//
// 3. Bank conflicts. Shared memory is split into 32 banks of 4-byte words (word i lives in
//    bank i % 32); a warp is served in one step if its lanes hit 32 different banks, or all
//    read the very same word (a broadcast). In the inner loop below a warp (fixed ty, tx =
//    0..31) reads As[ty + 8 i][kk] - one word, broadcast - and Bs[kk][tx] - 32 consecutive
//    words, 32 banks. Both are conflict-free, so no padding is needed. Had we read a column,
//    As[tx][kk], the 32 addresses would be 32 words apart: all in bank kk % 32, served one
//    after the other (a 32-way conflict). The cure is to pad each row to 33 words so that
//    lane tx lands in bank (tx * 33 + kk) % 32 = (tx + kk) % 32; attention.cu does exactly
//    that for its key tile.
//
// Edges: tiles that stick out past M, N or K are loaded with zeros (they add nothing to the
// sums) and the stores check the bounds, so any shape works.
//
// Block: 32 x 8 threads; each thread computes 4 outputs of the tile, rows ty, ty+8, ty+16,
// ty+24 of column tx, and keeps them in registers. Grid: (ceil(N/32), ceil(M/32), batch).
// Matrices of a batch are batch_a / batch_b / batch_c elements apart (0 repeats one).

#define TILE 32
#define BLOCK_ROWS 8                        // threadIdx.y takes 8 values
#define OUT_PER_THREAD (TILE / BLOCK_ROWS)  // 4

extern "C" __global__ void __launch_bounds__(TILE * BLOCK_ROWS) matmul_tiled_f32(
    const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
    int M, int N, int K, long long lda, long long ldb, long long ldc,
    long long batch_a, long long batch_b, long long batch_c)
{
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];

    const int tx = threadIdx.x, ty = threadIdx.y;
    const int row0 = blockIdx.y * TILE, col0 = blockIdx.x * TILE;
    A += blockIdx.z * batch_a;
    B += blockIdx.z * batch_b;
    C += blockIdx.z * batch_c;

    float acc[OUT_PER_THREAD] = {0.0f, 0.0f, 0.0f, 0.0f};

    for (int k0 = 0; k0 < K; k0 += TILE) {
        // Stage one tile of A and one of B; each thread copies 4 elements of each.
#pragma unroll
        for (int i = 0; i < OUT_PER_THREAD; ++i) {
            int r = ty + BLOCK_ROWS * i;
            As[r][tx] = (row0 + r < M && k0 + tx < K) ? A[(row0 + r) * lda + k0 + tx] : 0.0f;
            Bs[r][tx] = (k0 + r < K && col0 + tx < N) ? B[(k0 + r) * ldb + col0 + tx] : 0.0f;
        }
        __syncthreads();  // the tiles are complete before anyone reads them

#pragma unroll
        for (int kk = 0; kk < TILE; ++kk) {
            float b = Bs[kk][tx];
#pragma unroll
            for (int i = 0; i < OUT_PER_THREAD; ++i) acc[i] += As[ty + BLOCK_ROWS * i][kk] * b;
        }
        __syncthreads();  // everyone is done reading before the next tiles are written
    }

#pragma unroll
    for (int i = 0; i < OUT_PER_THREAD; ++i) {
        int r = row0 + ty + BLOCK_ROWS * i, c = col0 + tx;
        if (r < M && c < N) C[r * ldc + c] = acc[i];
    }
}
