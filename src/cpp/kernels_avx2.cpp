// GEMM kernels for x86-64 with AVX2 + FMA (built with -mavx2 -mfma, run only where the CPU has both).
// Register tiles: float 6 x 16, double 6 x 8 (12 accumulator registers, 2 for B, 1 broadcast of A).
// Cache blocks sized for Zen 3 / recent Intel cores: a kc x NR panel of B (16 KiB) stays in the 32 KiB
// L1d, the mc x kc block of A (144 KiB float) in L2, the kc x nc block of B in L3.
#include "fastnn/gemm_kernels.h"

#if defined(__AVX2__) && defined(__FMA__)
#define FASTNN_KNS kern_avx2
#include "fastnn/gemm_simd.h"

namespace fastnn {
namespace kern_avx2 {

// Partial loads and stores are built from 128/64/32-bit pieces: vmaskmov is slow on AMD cores.
inline __m128 load4n(const float* p, int n) {  // n in 0..3
  switch (n) {
    case 1: return _mm_load_ss(p);
    case 2: return _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p)));
    case 3:
      return _mm_movelh_ps(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p))),
                           _mm_load_ss(p + 2));
    default: return _mm_setzero_ps();
  }
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

struct PolicyF : SimdKernels<VF, 6, 2> {
  static constexpr size_t KC = 256, MC = 144, NC = 4080;
  static constexpr double SMALL_MNK = 64.0 * 64.0 * 64.0;
  static constexpr int SMALL_ROWS = 12;
};
struct PolicyD : SimdKernels<VD, 6, 2> {
  static constexpr size_t KC = 256, MC = 72, NC = 4080;
  static constexpr double SMALL_MNK = 64.0 * 64.0 * 64.0;
  static constexpr int SMALL_ROWS = 12;
};

const GemmKernelTable kTable = {"avx2", &Driver<PolicyF>::gemm, &Driver<PolicyD>::gemm,
                                PolicyF::MR, PolicyF::NR, PolicyD::MR, PolicyD::NR};

}  // namespace kern_avx2

const GemmKernelTable* gemm_table_avx2() { return &kern_avx2::kTable; }
}  // namespace fastnn

#else
namespace fastnn {
// Built without AVX2/FMA code generation: the path is reported as unavailable.
const GemmKernelTable* gemm_table_avx2() { return nullptr; }
}  // namespace fastnn
#endif
