// bfloat16 GEMM through AMX tiles (built with -mamx-tile -mamx-bf16 -mavx512bf16 ..., run only where
// the CPU has AMX-BF16 and AVX512-BF16 and Linux grants the tile state; see gemm_bf16 in gemm.h).
//
// op(A) and op(B) are rounded to bfloat16 (to nearest even, vcvtne2ps2bf16) while they are packed:
//   A into row-major bfloat16 rows of Kp = round_up(K, 32) values (zero padded),
//   B into 16-column panels in the pair-interleaved layout tdpbf16ps reads: panel p, pair kp holds
//   (B[2kp][n], B[2kp+1][n]) for its 16 columns n, one 32-bit word each.
// Each 32 x 32 block of C is four 16 x 16 float32 tiles accumulated over all of K in order (k is never
// blocked or split), so an element never depends on the rows or columns computed beside it nor on the
// thread count; beta * C_old, the bias and relu are then applied as in the float path.
#include "gemm_kernels.h"

#if defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AVX512BF16__)
#include <immintrin.h>
#include <cstdint>
#include <cstring>
#include <vector>
#include "fastnn/threadpool.h"

namespace fastnn {
namespace kern_amx {

constexpr size_t kBlock = 32;  // C block: 2 x 2 tiles of 16 x 16

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64, "ldtilecfg reads 64 bytes");

inline __mmask16 mask16(long n) {
  return n <= 0 ? __mmask16(0) : n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u);
}

// 16 words (p[2j], p[2j+1]) in bfloat16, j = 0..15, from the first n (<= 32) of p; zeros past them.
inline __m512i pairs_along(const float* p, long n) {
  const __m512 lo = _mm512_maskz_loadu_ps(mask16(n), p);
  const __m512 hi = _mm512_maskz_loadu_ps(mask16(n - 16), p + 16);
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

// 16 words (r0[j], r1[j]) in bfloat16 for the first n (<= 16) j; r1 may be null (zeros).
inline __m512i pairs_across(const float* r0, const float* r1, long n) {
  const __m512 a = _mm512_maskz_loadu_ps(mask16(n), r0);
  const __m512 b = r1 ? _mm512_maskz_loadu_ps(mask16(n), r1) : _mm512_setzero_ps();
  const __m512i v = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
  // element 2j <- j (from r0), 2j+1 <- 16 + j (from r1)
  alignas(64) static const uint16_t idx[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                               8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30,
                                               15, 31};
  return _mm512_permutexvar_epi16(_mm512_load_si512(idx), v);
}

struct Job {
  bool ta, tb;
  size_t M, N, K, Mp, Np, Kp;
  const float* A;
  size_t lda;
  const float* B;
  size_t ldb;
  float beta;
  float* C;
  size_t ldc;
  const Epilogue<float>* ep;
  uint32_t* pa;  // Mp x Kp/2 words
  uint32_t* pb;  // Np/16 panels x Kp/2 x 16 words
};

// Rows [i0, i0 + 16) of op(A) into pa (zero rows past M).
void pack_a_rows(const Job& j, size_t i0) {
  const size_t kw = j.Kp / 2;
  if (!j.ta) {
    for (size_t i = i0; i < i0 + 16; ++i) {
      uint32_t* d = j.pa + i * kw;
      if (i >= j.M) {
        std::memset(d, 0, kw * 4);
        continue;
      }
      const float* s = j.A + i * j.lda;
      for (size_t k = 0; k < j.Kp; k += 32)
        _mm512_storeu_si512(d + k / 2, pairs_along(s + k, long(j.K) - long(k)));
    }
  } else {
    // A stored K x M: rows k, k+1 give the pairs of 16 consecutive rows of op(A) at once.
    const long n = long(j.M) - long(i0);
    const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
                                                            5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi32(int(kw)));
    for (size_t k = 0; k < j.Kp; k += 2) {
      __m512i w = _mm512_setzero_si512();
      if (k < j.K)
        w = pairs_across(j.A + k * j.lda + i0, k + 1 < j.K ? j.A + (k + 1) * j.lda + i0 : nullptr,
                         n);
      _mm512_i32scatter_epi32(j.pa + i0 * kw + k / 2, idx, w, 4);
    }
  }
}

// Panel p (columns [16p, 16p + 16)) of op(B) into pb (zero columns past N).
void pack_b_panel(const Job& j, size_t p) {
  const size_t kw = j.Kp / 2, n0 = p * 16;
  uint32_t* d = j.pb + p * kw * 16;
  const long n = long(j.N) - long(n0);
  if (!j.tb) {
    for (size_t k = 0; k < j.Kp; k += 2) {
      __m512i w = _mm512_setzero_si512();
      if (k < j.K)
        w = pairs_across(j.B + k * j.ldb + n0, k + 1 < j.K ? j.B + (k + 1) * j.ldb + n0 : nullptr,
                         n);
      _mm512_storeu_si512(d + (k / 2) * 16, w);
    }
  } else {
    // B stored N x K: each column of op(B) is a row of B; its pairs go 16 words apart.
    const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
                                                            5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi32(16));
    for (size_t c = 0; c < 16; ++c) {
      if (long(c) >= n) {
        for (size_t kp = 0; kp < kw; ++kp) d[kp * 16 + c] = 0;
        continue;
      }
      const float* s = j.B + (n0 + c) * j.ldb;
      for (size_t k = 0; k < j.Kp; k += 32)
        _mm512_i32scatter_epi32(d + (k / 2) * 16 + c, idx,
                                pairs_along(s + k, long(j.K) - long(k)), 4);
    }
  }
}

constexpr TileConfig make_config() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  return cfg;
}

// Every tile 16 rows of 64 bytes. A static object, not a local: the compiler does not see that
// ldtilecfg reads its operand and may drop stores to a local it thinks is never read.
alignas(64) const TileConfig kTileConfig = make_config();

void configure_tiles() { _tile_loadconfig(&kTileConfig); }

// One 32 x 32 block of C at (i0, j0), finished.
void block(const Job& j, size_t i0, size_t j0) {
  const size_t kw = j.Kp / 2;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const uint32_t* a0 = j.pa + i0 * kw;
  const uint32_t* a1 = a0 + 16 * kw;
  const uint32_t* b0 = j.pb + (j0 / 16) * kw * 16;
  const uint32_t* b1 = b0 + kw * 16;
  const size_t astride = j.Kp * 2;  // bytes per packed row of A
  for (size_t k = 0; k < j.Kp; k += 32) {
    _tile_loadd(4, a0 + k / 2, astride);
    _tile_loadd(5, a1 + k / 2, astride);
    _tile_loadd(6, b0 + (k / 2) * 16, 64);
    _tile_loadd(7, b1 + (k / 2) * 16, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float acc[kBlock * kBlock];
  _tile_stored(0, acc, kBlock * 4);
  _tile_stored(1, acc + 16, kBlock * 4);
  _tile_stored(2, acc + 16 * kBlock, kBlock * 4);
  _tile_stored(3, acc + 16 * kBlock + 16, kBlock * 4);

  const size_t m = j.M - i0 < kBlock ? j.M - i0 : kBlock;
  const size_t n = j.N - j0 < kBlock ? j.N - j0 : kBlock;
  const Epilogue<float>* ep = j.ep;
  const float* bias = ep && ep->bias ? ep->bias + j0 : nullptr;
  const bool relu = ep && ep->relu;
  const __m512 vbeta = _mm512_set1_ps(j.beta), zero = _mm512_setzero_ps();
  for (size_t r = 0; r < m; ++r) {
    float* c = j.C + (i0 + r) * j.ldc + j0;
    for (size_t q = 0; q < n; q += 16) {
      const __mmask16 mk = mask16(long(n) - long(q));
      __m512 v = _mm512_load_ps(acc + r * kBlock + q);
      if (j.beta != 0.0f) v = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mk, c + q), v);
      if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, bias + q));
      if (relu)  // (0 > x) ? 0 : x
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(zero, v, _CMP_GT_OQ), v, zero);
      _mm512_mask_storeu_ps(c + q, mk, v);
    }
  }
  if (ep && ep->fn && !ep->relu) ep->fn(ep->ctx, j.C + i0 * j.ldc + j0, j.ldc, i0, j0, m, n);
}

// Packing tasks: the row groups of A, then the panels of B. Compute tasks: a strip of up to 4 column
// blocks (its panels of B, 128 columns x K, stay in L2) by a group of row blocks, rows outer.
struct Plan {
  const Job* job;
  size_t a_tasks, b_tasks;
  size_t row_blocks, col_blocks;
  size_t strip, strips;  // column blocks per strip, number of strips
  size_t group, groups;  // row blocks per group, number of groups
};

void pack_task(void* ctx, size_t i) {
  const Plan& p = *static_cast<const Plan*>(ctx);
  if (i < p.a_tasks)
    pack_a_rows(*p.job, i * 16);
  else
    pack_b_panel(*p.job, i - p.a_tasks);
}

void compute_task(void* ctx, size_t t) {
  const Plan& p = *static_cast<const Plan*>(ctx);
  configure_tiles();
  const size_t s = t / p.groups, g = t % p.groups;
  const size_t c0 = s * p.strip, c1 = c0 + p.strip < p.col_blocks ? c0 + p.strip : p.col_blocks;
  const size_t r0 = g * p.group, r1 = r0 + p.group < p.row_blocks ? r0 + p.group : p.row_blocks;
  for (size_t rb = r0; rb < r1; ++rb)
    for (size_t cb = c0; cb < c1; ++cb) block(*p.job, rb * kBlock, cb * kBlock);
  _tile_release();
}

struct Buffers {
  std::vector<uint32_t> a, b;
};

void sgemm_bf16(bool ta, bool tb, size_t M, size_t N, size_t K, const float* A, size_t lda,
                const float* B, size_t ldb, float beta, float* C, size_t ldc,
                const Epilogue<float>* ep, ThreadPool* pool) {
  static thread_local Buffers buf;
  Job j{ta, tb, M, N, K, 0, 0, 0, A, lda, B, ldb, beta, C, ldc, ep, nullptr, nullptr};
  j.Mp = (M + kBlock - 1) / kBlock * kBlock;
  j.Np = (N + kBlock - 1) / kBlock * kBlock;
  j.Kp = (K + 31) / 32 * 32;
  if (j.Kp == 0) j.Kp = 32;  // K == 0: one block of zeros, so C = beta * C + bias
  buf.a.resize(j.Mp * j.Kp / 2);
  buf.b.resize(j.Np * j.Kp / 2);
  j.pa = buf.a.data();
  j.pb = buf.b.data();
  const int nt = pool ? pool->num_threads() : 1;
  Plan plan{&j, j.Mp / 16, j.Np / 16, j.Mp / kBlock, j.Np / kBlock, 4, 0, 0, 0};
  plan.strips = (plan.col_blocks + plan.strip - 1) / plan.strip;
  // Enough row groups for every thread to have a few tasks (the split never changes the results).
  const size_t want = size_t(nt) * 4;
  plan.groups = plan.strips >= want ? 1 : (want + plan.strips - 1) / plan.strips;
  if (plan.groups > plan.row_blocks) plan.groups = plan.row_blocks;
  plan.group = (plan.row_blocks + plan.groups - 1) / plan.groups;
  plan.groups = (plan.row_blocks + plan.group - 1) / plan.group;
  const size_t compute_tasks = plan.strips * plan.groups;
  const double flops = 2.0 * double(M) * double(N) * double(K);
  const bool parallel = pool && nt > 1 && flops >= 2.0e6;
  if (parallel) {
    pool->run(plan.a_tasks + plan.b_tasks, &pack_task, &plan);
    pool->run(compute_tasks, &compute_task, &plan);
  } else {
    for (size_t i = 0; i < plan.a_tasks + plan.b_tasks; ++i) pack_task(&plan, i);
    for (size_t t = 0; t < compute_tasks; ++t) compute_task(&plan, t);
  }
}

}  // namespace kern_amx

GemmFn<float> gemm_bf16_amx() { return &kern_amx::sgemm_bf16; }
}  // namespace fastnn

#else
namespace fastnn {
// Built without AMX code generation: the path is reported as unavailable.
GemmFn<float> gemm_bf16_amx() { return nullptr; }
}  // namespace fastnn
#endif
