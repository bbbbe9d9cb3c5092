// GEMM kernels for x86-64 with AVX2 + FMA (built with -mavx2 -mfma, run only where the CPU has both).
// Register tiles: float 6 x 16, double 6 x 8 (12 accumulator registers, 2 for B, 1 broadcast of A).
// Cache blocks sized for Zen 3 / recent Intel cores: a kc x NR panel of B (16 KiB) stays in the 32 KiB
// L1d, the mc x kc block of A (144 KiB float) in L2, the kc x nc block of B in L3.
#include <cstring>
#include "gemm_kernels.h"

#if defined(__AVX2__) && defined(__FMA__)
#define FASTNN_KNS kern_avx2
#include "gemm_simd.h"
#include "gemm_transpose.h"
#include "gemm_small.h"

namespace fastnn {
namespace kern_avx2 {

// Partial loads and stores are built from 128/64/32-bit pieces: vmaskmov is slow on AMD cores.
// Two floats as one 64-bit load; memcpy keeps it legal for a pointer aligned to 4 bytes only.
inline __m128 load2f(const float* p) {
  double d;
  std::memcpy(&d, p, sizeof d);
  return _mm_castpd_ps(_mm_set_sd(d));
}

inline __m128 load4n(const float* p, int n) {  // n in 0..3
  switch (n) {
    case 1: return _mm_load_ss(p);
    case 2: return load2f(p);
    case 3: return _mm_movelh_ps(load2f(p), _mm_load_ss(p + 2));
    default: return _mm_setzero_ps();
  }
}

inline __m128 load4n4(const float* p, int n) {  // n in 1..4
  return n >= 4 ? _mm_loadu_ps(p) : load4n(p, n);
}

struct VF {
  using T = float;
  using R = __m256;
  static constexpr int W = 8;
  static R zero() { return _mm256_setzero_ps(); }
  static R load(const T* p) { return _mm256_load_ps(p); }
  static R loadu(const T* p) { return _mm256_loadu_ps(p); }
  static R bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static R set1(T x) { return _mm256_set1_ps(x); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R relu(R x) { return _mm256_max_ps(_mm256_setzero_ps(), x); }  // (0 > x) ? 0 : x
  static void storeu(T* p, R v) { _mm256_storeu_ps(p, v); }
  static R loadn(const T* p, int n) {
    if (n >= W) return loadu(p);
    if (n <= 0) return zero();
    if (n >= 4) return _mm256_set_m128(load4n(p + 4, n - 4), _mm_loadu_ps(p));
    return _mm256_set_m128(_mm_setzero_ps(), load4n(p, n));
  }
  static void storen(T* p, R v, int n) {
    if (n >= W) return _mm256_storeu_ps(p, v);
    __m128 x = _mm256_castps256_ps128(v);
    if (n >= 4) {
      _mm_storeu_ps(p, x);
      x = _mm256_extractf128_ps(v, 1);
      p += 4;
      n -= 4;
    }
    if (n >= 2) {
      _mm_storel_pi(reinterpret_cast<__m64*>(p), x);
      x = _mm_movehl_ps(x, x);
      p += 2;
      n -= 2;
    }
    if (n >= 1) _mm_store_ss(p, x);
  }
};

struct VD {
  using T = double;
  using R = __m256d;
  static constexpr int W = 4;
  static R zero() { return _mm256_setzero_pd(); }
  static R load(const T* p) { return _mm256_load_pd(p); }
  static R loadu(const T* p) { return _mm256_loadu_pd(p); }
  static R bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static R set1(T x) { return _mm256_set1_pd(x); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R add(R a, R b) { return _mm256_add_pd(a, b); }
  static R relu(R x) { return _mm256_max_pd(_mm256_setzero_pd(), x); }  // (0 > x) ? 0 : x
  static void storeu(T* p, R v) { _mm256_storeu_pd(p, v); }
  static R loadn(const T* p, int n) {
    if (n >= W) return loadu(p);
    if (n <= 0) return zero();
    if (n == 1) return _mm256_set_m128d(_mm_setzero_pd(), _mm_load_sd(p));
    __m128d lo = _mm_loadu_pd(p);
    __m128d hi = n == 3 ? _mm_load_sd(p + 2) : _mm_setzero_pd();
    return _mm256_set_m128d(hi, lo);
  }
  static void storen(T* p, R v, int n) {
    if (n >= W) return _mm256_storeu_pd(p, v);
    __m128d x = _mm256_castpd256_pd128(v);
    if (n >= 2) {
      _mm_storeu_pd(p, x);
      x = _mm256_extractf128_pd(v, 1);
      p += 2;
      n -= 2;
    }
    if (n >= 1) _mm_store_sd(p, x);
  }
};

// Narrow outputs (9 to 12 columns: the 10 classes of a classifier). Each row takes one 8-wide and
// one 4-wide vector instead of two 8-wide ones: on cores that run a 256-bit operation as two 128-bit
// halves (Zen 1), 10 columns then cost 12 lanes of work instead of 16. The arithmetic per element is
// the same as on every other path: one fma chain over k from 0, then beta, bias, relu.
// B's rows are read 12 wide; `last` is row K-1 copied with zeros past n (the rows before it are
// followed by more of B, so reading past their n columns stays inside B; those lanes are dropped).
template <int RR>
void narrow_tile(size_t K, const float* A, size_t rsA, size_t csA, const float* B, size_t ldb,
                 const float* last, int n, float* C, size_t ldc, float beta, const float* bias,
                 bool relu) {
  __m256 lo[RR];
  __m128 hi[RR];
#pragma GCC unroll 8
  for (int r = 0; r < RR; ++r) {
    lo[r] = _mm256_setzero_ps();
    hi[r] = _mm_setzero_ps();
  }
  auto step = [&](const float* ak, const float* bk) {
    const __m256 b0 = _mm256_loadu_ps(bk);
    const __m128 b1 = _mm_loadu_ps(bk + 8);
#pragma GCC unroll 8
    for (int r = 0; r < RR; ++r) {
      const __m256 a = _mm256_broadcast_ss(ak + r * rsA);
      lo[r] = _mm256_fmadd_ps(a, b0, lo[r]);
      hi[r] = _mm_fmadd_ps(_mm256_castps256_ps128(a), b1, hi[r]);
    }
  };
  const float* ak = A;
  for (size_t k = 0; k + 1 < K; ++k, ak += csA) step(ak, B + k * ldb);
  step(ak, last);
  const int nh = n - 8;
  if (beta != 0.0f) {
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int r = 0; r < RR; ++r) {
      lo[r] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(C + r * ldc), lo[r]);
      hi[r] = _mm_fmadd_ps(_mm256_castps256_ps128(vb), load4n4(C + r * ldc + 8, nh), hi[r]);
    }
  }
  if (bias) {
    const __m256 b0 = _mm256_loadu_ps(bias);
    const __m128 b1 = load4n4(bias + 8, nh);
#pragma GCC unroll 8
    for (int r = 0; r < RR; ++r) {
      lo[r] = _mm256_add_ps(lo[r], b0);
      hi[r] = _mm_add_ps(hi[r], b1);
    }
  }
  if (relu) {
#pragma GCC unroll 8
    for (int r = 0; r < RR; ++r) {
      lo[r] = _mm256_max_ps(_mm256_setzero_ps(), lo[r]);
      hi[r] = _mm_max_ps(_mm_setzero_ps(), hi[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < RR; ++r) {
    _mm256_storeu_ps(C + r * ldc, lo[r]);
    VF::storen(C + r * ldc + 8, _mm256_castps128_ps256(hi[r]), nh);
  }
}

using NarrowFn = void (*)(size_t, const float*, size_t, size_t, const float*, size_t, const float*,
                          int, float*, size_t, float, const float*, bool);
constexpr NarrowFn kNarrow[6] = {&narrow_tile<1>, &narrow_tile<2>, &narrow_tile<3>,
                                 &narrow_tile<4>, &narrow_tile<5>, &narrow_tile<6>};

struct PolicyF : SimdKernels<VF, 6, 2> {
  static constexpr size_t KC = 256, MC = 144, NC = 4080;
  static void pack_bt_panel(float* __restrict dst, const float* src, size_t ldb, size_t kc) {
    pack_bt_by_blocks<float, NR, 8, &transpose8x8<true>>(dst, src, ldb, kc);
  }
  static constexpr double SMALL_MNK = 64.0 * 64.0 * 64.0;
  static constexpr int SMALL_ROWS = 12;

  static void small(Scratch& scratch, size_t m, size_t n, size_t K, const float* A, size_t rsA,
                    size_t csA, const float* B, size_t ldb, size_t bstep, bool padded, float* C,
                    size_t ldc, float beta, const float* bias, bool relu) {
    if (n <= 8 || n > 12 || K == 0) {
      SimdKernels<VF, 6, 2>::small(scratch, m, n, K, A, rsA, csA, B, ldb, bstep, padded, C, ldc,
                                   beta, bias, relu);
      return;
    }
    alignas(16) float last[12] = {};
    std::memcpy(last, B + (K - 1) * ldb, n * sizeof(float));
    size_t i = 0;
    for (; i + MR <= m; i += MR)
      narrow_tile<MR>(K, A + i * rsA, rsA, csA, B, ldb, last, int(n), C + i * ldc, ldc, beta, bias,
                      relu);
    if (i < m)
      kNarrow[m - i - 1](K, A + i * rsA, rsA, csA, B, ldb, last, int(n), C + i * ldc, ldc, beta,
                         bias, relu);
  }
};
struct PolicyD : SimdKernels<VD, 6, 2> {
  static constexpr size_t KC = 256, MC = 72, NC = 4080;
  static void pack_bt_panel(double* __restrict dst, const double* src, size_t ldb, size_t kc) {
    pack_bt_by_blocks<double, NR, 4, &transpose4x4>(dst, src, ldb, kc);
  }
  static constexpr double SMALL_MNK = 64.0 * 64.0 * 64.0;
  static constexpr int SMALL_ROWS = 12;
};

// Small products: 16 registers, so 8 rows of one vector, 4 of two, 3 of three, 2 of four.
constexpr int small_rows(int nv) { return nv == 1 ? 8 : nv == 2 ? 4 : nv == 3 ? 3 : 2; }
using SmallF = SmallGemm<VF, 8, 4, &small_rows>;
using SmallD = SmallGemm<VD, 8, 4, &small_rows>;

const GemmKernelTable kTable = {"avx2",      &Driver<PolicyF>::gemm, &Driver<PolicyD>::gemm,
                                PolicyF::MR, PolicyF::NR,            PolicyD::MR,
                                PolicyD::NR, SmallF::fns(),          SmallD::fns()};

}  // namespace kern_avx2

const GemmKernelTable* gemm_table_avx2() { return &kern_avx2::kTable; }
}  // namespace fastnn

#else
namespace fastnn {
// Built without AVX2/FMA code generation: the path is reported as unavailable.
const GemmKernelTable* gemm_table_avx2() { return nullptr; }
}  // namespace fastnn
#endif
