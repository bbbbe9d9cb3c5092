// Internal: vector transposes for packing GEMM panels on x86 (AVX and up), shared by the kernel
// files. Include only from a kernel file, after gemm_simd.h (FASTNN_KNS defined).
#pragma once
#include <cstddef>
#include <immintrin.h>

#ifndef FASTNN_KNS
#error "define FASTNN_KNS before including gemm_transpose.h"
#endif

namespace fastnn {
namespace FASTNN_KNS {

template <bool ALIGNED>
inline void store8(float* p, __m256 v) {
  if constexpr (ALIGNED)
    _mm256_store_ps(p, v);
  else
    _mm256_storeu_ps(p, v);
}

// dst[k*ld + j] = src[j*ldb + k] for an 8 x 8 block (j, k < 8).
template <bool ALIGNED = true>
inline void transpose8x8(float* dst, size_t ld, const float* src, size_t ldb) {
  __m256 r0 = _mm256_loadu_ps(src + 0 * ldb), r1 = _mm256_loadu_ps(src + 1 * ldb);
  __m256 r2 = _mm256_loadu_ps(src + 2 * ldb), r3 = _mm256_loadu_ps(src + 3 * ldb);
  __m256 r4 = _mm256_loadu_ps(src + 4 * ldb), r5 = _mm256_loadu_ps(src + 5 * ldb);
  __m256 r6 = _mm256_loadu_ps(src + 6 * ldb), r7 = _mm256_loadu_ps(src + 7 * ldb);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  store8<ALIGNED>(dst + 0 * ld, _mm256_permute2f128_ps(u0, u4, 0x20));
  store8<ALIGNED>(dst + 1 * ld, _mm256_permute2f128_ps(u1, u5, 0x20));
  store8<ALIGNED>(dst + 2 * ld, _mm256_permute2f128_ps(u2, u6, 0x20));
  store8<ALIGNED>(dst + 3 * ld, _mm256_permute2f128_ps(u3, u7, 0x20));
  store8<ALIGNED>(dst + 4 * ld, _mm256_permute2f128_ps(u0, u4, 0x31));
  store8<ALIGNED>(dst + 5 * ld, _mm256_permute2f128_ps(u1, u5, 0x31));
  store8<ALIGNED>(dst + 6 * ld, _mm256_permute2f128_ps(u2, u6, 0x31));
  store8<ALIGNED>(dst + 7 * ld, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// dst[k*ld + j] = src[j*ldb + k] for a 4 x 4 block.
inline void transpose4x4(double* dst, size_t ld, const double* src, size_t ldb) {
  __m256d r0 = _mm256_loadu_pd(src + 0 * ldb), r1 = _mm256_loadu_pd(src + 1 * ldb);
  __m256d r2 = _mm256_loadu_pd(src + 2 * ldb), r3 = _mm256_loadu_pd(src + 3 * ldb);
  __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
  __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  _mm256_store_pd(dst + 0 * ld, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_store_pd(dst + 1 * ld, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_store_pd(dst + 2 * ld, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_store_pd(dst + 3 * ld, _mm256_permute2f128_pd(t1, t3, 0x31));
}

// A full NR-wide panel of op(B) with B stored N x K (NR a multiple of BS): dst[k*NR + j] = src[j*ldb + k],
// by BS x BS vector transposes of the two column halves, then the k remainder element by element.
template <typename T, int NR, int BS, void (*Transpose)(T*, size_t, const T*, size_t)>
inline void pack_bt_by_blocks(T* __restrict dst, const T* src, size_t ldb, size_t kc) {
  static_assert(NR % BS == 0, "a panel is a whole number of transposed blocks wide");
  size_t k = 0;
  for (; k + BS <= kc; k += BS) {
#pragma GCC unroll 4
    for (int q = 0; q < NR / BS; ++q) Transpose(dst + k * NR + q * BS, NR, src + q * BS * ldb + k, ldb);
  }
  for (; k < kc; ++k)
    for (int j = 0; j < NR; ++j) dst[k * NR + j] = src[j * ldb + k];
}

// dst[k*ld + r] = src[r*lda + k] for 4 rows and 8 k (r < 4, k < 8): the last rows of a 12-high
// panel of A.
inline void transpose4x8(float* dst, size_t ld, const float* src, size_t lda) {
  __m128 a0 = _mm_loadu_ps(src), a1 = _mm_loadu_ps(src + lda);
  __m128 a2 = _mm_loadu_ps(src + 2 * lda), a3 = _mm_loadu_ps(src + 3 * lda);
  __m128 b0 = _mm_loadu_ps(src + 4), b1 = _mm_loadu_ps(src + lda + 4);
  __m128 b2 = _mm_loadu_ps(src + 2 * lda + 4), b3 = _mm_loadu_ps(src + 3 * lda + 4);
  _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
  _MM_TRANSPOSE4_PS(b0, b1, b2, b3);
  _mm_storeu_ps(dst + 0 * ld, a0);
  _mm_storeu_ps(dst + 1 * ld, a1);
  _mm_storeu_ps(dst + 2 * ld, a2);
  _mm_storeu_ps(dst + 3 * ld, a3);
  _mm_storeu_ps(dst + 4 * ld, b0);
  _mm_storeu_ps(dst + 5 * ld, b1);
  _mm_storeu_ps(dst + 6 * ld, b2);
  _mm_storeu_ps(dst + 7 * ld, b3);
}

}  // namespace FASTNN_KNS
}  // namespace fastnn
