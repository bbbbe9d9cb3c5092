// Portable GEMM kernels: plain C++ the compiler vectorises for the baseline target (SSE2 on x86-64,
// NEON on AArch64). Built with floating-point contraction off, so every element is computed with a
// separate multiply and add everywhere: acc = acc + a*b for k = 0..K-1 in order, then
// acc = acc + beta*C_old (beta != 0), acc = acc + bias, then relu.
#include "gemm_kernels.h"

#define FASTNN_KNS kern_generic
#include "gemm_driver.h"
#include "gemm_small.h"

// GCC vectorises the k loop of the small-path tile across iterations (shuffles everywhere); the
// loops over the tile's columns vectorise far better on their own.
#if defined(__GNUC__) && !defined(__clang__)
#define FASTNN_NO_LOOP_VECTORIZE __attribute__((noinline, optimize("no-tree-loop-vectorize")))
#else
#define FASTNN_NO_LOOP_VECTORIZE
#endif

namespace fastnn {
namespace kern_generic {

template <typename T_, int MR_, int NR_, size_t KC_, size_t MC_, size_t NC_>
struct GenericPolicy : PackDefault<T_, NR_, MR_> {
  using T = T_;
  static constexpr int MR = MR_, NR = NR_;
  static constexpr size_t KC = KC_, MC = MC_, NC = NC_;
  static constexpr double SMALL_MNK = 32.0 * 32.0 * 32.0;
  static constexpr int SMALL_ROWS = 4;
  static constexpr bool kRowsKernels = false;  // edge tiles go through the padded tile

  static T finish(T x, T beta, T cold, const T* bias, size_t j, bool relu) {
    if (beta != T(0)) x = x + beta * cold;
    if (bias) x = x + bias[j];
    if (relu) x = (T(0) > x) ? T(0) : x;
    return x;
  }

  static void micro(size_t kc, const T* __restrict pa, const T* __restrict pb, T* c, size_t ldc,
                    bool load, const Fin<T>* f) {
    T acc[MR][NR];
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] = load ? c[i * ldc + j] : T(0);
    for (size_t k = 0; k < kc; ++k) {
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const T a = pa[i];
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) acc[i][j] = acc[i][j] + a * pb[j];
      }
      pa += MR;
      pb += NR;
    }
    if (f) {
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j)
          acc[i][j] = finish(acc[i][j], f->beta, f->beta != T(0) ? f->cold[i * f->ldco + j] : T(0),
                             f->bias, size_t(j), f->relu);
    }
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) c[i * ldc + j] = acc[i][j];
  }

  using MicroFn = void (*)(size_t, const T*, const T*, T*, size_t, bool, const Fin<T>*);
  static MicroFn rows_kernel(size_t) { return &micro; }

  // R rows x NR columns of C from unpacked A and one NR-wide block of B (readable NR wide).
  template <int R>
  FASTNN_NO_LOOP_VECTORIZE static void small_tile(size_t K, const T* A, size_t rsA, size_t csA, const T* __restrict b,
                         size_t ldb, size_t nn, T* C, size_t ldc, T beta, const T* bias, bool relu) {
    T acc[R][NR];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < NR; ++j) acc[r][j] = T(0);
    const T* ak = A;
    for (size_t k = 0; k < K; ++k) {
      T av[R];
      for (int r = 0; r < R; ++r) av[r] = ak[r * rsA];
      for (int r = 0; r < R; ++r)
        for (int j = 0; j < NR; ++j) acc[r][j] = acc[r][j] + av[r] * b[j];
      ak += csA;
      b += ldb;
    }
    for (int r = 0; r < R; ++r) {
      T* c = C + r * ldc;
      for (size_t j = 0; j < nn; ++j)
        c[j] = finish(acc[r][j], beta, beta != T(0) ? c[j] : T(0), bias, j, relu);
    }
  }

  static void small(Scratch& scratch, size_t m, size_t n, size_t K, const T* A, size_t rsA,
                    size_t csA, const T* B, size_t ldb, size_t bstep, bool padded, T* C, size_t ldc,
                    T beta, const T* bias, bool relu) {
    for (size_t j0 = 0; j0 < n; j0 += NR) {
      const size_t nn = n - j0 < size_t(NR) ? n - j0 : size_t(NR);
      const T* bj = B + (j0 / NR) * bstep;
      size_t ldbj = ldb;
      if (nn < size_t(NR) && !padded) {
        T* p = scratch.bpad.template get<T>(K * NR);
        for (size_t k = 0; k < K; ++k)
          for (size_t j = 0; j < size_t(NR); ++j) p[k * NR + j] = j < nn ? bj[k * ldb + j] : T(0);
        bj = p;
        ldbj = NR;
      }
      const T* biasj = bias ? bias + j0 : nullptr;
      size_t i = 0;
      for (; i + MR <= m; i += MR)
        small_tile<MR>(K, A + i * rsA, rsA, csA, bj, ldbj, nn, C + i * ldc + j0, ldc, beta, biasj,
                       relu);
      for (; i < m; ++i)
        small_tile<1>(K, A + i * rsA, rsA, csA, bj, ldbj, nn, C + i * ldc + j0, ldc, beta, biasj,
                      relu);
    }
  }
};

using PolicyF = GenericPolicy<float, 4, 8, 256, 128, 4096>;
using PolicyD = GenericPolicy<double, 4, 4, 256, 64, 4096>;

// One-lane "vectors" for the small products: acc + a*b as two roundings, like the tiles above.
template <typename T_>
struct Scalar {
  using T = T_;
  using R = T_;
  static constexpr int W = 1;
  static R zero() { return T(0); }
  static R bcast(const T* p) { return *p; }
  static R fma(R a, R b, R c) { return c + a * b; }
  static R add(R a, R b) { return a + b; }
  static R relu(R x) { return (T(0) > x) ? T(0) : x; }
  static R loadn(const T* p, int n) { return n > 0 ? *p : T(0); }
  static void storen(T* p, R v, int n) {
    if (n > 0) *p = v;
  }
};
constexpr int small_rows(int) { return 4; }
using SmallF = SmallGemm<Scalar<float>, 4, 4, &small_rows>;
using SmallD = SmallGemm<Scalar<double>, 4, 4, &small_rows>;

const GemmKernelTable kTable = {"generic",   &Driver<PolicyF>::gemm, &Driver<PolicyD>::gemm,
                                PolicyF::MR, PolicyF::NR,            PolicyD::MR,
                                PolicyD::NR, SmallF::fns(),          SmallD::fns()};

}  // namespace kern_generic

const GemmKernelTable* gemm_table_generic() { return &kern_generic::kTable; }
}  // namespace fastnn
