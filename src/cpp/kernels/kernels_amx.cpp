// bfloat16 GEMM through AMX tiles (built with -mamx-tile -mamx-bf16 -mavx512bf16 ..., run only where
// the CPU has AMX-BF16 and AVX512-BF16 and Linux grants the tile state; see gemm_bf16 in gemm.h).
//
// op(A) and op(B) are rounded to bfloat16 (to nearest even, vcvtne2ps2bf16) while they are packed:
//   A into row-major bfloat16 rows of Kp = round_up(K, 32) values (zero padded), cut along k into
//   blocks of kKc values: block b holds every row's values of that block, row after row (rows of
//   kKc * 2 bytes, not Kp * 2: rows a power of two of 4 KB apart would share the same L1 sets);
//   B into 16-column panels in the pair-interleaved layout tdpbf16ps reads (panel p, pair kp holds
//   (B[2kp][n], B[2kp+1][n]) for its 16 columns n, one 32-bit word each), cut along k into blocks
//   of kKc values: block b holds every panel's pairs of that block, panel after panel, so the part
//   of B one k block of a column strip needs is one contiguous run of memory.
// Transposed operands are packed 16 x 16 words at a time through a register transpose (no
// scatters, every load and store a full line).
// Each 32 x 32 block of C is four 16 x 16 float32 tiles accumulated over k in order, k = 0, 32, 64,
// ...; between k blocks the tiles are stored to a float32 buffer and loaded back, which is exact, so
// an element never depends on the blocking, on the rows or columns computed beside it nor on the
// thread count. beta * C_old, the bias and relu are then applied as in the float path.
// The products of a training step here are bound by memory traffic and by tile loads that miss L1,
// not by the tile arithmetic: the packing reads every operand once, along its rows.
#include "gemm_kernels.h"

#if defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AVX512BF16__)
#include <immintrin.h>
#include <cstdint>
#include <cstring>
#include <vector>
#include "fastnn/threadpool.h"

namespace fastnn {
namespace kern_amx {

constexpr size_t kBlock = 32;   // C block: 2 x 2 tiles of 16 x 16
constexpr size_t kKc = 256;     // k values per block (a multiple of 32)
constexpr size_t kStrip = 4;    // column blocks per compute task (128 columns of B, kKc deep: 64 KB)
constexpr size_t kGroup = 8;    // row blocks per compute task at most (256 rows)
constexpr size_t kAccLd = kStrip * kBlock;  // floats per row of a task's accumulator buffer

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

// r[i][j] <-> r[j][i] for 16 x 16 32-bit words: round s swaps bit s of the row and column index
// (the off-diagonal s x s blocks of every 2s x 2s block).
inline void transpose16(__m512i r[16]) {
  for (int s = 8; s >= 1; s /= 2) {
    alignas(64) int32_t lo[16], hi[16];
    for (int j = 0; j < 16; ++j) {
      lo[j] = (j & s) ? 16 + j - s : j;  // row i: its own j, or row i + s's j - s
      hi[j] = (j & s) ? 16 + j : j + s;  // row i + s: row i's j + s, or its own j
    }
    const __m512i il = _mm512_load_si512(lo), ih = _mm512_load_si512(hi);
    for (int i = 0; i < 16; ++i) {
      if (i & s) continue;
      const __m512i a = r[i], b = r[i + s];
      r[i] = _mm512_permutex2var_epi32(a, il, b);
      r[i + s] = _mm512_permutex2var_epi32(a, ih, b);
    }
  }
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
  uint32_t* pa;        // Mp x Kp/2 words, blocked along k (see the top of the file)
  const uint32_t* pb;  // Np x Kp/2 words, blocked along k (see the top of the file)
};

// Words of packed A (B) before k block b, and the pairs held by block b.
inline size_t block_offset(size_t rows, size_t b) { return b * (kKc / 2) * rows; }
inline size_t block_pairs(size_t Kp, size_t b) {
  return (Kp - b * kKc < kKc ? Kp - b * kKc : kKc) / 2;
}

// Rows [i0, i0 + 16) of op(A) into pa (zero rows past M).
void pack_a_rows(const Job& j, size_t i0) {
  // Word w (pairs 16w' ...) of row i: block w / (kKc / 2), row i of the block.
  auto at = [&](size_t i, size_t k) {
    const size_t b = k / kKc;
    return j.pa + block_offset(j.Mp, b) + i * block_pairs(j.Kp, b) + (k - b * kKc) / 2;
  };
  if (!j.ta) {
    for (size_t i = i0; i < i0 + 16; ++i) {
      const float* s = j.A + i * j.lda;
      for (size_t k = 0; k < j.Kp; k += 32)
        _mm512_storeu_si512(at(i, k), i < j.M ? pairs_along(s + k, long(j.K) - long(k))
                                              : _mm512_setzero_si512());
    }
  } else {
    // A stored K x M: rows k, k+1 give one word for each of 16 rows of op(A); 16 such pairs,
    // transposed, are 16 words along k of each row.
    const long n = long(j.M) - long(i0);
    __m512i r[16];
    for (size_t k0 = 0; k0 < j.Kp; k0 += 32) {
      for (size_t q = 0; q < 16; ++q) {
        const size_t k = k0 + 2 * q;
        r[q] = k < j.K ? pairs_across(j.A + k * j.lda + i0,
                                      k + 1 < j.K ? j.A + (k + 1) * j.lda + i0 : nullptr, n)
                       : _mm512_setzero_si512();
      }
      transpose16(r);
      for (size_t i = 0; i < 16; ++i) _mm512_storeu_si512(at(i0 + i, k0), r[i]);
    }
  }
}

// Panels [p0, p1) of op(B) (columns [16 p0, 16 p1)), k block b, to d, panel after panel (zero
// columns past N).
void pack_b_panels(const Job& j, uint32_t* d, size_t b, size_t p0, size_t p1) {
  const size_t pairs = block_pairs(j.Kp, b), k0 = b * kKc;
  if (!j.tb) {
    // Rows k, k + 1 across all the panels at once: B is read along its rows, a line at a time
    // (panel by panel, the rows of B would be 256 lines one row apart, all in the same cache sets).
    for (size_t q = 0; q < pairs; ++q) {
      const size_t k = k0 + 2 * q;
      const float* r0 = k < j.K ? j.B + k * j.ldb : nullptr;
      const float* r1 = k + 1 < j.K ? j.B + (k + 1) * j.ldb : nullptr;
      for (size_t p = p0; p < p1; ++p) {
        const size_t n0 = p * 16;
        const long n = long(j.N) - long(n0);
        const __m512i w = r0 ? pairs_across(r0 + n0, r1 ? r1 + n0 : nullptr, n)
                             : _mm512_setzero_si512();
        _mm512_storeu_si512(d + ((p - p0) * pairs + q) * 16, w);
      }
    }
  } else {
    // B stored N x K: column c of op(B) is row n0 + c of B, its pairs along the row; 16 rows of 16
    // words, transposed, are 16 pairs of the panel.
    __m512i r[16];
    for (size_t p = p0; p < p1; ++p) {
      const size_t n0 = p * 16;
      const long n = long(j.N) - long(n0);
      uint32_t* dp = d + (p - p0) * pairs * 16;
      for (size_t q0 = 0; q0 < pairs; q0 += 16) {
        const size_t k = k0 + 2 * q0;
        for (size_t c = 0; c < 16; ++c)
          r[c] = long(c) < n ? pairs_along(j.B + (n0 + c) * j.ldb + k, long(j.K) - long(k))
                             : _mm512_setzero_si512();
        transpose16(r);
        for (size_t q = 0; q < 16; ++q) _mm512_storeu_si512(dp + (q0 + q) * 16, r[q]);
      }
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

// Applies beta * C_old, the bias and the epilogue to the finished 32 x 32 block at (i0, j0), whose
// sums are in acc (row stride ld floats).
void finish_block(const Job& j, const float* acc, size_t ld, size_t i0, size_t j0) {
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
      __m512 v = _mm512_loadu_ps(acc + r * ld + q);
      if (j.beta != 0.0f) v = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mk, c + q), v);
      if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, bias + q));
      if (relu)  // (0 > x) ? 0 : x
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(zero, v, _CMP_GT_OQ), v, zero);
      _mm512_mask_storeu_ps(c + q, mk, v);
    }
  }
  if (ep && ep->fn && !ep->relu) ep->fn(ep->ctx, j.C + i0 * j.ldc + j0, j.ldc, i0, j0, m, n);
}

// Packing tasks: the row groups of A, then (k block, panel group) pieces of B. Compute tasks: a
// strip of up to kStrip column blocks by a group of up to kGroup row blocks; inside, k blocks
// outermost, so the strip's part of B for one k block (kKc x 128 bfloat16) is reused by every row
// block of the group while it is in L2, and one row block's part of A (32 x kKc) stays in L1
// across the strip.
struct Plan {
  const Job* job;
  uint32_t* pb;  // B's packing target (job->pb, writable); null when fused (below)
  // fuse_b: each compute task packs its own strip of B, one k block at a time, just before using
  // it (every strip then has one task: one row group). B is read once, from float32, and the
  // packed copy never goes to memory: the large products here are bound by memory traffic.
  bool fuse_b;
  size_t a_tasks, b_panel_groups, k_blocks;
  size_t row_blocks, col_blocks;
  size_t strips, group, groups;
};

constexpr size_t kPackPanels = 8;  // panels of B per packing task

void pack_task(void* ctx, size_t i) {
  const Plan& p = *static_cast<const Plan*>(ctx);
  if (i < p.a_tasks) {
    pack_a_rows(*p.job, i * 16);
    return;
  }
  i -= p.a_tasks;
  const size_t b = i / p.b_panel_groups, g = i % p.b_panel_groups;
  const size_t panels = p.job->Np / 16;
  const size_t p1 = (g + 1) * kPackPanels < panels ? (g + 1) * kPackPanels : panels;
  const size_t q0 = g * kPackPanels;
  pack_b_panels(*p.job, p.pb + block_offset(p.job->Np, b) + q0 * block_pairs(p.job->Kp, b) * 16, b,
                q0, p1);
}

struct TaskBuffer {
  std::vector<float> acc;   // kGroup * kBlock rows of kAccLd floats
  std::vector<uint32_t> b;  // fused packing: one k block of the strip's panels
};

void compute_task(void* ctx, size_t t) {
  const Plan& p = *static_cast<const Plan*>(ctx);
  const Job& j = *p.job;
  static thread_local TaskBuffer tb;
  if (tb.acc.size() < kGroup * kBlock * kAccLd) tb.acc.resize(kGroup * kBlock * kAccLd);
  float* accbuf = tb.acc.data();
  if (p.fuse_b && tb.b.size() < kStrip * kBlock * kKc / 2) tb.b.resize(kStrip * kBlock * kKc / 2);
  configure_tiles();
  const size_t s = t / p.groups, g = t % p.groups;
  const size_t c0 = s * kStrip, c1 = c0 + kStrip < p.col_blocks ? c0 + kStrip : p.col_blocks;
  const size_t r0 = g * p.group, r1 = r0 + p.group < p.row_blocks ? r0 + p.group : p.row_blocks;
  constexpr size_t accstride = kAccLd * 4;
  for (size_t b = 0; b < p.k_blocks; ++b) {
    const bool first = b == 0, last = b + 1 == p.k_blocks;
    const size_t pairs = block_pairs(j.Kp, b);
    const size_t astride = pairs * 4;  // bytes per packed row of A in this block
    // The strip's panels for this k block, panel after panel.
    const uint32_t* bstrip;
    if (p.fuse_b) {
      pack_b_panels(j, tb.b.data(), b, 2 * c0, 2 * c1);
      bstrip = tb.b.data();
    } else {
      bstrip = j.pb + block_offset(j.Np, b) + 2 * c0 * pairs * 16;
    }
    for (size_t rb = r0; rb < r1; ++rb) {
      const uint32_t* a0 = j.pa + block_offset(j.Mp, b) + rb * kBlock * pairs;
      const uint32_t* a1 = a0 + 16 * pairs;
      for (size_t cb = c0; cb < c1; ++cb) {
        float* acc = accbuf + (rb - r0) * kBlock * kAccLd + (cb - c0) * kBlock;
        if (first) {
          _tile_zero(0);
          _tile_zero(1);
          _tile_zero(2);
          _tile_zero(3);
        } else {
          _tile_loadd(0, acc, accstride);
          _tile_loadd(1, acc + 16, accstride);
          _tile_loadd(2, acc + 16 * kAccLd, accstride);
          _tile_loadd(3, acc + 16 * kAccLd + 16, accstride);
        }
        const uint32_t* b0 = bstrip + (cb - c0) * 2 * pairs * 16;
        const uint32_t* b1 = b0 + pairs * 16;
        for (size_t q = 0; q < pairs; q += 16) {
          // The next k step's four tiles into L1 while these compute: a tile load that misses L1
          // stalls (measured: about 30% more throughput than with the hardware prefetchers alone).
          if (q + 16 < pairs) {
            const char* na0 = reinterpret_cast<const char*>(a0 + q + 16);
            const char* na1 = reinterpret_cast<const char*>(a1 + q + 16);
            const char* nb0 = reinterpret_cast<const char*>(b0 + (q + 16) * 16);
            const char* nb1 = reinterpret_cast<const char*>(b1 + (q + 16) * 16);
            for (size_t l = 0; l < 16; ++l) {
              _mm_prefetch(na0 + l * astride, _MM_HINT_T0);
              _mm_prefetch(na1 + l * astride, _MM_HINT_T0);
              _mm_prefetch(nb0 + l * 64, _MM_HINT_T0);
              _mm_prefetch(nb1 + l * 64, _MM_HINT_T0);
            }
          }
          _tile_loadd(4, a0 + q, astride);
          _tile_loadd(6, b0 + q * 16, 64);
          _tile_loadd(5, a1 + q, astride);
          _tile_loadd(7, b1 + q * 16, 64);
          _tile_dpbf16ps(0, 4, 6);
          _tile_dpbf16ps(1, 4, 7);
          _tile_dpbf16ps(2, 5, 6);
          _tile_dpbf16ps(3, 5, 7);
        }
        _tile_stored(0, acc, accstride);
        _tile_stored(1, acc + 16, accstride);
        _tile_stored(2, acc + 16 * kAccLd, accstride);
        _tile_stored(3, acc + 16 * kAccLd + 16, accstride);
        if (last) finish_block(j, acc, kAccLd, rb * kBlock, cb * kBlock);
      }
    }
  }
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
  j.pa = buf.a.data();
  const int nt = pool ? pool->num_threads() : 1;
  Plan plan{&j, nullptr, false, j.Mp / 16, 0, (j.Kp + kKc - 1) / kKc, j.Mp / kBlock,
            j.Np / kBlock, 0, 0, 0};
  plan.b_panel_groups = (j.Np / 16 + kPackPanels - 1) / kPackPanels;
  plan.strips = (plan.col_blocks + kStrip - 1) / kStrip;
  // Row groups of at most kGroup blocks, more of them where the strips alone give a thread fewer
  // than a few tasks (the split never changes the results).
  plan.groups = (plan.row_blocks + kGroup - 1) / kGroup;
  const size_t want = size_t(nt) * 4;
  if (plan.strips * plan.groups < want) plan.groups = (want + plan.strips - 1) / plan.strips;
  if (plan.groups > plan.row_blocks) plan.groups = plan.row_blocks;
  plan.group = (plan.row_blocks + plan.groups - 1) / plan.groups;
  plan.groups = (plan.row_blocks + plan.group - 1) / plan.group;
  plan.fuse_b = plan.groups == 1;
  if (!plan.fuse_b) {
    buf.b.resize(j.Np * j.Kp / 2);
    plan.pb = buf.b.data();
    j.pb = buf.b.data();
  }
  const size_t pack_tasks =
      plan.a_tasks + (plan.fuse_b ? 0 : plan.k_blocks * plan.b_panel_groups);
  const size_t compute_tasks = plan.strips * plan.groups;
  const double flops = 2.0 * double(M) * double(N) * double(K);
  const bool parallel = pool && nt > 1 && flops >= 2.0e6;
  if (parallel) {
    pool->run(pack_tasks, &pack_task, &plan);
    pool->run(compute_tasks, &compute_task, &plan);
  } else {
    for (size_t i = 0; i < pack_tasks; ++i) pack_task(&plan, i);
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
