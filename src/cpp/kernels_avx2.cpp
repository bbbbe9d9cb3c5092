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

struct VF {
  using T = float;
  using R = __m256;
  using Mask = __m256i;
  static constexpr int W = 8;
  static R zero() { return _mm256_setzero_ps(); }
  static R load(const T* p) { return _mm256_load_ps(p); }
  static R loadu(const T* p) { return _mm256_loadu_ps(p); }
  static R bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static R set1(T x) { return _mm256_set1_ps(x); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R relu(R x) { return _mm256_max_ps(_mm256_setzero_ps(), x); }
  static void storeu(T* p, R v) { _mm256_storeu_ps(p, v); }
  static Mask mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static R loadm(const T* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void storem(T* p, Mask m, R v) { _mm256_maskstore_ps(p, m, v); }
};

struct VD {
  using T = double;
  using R = __m256d;
  using Mask = __m256i;
  static constexpr int W = 4;
  static R zero() { return _mm256_setzero_pd(); }
  static R load(const T* p) { return _mm256_load_pd(p); }
  static R loadu(const T* p) { return _mm256_loadu_pd(p); }
  static R bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static R set1(T x) { return _mm256_set1_pd(x); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R add(R a, R b) { return _mm256_add_pd(a, b); }
  static R relu(R x) { return _mm256_max_pd(_mm256_setzero_pd(), x); }
  static void storeu(T* p, R v) { _mm256_storeu_pd(p, v); }
  static Mask mask(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static R loadm(const T* p, Mask m) { return _mm256_maskload_pd(p, m); }
  static void storem(T* p, Mask m, R v) { _mm256_maskstore_pd(p, m, v); }
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
