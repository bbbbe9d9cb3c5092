// Internal: the table of GEMM implementations, one per instruction set.
//
// Each kernels_<isa>.cpp is compiled with its own target flags (see kernels.cmake) and exports one
// table; gemm.cpp picks a table at run time from the CPU's features (or FASTNN_KERNEL) and forwards
// every call to it. Arguments reaching a table are already validated by gemm.cpp.
// The kernel files share the blocked driver (gemm_driver.h) and, on x86, the vector kernels written
// over a small SIMD abstraction (gemm_simd.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include "fastnn/gemm.h"

namespace fastnn {

template <typename T>
using GemmFn = void (*)(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const T* A,
                        size_t lda, const T* B, size_t ldb, T beta, T* C, size_t ldc,
                        const Epilogue<T>* ep, ThreadPool* pool);

// The unpacked products of the fused small-network step (gemm.h: small_gemm_nn, small_gemm_tn).
template <typename T>
struct SmallGemmFns {
  void (*nn)(size_t M, size_t N, size_t K, const T* A, size_t lda, const int64_t* rows, const T* B,
             size_t ldb, const T* bias, bool relu, T* C, size_t ldc) = nullptr;
  void (*tn)(size_t M, size_t N, size_t K, const T* A, size_t lda, const int64_t* rows, const T* B,
             size_t ldb, T* C, size_t ldc, T* sums) = nullptr;
};

struct GemmKernelTable {
  const char* name;       // "generic", "avx2", "avx512"
  GemmFn<float> sgemm;
  GemmFn<double> dgemm;
  // Register tile (rows x cols) of the packed micro-kernels, for benchmarks and tests.
  int mr_f, nr_f, mr_d, nr_d;
  // The same arithmetic without packing, for the fused small-network step.
  SmallGemmFns<float> small_f;
  SmallGemmFns<double> small_d;
};

// Always present.
const GemmKernelTable* gemm_table_generic();
#if defined(FASTNN_HAVE_KERNELS_AVX2)
const GemmKernelTable* gemm_table_avx2();
#endif
#if defined(FASTNN_HAVE_KERNELS_AVX512)
const GemmKernelTable* gemm_table_avx512();
#endif

#if defined(FASTNN_HAVE_KERNELS_AMX)
// bfloat16 products with float32 accumulation through AMX tiles (kernels_amx.cpp); null when the
// file was built without AMX code generation. Call only after gemm_bf16_available().
GemmFn<float> gemm_bf16_amx();
#endif

// The table in use (chosen on first use from the CPU and FASTNN_KERNEL).
const GemmKernelTable* gemm_active_table();

// Switches the table in use, for tests and benchmarks: "generic", "avx2", "avx512" or "auto".
// A path this build or CPU lacks falls back to the best available. Returns the name now in use.
// Not meant to be called while other threads are inside gemm.
const char* gemm_force_kernel(const char* name);

}  // namespace fastnn
