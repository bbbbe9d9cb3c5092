// GEMM kernels for x86-64 with AVX-512F (built with -mavx512f -mfma, run only where the CPU has it).
// Register tiles: float 12 x 32, double 12 x 16 (24 accumulator registers of the 32). Panels of
// transposed operands are packed by 8 x 8 vector transposes.
#include "gemm_kernels.h"

#if defined(__AVX512F__) && defined(__FMA__)
#define FASTNN_KNS kern_avx512
#include "gemm_simd.h"
#include "gemm_transpose.h"
#include "gemm_small.h"

namespace fastnn {
namespace kern_avx512 {

struct VF {
  using T = float;
  using R = __m512;
  using Mask = __mmask16;
  static constexpr int W = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R load(const T* p) { return _mm512_load_ps(p); }
  static R loadu(const T* p) { return _mm512_loadu_ps(p); }
  static R bcast(const T* p) { return _mm512_set1_ps(*p); }
  static R set1(T x) { return _mm512_set1_ps(x); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R relu(R x) {  // (0 > x) ? 0 : x
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(_mm512_setzero_ps(), x, _CMP_GT_OQ), x,
                                _mm512_setzero_ps());
  }
  static void storeu(T* p, R v) { _mm512_storeu_ps(p, v); }
  static Mask mask(int n) {
    return n <= 0 ? Mask(0) : n >= W ? Mask(0xFFFF) : Mask((1u << n) - 1u);
  }
  static R loadn(const T* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void storen(T* p, R v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
};

struct VD {
  using T = double;
  using R = __m512d;
  using Mask = __mmask8;
  static constexpr int W = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R load(const T* p) { return _mm512_load_pd(p); }
  static R loadu(const T* p) { return _mm512_loadu_pd(p); }
  static R bcast(const T* p) { return _mm512_set1_pd(*p); }
  static R set1(T x) { return _mm512_set1_pd(x); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
  static R relu(R x) {  // (0 > x) ? 0 : x
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(_mm512_setzero_pd(), x, _CMP_GT_OQ), x,
                                _mm512_setzero_pd());
  }
  static void storeu(T* p, R v) { _mm512_storeu_pd(p, v); }
  static Mask mask(int n) {
    return n <= 0 ? Mask(0) : n >= W ? Mask(0xFF) : Mask((1u << n) - 1u);
  }
  static R loadn(const T* p, int n) { return _mm512_maskz_loadu_pd(mask(n), p); }
  static void storen(T* p, R v, int n) { _mm512_mask_storeu_pd(p, mask(n), v); }
};

// Blocks measured on a Sapphire Rapids class Xeon (48 KiB L1d, 2 MiB L2 per core): a deep k block
// (384) halves the loads and stores of each C tile; the kc x NR panel of B (48 KiB) streams from L2
// fast enough, and the mc x kc block of A (360 KiB) stays in L2. Four k steps per loop iteration.
struct PolicyF : SimdKernels<VF, 12, 2, 4> {
  static constexpr size_t KC = 384, MC = 240, NC = 4096;
  static void pack_bt_panel(float* __restrict dst, const float* src, size_t ldb, size_t kc) {
    pack_bt_by_blocks<float, NR, 8, &transpose8x8<true>>(dst, src, ldb, kc);
  }
  // Rows 0-7 by 8 x 8 transposes, rows 8-11 by 4 x 8 ones; the k remainder element by element.
  static void pack_a_panel(float* __restrict dst, const float* src, size_t lda, size_t kc) {
    static_assert(MR == 12, "the panel is 8 + 4 rows high");
    size_t k = 0;
    for (; k + 8 <= kc; k += 8) {
      transpose8x8<false>(dst + k * MR, MR, src + k, lda);
      transpose4x8(dst + k * MR + 8, MR, src + 8 * lda + k, lda);
    }
    for (; k < kc; ++k)
      for (int r = 0; r < MR; ++r) dst[k * MR + r] = src[r * lda + k];
  }
  static constexpr double SMALL_MNK = 64.0 * 64.0 * 64.0;
  static constexpr int SMALL_ROWS = 12;
};
struct PolicyD : SimdKernels<VD, 12, 2> {
  static constexpr size_t KC = 192, MC = 96, NC = 4096;
  static constexpr double SMALL_MNK = 64.0 * 64.0 * 64.0;
  static constexpr int SMALL_ROWS = 12;
};

// Small products: 8 rows of one vector, 6 of two, 4 of three or four (at most 16 accumulators,
// so that the B vectors and the column sums stay in registers too).
constexpr int small_rows(int nv) { return nv == 1 ? 8 : nv == 2 ? 6 : 4; }
using SmallF = SmallGemm<VF, 8, 4, &small_rows>;
using SmallD = SmallGemm<VD, 8, 4, &small_rows>;

const GemmKernelTable kTable = {"avx512",     &Driver<PolicyF>::gemm, &Driver<PolicyD>::gemm,
                                PolicyF::MR,  PolicyF::NR,            PolicyD::MR,
                                PolicyD::NR,  SmallF::fns(),          SmallD::fns()};

}  // namespace kern_avx512

const GemmKernelTable* gemm_table_avx512() { return &kern_avx512::kTable; }
}  // namespace fastnn

#else
namespace fastnn {
// Built without AVX-512 code generation: the path is reported as unavailable.
const GemmKernelTable* gemm_table_avx512() { return nullptr; }
}  // namespace fastnn
#endif
