// Portable GEMM kernels: plain C++ the compiler vectorises for the baseline target (SSE2 on x86-64,
// NEON on AArch64). Built with floating-point contraction off, so every element is computed with a
// separate multiply and add everywhere: acc = acc + a*b for k = 0..K-1 in order, then
// acc = acc + beta*C_old (beta != 0), acc = acc + bias, then relu.
#include "fastnn/gemm_kernels.h"

#define FASTNN_KNS kern_generic
#include "fastnn/gemm_driver.h"

namespace fastnn {
namespace kern_generic {

template <typename T_, int MR_, int NR_, size_t KC_, size_t MC_, size_t NC_>
struct GenericPolicy : PackDefault<T_, NR_> {
  using T = T_;
  static constexpr int MR = MR_, NR = NR_;
  static constexpr size_t KC = KC_, MC = MC_, NC = NC_;
  static constexpr double SMALL_MNK = 32.0 * 32.0 * 32.0;
  static constexpr int SMALL_ROWS = 4;

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
      for (int i = 0; i < MR; ++i) {
        const T a = pa[i];
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

  static void small(Scratch&, size_t m, size_t n, size_t K, const T* A, size_t rsA, size_t csA,
                    const T* B, size_t ldb, bool /*padded*/, T* C, size_t ldc, T beta,
                    const T* bias, bool relu) {
    constexpr size_t JB = 64;
    T acc[JB];
    for (size_t i = 0; i < m; ++i) {
      const T* a = A + i * rsA;
      T* c = C + i * ldc;
      for (size_t j0 = 0; j0 < n; j0 += JB) {
        const size_t nn = n - j0 < JB ? n - j0 : JB;
        for (size_t j = 0; j < nn; ++j) acc[j] = T(0);
        for (size_t k = 0; k < K; ++k) {
          const T av = a[k * csA];
          const T* b = B + k * ldb + j0;
          for (size_t j = 0; j < nn; ++j) acc[j] = acc[j] + av * b[j];
        }
        for (size_t j = 0; j < nn; ++j)
          c[j0 + j] = finish(acc[j], beta, beta != T(0) ? c[j0 + j] : T(0), bias, j0 + j, relu);
      }
    }
  }
};

using PolicyF = GenericPolicy<float, 4, 8, 256, 128, 4096>;
using PolicyD = GenericPolicy<double, 4, 4, 256, 64, 4096>;

const GemmKernelTable kTable = {"generic", &Driver<PolicyF>::gemm, &Driver<PolicyD>::gemm,
                                PolicyF::MR, PolicyF::NR, PolicyD::MR, PolicyD::NR};

}  // namespace kern_generic

const GemmKernelTable* gemm_table_generic() { return &kern_generic::kTable; }
}  // namespace fastnn
