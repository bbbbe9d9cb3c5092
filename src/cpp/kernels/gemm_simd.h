// Internal: register-blocked GEMM kernels written once over a small vector abstraction `V`, used by
// the x86 kernel files (kernels_avx2.cpp, kernels_avx512.cpp). Include it only from a kernel file,
// after defining FASTNN_KNS (the file's private namespace) and the vector types.
//
// V provides: T, R (register), W (lanes), zero, load (aligned), loadu, bcast, set1, fma(a,b,c) =
// a*b+c with one rounding, add, relu ((0 > x) ? 0 : x, so NaN passes through like std::max(x, 0)),
// storeu, loadn(p, n) / storen(p, v, n): the first n lanes only (n may be <= 0 or >= W), touching no
// memory past them.
//
// Arithmetic of every C element, on every path of these kernels (packed tile, edge tile, small
// no-pack tile): acc = 0; acc = fma(a_k, b_k, acc) for k = 0..K-1 in order; then, when beta != 0,
// acc = fma(beta, C_old, acc); then acc = acc + bias; then relu. Blocking over k stores and reloads
// acc exactly, so the result never depends on the tiling.
#pragma once
#include <cstddef>
#include <immintrin.h>
#include "gemm_driver.h"

#ifndef FASTNN_KNS
#error "define FASTNN_KNS before including gemm_simd.h"
#endif

namespace fastnn {
namespace FASTNN_KNS {

// KU_: k steps per iteration of the packed micro-kernel's loop; PF_A_: when nonzero, prefetch the A
// panel that many k steps ahead once per iteration (both only change speed, never the arithmetic).
template <class V, int MR_, int NV_, int KU_ = 1, int PF_A_ = 0>
struct SimdKernels : PackDefault<typename V::T, NV_ * V::W, MR_> {
  using T = typename V::T;
  using R = typename V::R;
  static constexpr int W = V::W;
  static constexpr int MR = MR_;
  static constexpr int NV = NV_;
  static constexpr int NR = NV_ * V::W;

  // Packed micro-kernel: C[RR x NR] (+)= pa (kc x MR panel, first RR rows) * pb (kc x NR panel).
  // load: start from the partial sums in c instead of 0. f: this is the final k block.
  template <int RR>
  static void micro_rows(size_t kc, const T* __restrict pa, const T* __restrict pb, T* c,
                         size_t ldc, bool load, const Fin<T>* f) {
    constexpr int MR = RR;  // rows computed; the panel stride stays SimdKernels::MR
    constexpr int PS = MR_;
    R acc[MR][NV];
    if (load) {
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::loadu(c + r * ldc + v * W);
    } else {
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + NR - 1), _MM_HINT_T0);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
      }
    }
    auto step = [&](size_t u) __attribute__((always_inline)) {
      R b[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) b[v] = V::load(pb + u * NR + v * W);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        R a = V::bcast(pa + u * PS + r);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(a, b[v], acc[r][v]);
      }
    };
    size_t k = 0;
    if constexpr (KU_ > 1) {
      for (; k + KU_ <= kc; k += KU_) {
        PF_A_ ? _mm_prefetch(reinterpret_cast<const char*>(pa + PF_A_ * PS), _MM_HINT_T0) : void();
#pragma GCC unroll 8
        for (int u = 0; u < KU_; ++u) step(size_t(u));
        pa += KU_ * PS;
        pb += KU_ * NR;
      }
    }
    for (; k < kc; ++k) {
      step(0);
      pa += PS;
      pb += NR;
    }
    if (f) {
      if (f->beta != T(0)) {
        R vb = V::set1(f->beta);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[r][v] = V::fma(vb, V::loadu(f->cold + r * f->ldco + v * W), acc[r][v]);
      }
      if (f->bias) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          R bv = V::loadu(f->bias + v * W);
#pragma GCC unroll 16
          for (int r = 0; r < MR; ++r) acc[r][v] = V::add(acc[r][v], bv);
        }
      }
      if (f->relu) {
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[r][v] = V::relu(acc[r][v]);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::storeu(c + r * ldc + v * W, acc[r][v]);
  }

  static void micro(size_t kc, const T* pa, const T* pb, T* c, size_t ldc, bool load,
                    const Fin<T>* f) {
    micro_rows<MR_>(kc, pa, pb, c, ldc, load, f);
  }

  // Full-width tiles with fewer rows (the last row panel): rows_kernel(mr) for mr in 1..MR.
  using MicroFn = void (*)(size_t, const T*, const T*, T*, size_t, bool, const Fin<T>*);
  struct MicroTable {
    MicroFn f[MR_];
  };
  template <int I>
  static constexpr void fill_rows(MicroTable& t) {
    if constexpr (I < MR_) {
      t.f[I] = &micro_rows<I + 1>;
      fill_rows<I + 1>(t);
    }
  }
  static constexpr MicroTable make_rows() {
    MicroTable t{};
    fill_rows<0>(t);
    return t;
  }
  static constexpr MicroTable kRows = make_rows();
  static constexpr bool kRowsKernels = true;
  static MicroFn rows_kernel(size_t mr) { return kRows.f[mr - 1]; }

  // ---- small path: no packing ------------------------------------------------------------------
  // One tile of RR rows and VV vectors: A(i,k) = A[i*rsA + k*csA], B(k,j) = B[k*ldb + j] with VV*W
  // readable columns (zero padded past the n real ones when PARTIAL). Finishes the tile (beta, bias,
  // relu) and stores the n real columns.
  using TileFn = void (*)(size_t K, const T* A, size_t rsA, size_t csA, const T* B, size_t ldb,
                          int n, T* C, size_t ldc, T beta, const T* bias, bool relu);

  template <int RR, int VV, bool PARTIAL>
  static void stile(size_t K, const T* A, size_t rsA, size_t csA, const T* B, size_t ldb, int n,
                    T* C, size_t ldc, T beta, const T* bias, bool relu) {
    R acc[RR][VV];
#pragma GCC unroll 16
    for (int r = 0; r < RR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < VV; ++v) acc[r][v] = V::zero();
    const T* ak = A;
    const T* bk = B;
    for (size_t k = 0; k < K; ++k) {
      R b[VV];
#pragma GCC unroll 4
      for (int v = 0; v < VV; ++v) b[v] = V::loadu(bk + v * W);
#pragma GCC unroll 16
      for (int r = 0; r < RR; ++r) {
        R a = V::bcast(ak + r * rsA);
#pragma GCC unroll 4
        for (int v = 0; v < VV; ++v) acc[r][v] = V::fma(a, b[v], acc[r][v]);
      }
      ak += csA;
      bk += ldb;
    }
    if (beta != T(0)) {
      R vb = V::set1(beta);
#pragma GCC unroll 16
      for (int r = 0; r < RR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < VV; ++v) {
          const T* p = C + r * ldc + v * W;
          acc[r][v] = V::fma(vb, PARTIAL ? V::loadn(p, n - v * W) : V::loadu(p), acc[r][v]);
        }
    }
    if (bias) {
#pragma GCC unroll 4
      for (int v = 0; v < VV; ++v) {
        R bv = PARTIAL ? V::loadn(bias + v * W, n - v * W) : V::loadu(bias + v * W);
#pragma GCC unroll 16
        for (int r = 0; r < RR; ++r) acc[r][v] = V::add(acc[r][v], bv);
      }
    }
    if (relu) {
#pragma GCC unroll 16
      for (int r = 0; r < RR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < VV; ++v) acc[r][v] = V::relu(acc[r][v]);
    }
#pragma GCC unroll 16
    for (int r = 0; r < RR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < VV; ++v) {
        T* p = C + r * ldc + v * W;
        if (PARTIAL)
          V::storen(p, acc[r][v], n - v * W);
        else
          V::storeu(p, acc[r][v]);
      }
  }

  // tiles[rows - 1][vectors - 1][partial]
  struct TileTable {
    TileFn f[MR][NV][2];
  };
  template <int I>
  static constexpr void fill(TileTable& t) {
    if constexpr (I < MR * NV) {
      t.f[I / NV][I % NV][0] = &stile<I / NV + 1, I % NV + 1, false>;
      t.f[I / NV][I % NV][1] = &stile<I / NV + 1, I % NV + 1, true>;
      fill<I + 1>(t);
    }
  }
  static constexpr TileTable make_tiles() {
    TileTable t{};
    fill<0>(t);
    return t;
  }
  static constexpr TileTable kTiles = make_tiles();

  // C[m x n] from unpacked operands (see stile), finished. Columns j..j+NR of B start at
  // B + (j / NR) * bstep, rows ldb apart (plain row-major B: bstep = NR; packed panels: bstep =
  // K * NR, ldb = NR). When `padded`, every block can be read NR columns wide (zeros past n).
  static void small(Scratch& scratch, size_t m, size_t n, size_t K, const T* A, size_t rsA,
                    size_t csA, const T* B, size_t ldb, size_t bstep, bool padded, T* C, size_t ldc,
                    T beta, const T* bias, bool relu) {
    const size_t mfull = m / MR * MR;
    const int mrest = int(m - mfull);
    for (size_t j = 0; j < n; j += NR) {
      const size_t nn = n - j < size_t(NR) ? n - j : size_t(NR);
      const int vv = int((nn + W - 1) / W);
      const bool partial = nn != size_t(vv) * W;
      const T* bj = B + (j / NR) * bstep;
      size_t ldbj = ldb;
      if (partial && !padded) {
        // Last, partial block of columns: copy it zero padded so the k loop needs no masks.
        const size_t w = size_t(vv) * W;
        T* p = scratch.bpad.template get<T>(K * w);
        for (size_t k = 0; k < K; ++k)
          for (int v = 0; v < vv; ++v)
            V::storeu(p + k * w + v * W, V::loadn(bj + k * ldb + v * W, int(nn) - v * W));
        bj = p;
        ldbj = w;
      }
      const T* biasj = bias ? bias + j : nullptr;
      if (mfull) {
        const TileFn full = kTiles.f[MR - 1][vv - 1][partial];
        for (size_t i = 0; i < mfull; i += MR)
          full(K, A + i * rsA, rsA, csA, bj, ldbj, int(nn), C + i * ldc + j, ldc, beta, biasj, relu);
      }
      if (mrest)
        kTiles.f[mrest - 1][vv - 1][partial](K, A + mfull * rsA, rsA, csA, bj, ldbj, int(nn),
                                             C + mfull * ldc + j, ldc, beta, biasj, relu);
    }
  }
};

}  // namespace FASTNN_KNS
}  // namespace fastnn
