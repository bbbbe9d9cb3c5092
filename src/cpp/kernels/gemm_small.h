// Internal: the unpacked products of the fused small-network step (gemm.h: small_gemm_nn and
// small_gemm_tn), written once over the vector abstraction of gemm_simd.h (or a one-lane scalar
// one). Include it only from a kernel file, after defining FASTNN_KNS and the vector types.
//
// Arithmetic of every element is the one gemm.h promises and the file's GEMM kernels perform:
// acc = 0; acc = fma(a_k, b_k, acc) for k = 0..K-1 in order (V::fma: one rounding on the SIMD
// paths, a multiply and an add on the scalar one); then acc + bias; then relu. Column sums are
// 0 + b_0 + b_1 + ... in order, as Backend::column_sums adds them. So a network trained through
// these gets the same bits as through gemm and column_sums.
//
// Partial vectors are read and written with V::loadn / V::storen: nothing past a row is touched, so
// no operand needs padding or copying.
#pragma once
#include <cstddef>
#include <cstdint>

#include "gemm_kernels.h"

#ifndef FASTNN_KNS
#error "define FASTNN_KNS before including gemm_small.h"
#endif

namespace fastnn {
namespace FASTNN_KNS {

// RowsFor(nv): rows per tile for a tile nv vectors wide (bounded by the register file).
template <class V, int MAXR, int MAXV, int (*RowsFor)(int)>
struct SmallGemm {
  using T = typename V::T;
  using R = typename V::R;
  static constexpr int W = V::W;

  static const T* row_of(const T* A, size_t lda, const int64_t* rows, size_t i) {
    return A + (rows ? size_t(rows[i]) : i) * lda;
  }

  // C[i0.., j0..] for RB rows and NV vectors (n real columns from j0).
  template <int RB, int NV>
  static void nn_tile(size_t K, const T* const* a, const T* B, size_t ldb, int n, const T* bias,
                      bool relu, T* C, size_t ldc) {
    R acc[RB][NV];
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
    for (size_t k = 0; k < K; ++k) {
      R b[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) b[v] = V::loadn(B + k * ldb + v * W, n - v * W);
#pragma GCC unroll 8
      for (int r = 0; r < RB; ++r) {
        const R x = V::bcast(a[r] + k);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(x, b[v], acc[r][v]);
      }
    }
    if (bias) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const R bv = V::loadn(bias + v * W, n - v * W);
#pragma GCC unroll 8
        for (int r = 0; r < RB; ++r) acc[r][v] = V::add(acc[r][v], bv);
      }
    }
    if (relu) {
#pragma GCC unroll 8
      for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::relu(acc[r][v]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::storen(C + r * ldc + v * W, acc[r][v], n - v * W);
  }

  // dW[k0.., j0..] = sum over r of A'(r, k) B(r, j) for RB values of k; with SUMS, sums[j0..] too.
  template <int RB, int NV, bool SUMS>
  static void tn_tile(size_t K, const T* A, size_t lda, const int64_t* rows, size_t k0, const T* B,
                      size_t ldb, int n, T* C, size_t ldc, T* sums) {
    R acc[RB][NV];
    R cs[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) cs[v] = V::zero();
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
    for (size_t k = 0; k < K; ++k) {
      const T* a = row_of(A, lda, rows, k) + k0;
      R b[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) b[v] = V::loadn(B + k * ldb + v * W, n - v * W);
      if constexpr (SUMS) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) cs[v] = V::add(cs[v], b[v]);
      }
#pragma GCC unroll 8
      for (int r = 0; r < RB; ++r) {
        const R x = V::bcast(a + r);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(x, b[v], acc[r][v]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::storen(C + r * ldc + v * W, acc[r][v], n - v * W);
    if constexpr (SUMS) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::storen(sums + v * W, cs[v], n - v * W);
    }
  }

  using NnFn = void (*)(size_t, const T* const*, const T*, size_t, int, const T*, bool, T*, size_t);
  using TnFn = void (*)(size_t, const T*, size_t, const int64_t*, size_t, const T*, size_t, int,
                        T*, size_t, T*);
  struct Tables {
    NnFn nn[MAXR][MAXV];
    TnFn tn[MAXR][MAXV][2];
  };
  template <int I>
  static constexpr void fill(Tables& t) {
    if constexpr (I < MAXR * MAXV) {
      constexpr int rb = I / MAXV + 1, nv = I % MAXV + 1;
      t.nn[rb - 1][nv - 1] = &nn_tile<rb, nv>;
      t.tn[rb - 1][nv - 1][0] = &tn_tile<rb, nv, false>;
      t.tn[rb - 1][nv - 1][1] = &tn_tile<rb, nv, true>;
      fill<I + 1>(t);
    }
  }
  static constexpr Tables make() {
    Tables t{};
    fill<0>(t);
    return t;
  }
  static constexpr Tables kT = make();

  static int vectors(size_t n) {
    const size_t v = (n + W - 1) / W;
    return v < size_t(MAXV) ? int(v) : MAXV;
  }

  static void nn(size_t M, size_t N, size_t K, const T* A, size_t lda, const int64_t* rows,
                 const T* B, size_t ldb, const T* bias, bool relu, T* C, size_t ldc) {
    for (size_t j0 = 0; j0 < N; j0 += size_t(MAXV) * W) {
      const int nv = vectors(N - j0), rb = RowsFor(nv);
      const int n = int(N - j0 < size_t(MAXV) * W ? N - j0 : size_t(MAXV) * W);
      const T* bj = B + j0;
      const T* biasj = bias ? bias + j0 : nullptr;
      for (size_t i = 0; i < M; i += size_t(rb)) {
        const int r = int(M - i < size_t(rb) ? M - i : size_t(rb));
        const T* a[MAXR];
        for (int q = 0; q < r; ++q) a[q] = row_of(A, lda, rows, i + size_t(q));
        kT.nn[r - 1][nv - 1](K, a, bj, ldb, n, biasj, relu, C + i * ldc + j0, ldc);
      }
    }
  }

  static void tn(size_t M, size_t N, size_t K, const T* A, size_t lda, const int64_t* rows,
                 const T* B, size_t ldb, T* C, size_t ldc, T* sums) {
    for (size_t j0 = 0; j0 < N; j0 += size_t(MAXV) * W) {
      const int nv = vectors(N - j0), rb = RowsFor(nv);
      const int n = int(N - j0 < size_t(MAXV) * W ? N - j0 : size_t(MAXV) * W);
      for (size_t i = 0; i < M; i += size_t(rb)) {
        const int r = int(M - i < size_t(rb) ? M - i : size_t(rb));
        const bool s = sums && i == 0;
        kT.tn[r - 1][nv - 1][s](K, A, lda, rows, i, B + j0, ldb, n, C + i * ldc + j0, ldc,
                                s ? sums + j0 : nullptr);
      }
    }
  }

  static constexpr SmallGemmFns<T> fns() { return SmallGemmFns<T>{&nn, &tn}; }
};

}  // namespace FASTNN_KNS
}  // namespace fastnn
