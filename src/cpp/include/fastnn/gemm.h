// General matrix multiply for the engine, float and double, row-major.
//
//   C[M,N] = beta * C + op(A)[M,K] * op(B)[K,N], then an optional epilogue.
//
// op(A) is A (lda >= K, row-major M x K) or A^T (A stored K x M, lda >= M); likewise for B.
// Contract every implementation (scalar, AVX2, AVX-512, NEON, ...) keeps:
//  * Reduction order. For every element, the k-sum is one sequential chain k = 0, 1, ..., K-1 starting
//    from 0 (beta*C is added after the chain, then the bias). Blocking over k may store and reload the
//    partial sum, which does not change it. So the value of C[i,j] never depends on M, on which rows are
//    computed together, on the tile a row lands in or on the number of threads: predict(X)[i] equals
//    predict(X[i:i+1]) bitwise, and 1 and N threads agree bitwise. Work is split across threads only
//    over output tiles, never over k.
//  * Within one process, every shape uses the same arithmetic per element (fused multiply-add where the
//    selected kernel has it, everywhere; or separate multiply and add everywhere).
//  * The epilogue runs on each block of C after its final k step, while the block is still hot in cache.
//    Bias (if any) is added first, then `fn` (if any) is called on the block.
#pragma once
#include <cstddef>
#include <cstdint>
#include "fastnn/common.h"

namespace fastnn {

class ThreadPool;

template <typename T>
struct Epilogue {
  const T* bias = nullptr;  // length N, added to each row after the k-sum (and beta*C)
  // Called once per finished block: rows [r0, r0+m), cols [c0, c0+n); `c` points at C[r0, c0].
  void (*fn)(const void* ctx, T* c, size_t ldc, size_t r0, size_t c0, size_t m, size_t n) = nullptr;
  const void* ctx = nullptr;
  // Hint: fn is exactly max(x, 0). A kernel may apply it in registers and skip fn.
  bool relu = false;
};

// pool may be null: run on the calling thread only.
template <typename T>
void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const T* A, size_t lda,
          const T* B, size_t ldb, T beta, T* C, size_t ldc, const Epilogue<T>* ep = nullptr,
          ThreadPool* pool = nullptr);

// Unpacked products for the fused small-network step (operands that fit in L1/L2), with exactly
// the per-element arithmetic of gemm on the same kernel path (so the same bits), no packing, no
// threads. Row i of A' is A + (rows ? rows[i] : i) * lda (a gather by index costs nothing extra).
//   small_gemm_nn: C[M,N] = A'[M,K] B[K,N] (+ bias) (relu: (0 > x) ? 0 : x), B row-major (ldb).
//   small_gemm_tn: C[M,N] = A'^T B with A' K x M, B K x N (ldb); when sums is not null, also
//                  sums[j] = 0 + B[0,j] + B[1,j] + ... in order (Backend::column_sums).
// small_gemm_available: false where the kernel path in use has no such products (call gemm).
bool small_gemm_available();
template <typename T>
void small_gemm_nn(size_t M, size_t N, size_t K, const T* A, size_t lda, const int64_t* rows,
                   const T* B, size_t ldb, const T* bias, bool relu, T* C, size_t ldc);
template <typename T>
void small_gemm_tn(size_t M, size_t N, size_t K, const T* A, size_t lda, const int64_t* rows,
                   const T* B, size_t ldb, T* C, size_t ldc, T* sums);

// Mixed precision: op(A) and op(B) rounded to bfloat16 (to nearest even), products accumulated in
// float32, C and the epilogue as in gemm. The k-sum of an element is a fixed sequence over k that
// depends on K alone, so a row's result never depends on M, on the rows beside it or on the thread
// count; it differs from gemm<float> by the rounding of the inputs (and the hardware's order of
// adding each pair of products). Runs on AMX-BF16 tiles; throws std::runtime_error with
// gemm_bf16_unavailable_reason() where the CPU, the build or the OS lacks them.
void gemm_bf16(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, size_t lda,
               const float* B, size_t ldb, float beta, float* C, size_t ldc,
               const Epilogue<float>* ep = nullptr, ThreadPool* pool = nullptr);
// True where gemm_bf16 can run: the build has the AMX kernels, the CPU has AMX-BF16 and
// AVX512-BF16, and the OS granted this process the tile state (asked once, on first call).
bool gemm_bf16_available();
// Why gemm_bf16 cannot run here ("" where it can).
const char* gemm_bf16_unavailable_reason();

// Name of the kernel path chosen at run time ("avx512", "avx2", "generic", ...).
// FASTNN_KERNEL=generic|avx2|avx512 forces a path (an unsupported one falls back with no error).
const char* gemm_kernel_name();

}  // namespace fastnn
