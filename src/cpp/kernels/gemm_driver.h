// Internal: the blocked GEMM driver shared by every kernel file (packing, cache blocking, the small
// no-pack path, the epilogue and the split over threads). Each kernels_<isa>.cpp defines FASTNN_KNS
// (its private namespace, so nothing here is shared between files built with different flags) and a
// kernel policy per type, then includes this file and instantiates Driver<Policy>::gemm.
//
// A policy P provides:
//   T; MR, NR (register tile); KC, MC, NC (cache blocks);
//   micro(kc, pa, pb, c, ldc, load, const Fin<T>* f): one MR x NR tile from packed panels
//     (pa: kc x MR, k-major; pb: kc x NR, k-major, 64-byte aligned), starting from 0 or from c
//     (load), finishing (beta, bias, relu) when f is non-null;
//   kRowsKernels, rows_kernel(mr): when true, a kernel like micro for the first mr < MR rows only
//     (used for the last row panel instead of a padded tile);
//   small(scratch, m, n, K, A, rsA, csA, B, ldb, bstep, padded, C, ldc, beta, bias, relu): the
//     m x n block from unpacked A (A(i,k) = A[i*rsA + k*csA]) and B given by blocks of NR columns
//     (block b at B + b*bstep, rows ldb apart; padded: every block is readable NR wide, zeros past
//     n), finished.
// Both must give, per element, exactly the arithmetic described in gemm.h.
//
// Loop structure of the packed path on one region of C (rows r0..r1, cols c0..c1):
//   for jc (NC columns): for pc (KC of k): pack B[pc.., jc..] into NR-wide panels
//     for ic (MC rows): pack A[ic.., pc..] into MR-high panels
//       for jr (NR): for ir (MR): micro-kernel    -- after the last pc, the epilogue runs per strip
// Threads get whole regions (a grid over M and N); k is never split.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#if defined(_WIN32)
#include <malloc.h>
#endif
#include "fastnn/gemm.h"
#include "fastnn/threadpool.h"

#ifndef FASTNN_KNS
#error "define FASTNN_KNS before including gemm_driver.h"
#endif

namespace fastnn {
namespace FASTNN_KNS {

// What the last k block of a packed tile applies before storing.
template <typename T>
struct Fin {
  T beta;          // 0: C_old is not read
  const T* cold;   // C_old at this tile (when beta != 0)
  size_t ldco;
  const T* bias;   // at this tile's first column, or null
  bool relu;
};

// Default packing of a full NR-wide panel of op(B) when B is stored transposed (N x K):
// dst[k*NR + j] = src[j*ldb + k]. Kernel policies may replace it with a vector transpose.
// Likewise a full MR-high panel of A stored row-major (M x K): dst[k*MR + r] = src[r*lda + k].
template <typename T, int NR, int MR>
struct PackDefault {
  static void pack_bt_panel(T* __restrict dst, const T* src, size_t ldb, size_t kc) {
    for (int j = 0; j < NR; ++j) {
      const T* s = src + j * ldb;
      for (size_t k = 0; k < kc; ++k) dst[k * NR + j] = s[k];
    }
  }
  static void pack_a_panel(T* __restrict dst, const T* src, size_t lda, size_t kc) {
    for (size_t k = 0; k < kc; ++k) {
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) dst[k * MR + r] = src[r * lda + k];
    }
  }
};

inline size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
inline size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }
inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
inline size_t round_up(size_t a, size_t b) { return ceil_div(a, b) * b; }

// A per-thread scratch buffer that only grows (64-byte aligned); steady state allocates nothing.
struct ScratchBuf {
  void* p = nullptr;
  size_t cap = 0;
  ScratchBuf() = default;
  ScratchBuf(const ScratchBuf&) = delete;
  ScratchBuf& operator=(const ScratchBuf&) = delete;
  ~ScratchBuf() { release(); }
  void release() {
#if defined(_WIN32)
    _aligned_free(p);
#else
    std::free(p);
#endif
    p = nullptr;
    cap = 0;
  }
  template <typename T>
  T* get(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes > cap) {
      size_t want = round_up(max_sz(bytes + bytes / 4, 4096), 4096);
      release();
#if defined(_WIN32)
      p = _aligned_malloc(want, 64);
#else
      if (posix_memalign(&p, 64, want) != 0) p = nullptr;
#endif
      if (!p) throw std::bad_alloc();
      cap = want;
    }
    return static_cast<T*>(p);
  }
};

struct Scratch {
  ScratchBuf a, b, cold, bt, bpad;
  bool busy = false;
};

// The calling thread's scratch buffers for one region of one gemm. Should an epilogue callback call
// gemm again on the same thread, the inner call gets buffers of its own instead of overwriting the
// packed panels the outer call is still using.
class ScratchLease {
 public:
  ScratchLease() {
    static thread_local Scratch tls;
    if (tls.busy) {
      nested_ = new Scratch;
      s_ = nested_;
    } else {
      tls.busy = true;
      s_ = &tls;
    }
  }
  ~ScratchLease() {
    if (nested_)
      delete nested_;
    else
      s_->busy = false;
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  Scratch& get() { return *s_; }

 private:
  Scratch* s_ = nullptr;
  Scratch* nested_ = nullptr;
};

// Work below this many flops (2*M*N*K) stays on the calling thread.
constexpr double kParallelFlops = 2.0e5;

template <class P>
struct Driver {
  using T = typename P::T;
  static constexpr int MR = P::MR;
  static constexpr int NR = P::NR;

  struct Args {
    bool ta, tb;
    size_t M, N, K;
    const T* A;
    size_t lda;
    const T* B;
    size_t ldb;
    T beta;
    T* C;
    size_t ldc;
    const T* bias;
    bool relu;
    void (*fn)(const void*, T*, size_t, size_t, size_t, size_t, size_t);
    const void* ctx;
    bool small;
  };

  static void call_fn(const Args& g, size_t r0, size_t c0, size_t m, size_t n) {
    if (g.fn && !g.relu && m && n) g.fn(g.ctx, g.C + r0 * g.ldc + c0, g.ldc, r0, c0, m, n);
  }

  // ---- small path ----------------------------------------------------------------------------
  static void region_small(const Args& g, size_t r0, size_t r1, size_t c0, size_t c1) {
    const size_t m = r1 - r0, n = c1 - c0, K = g.K;
    const size_t rsA = g.ta ? 1 : g.lda, csA = g.ta ? g.lda : 1;
    ScratchLease lease;
    if (g.tb && K > 0) {
      // B is stored N x K: pack the region's columns into zero-padded NR-wide panels (the same
      // vectorised transposes as the packed path; cheap next to the product).
      T* bt = lease.get().bt.template get<T>(K * round_up(n, NR));
      pack_b(bt, g, c0, n, 0, K);
      P::small(lease.get(), m, n, K, g.A + r0 * rsA, rsA, csA, bt, NR, K * NR, true,
               g.C + r0 * g.ldc + c0, g.ldc, g.beta, g.bias ? g.bias + c0 : nullptr, g.relu);
    } else {
      P::small(lease.get(), m, n, K, g.A + r0 * rsA, rsA, csA, g.B + c0, g.ldb, NR, false,
               g.C + r0 * g.ldc + c0, g.ldc, g.beta, g.bias ? g.bias + c0 : nullptr, g.relu);
    }
    call_fn(g, r0, c0, m, n);
  }

  // ---- packing ---------------------------------------------------------------------------------
  // op(A)[i0.., k0..] (m x kc) into MR-high panels, each kc x MR (k-major), zero rows past m.
  static void pack_a(T* __restrict dst, const Args& g, size_t i0, size_t m, size_t k0, size_t kc) {
    for (size_t p = 0; p < m; p += MR) {
      const size_t mr = min_sz(MR, m - p);
      T* d = dst + p * kc;
      if (!g.ta) {
        const T* src = g.A + (i0 + p) * g.lda + k0;
        if (mr == size_t(MR)) {
          P::pack_a_panel(d, src, g.lda, kc);
        } else {
          for (size_t k = 0; k < kc; ++k)
            for (size_t r = 0; r < size_t(MR); ++r) d[k * MR + r] = r < mr ? src[r * g.lda + k] : T(0);
        }
      } else {
        const T* src = g.A + k0 * g.lda + i0 + p;
        if (mr == size_t(MR)) {
          for (size_t k = 0; k < kc; ++k) {
#pragma GCC unroll 16
            for (int r = 0; r < MR; ++r) d[k * MR + r] = src[k * g.lda + r];
          }
        } else {
          for (size_t k = 0; k < kc; ++k)
            for (size_t r = 0; r < size_t(MR); ++r) d[k * MR + r] = r < mr ? src[k * g.lda + r] : T(0);
        }
      }
    }
  }

  // op(B)[k0.., j0..] (kc x n) into NR-wide panels, each kc x NR (k-major), zero columns past n.
  static void pack_b(T* __restrict dst, const Args& g, size_t j0, size_t n, size_t k0, size_t kc) {
    for (size_t q = 0; q < n; q += NR) {
      const size_t nr = min_sz(NR, n - q);
      T* d = dst + q * kc;
      if (!g.tb) {
        const T* src = g.B + k0 * g.ldb + j0 + q;
        if (nr == size_t(NR)) {
          for (size_t k = 0; k < kc; ++k) {
#pragma GCC unroll 32
            for (int j = 0; j < NR; ++j) d[k * NR + j] = src[k * g.ldb + j];
          }
        } else {
          for (size_t k = 0; k < kc; ++k)
            for (size_t j = 0; j < size_t(NR); ++j) d[k * NR + j] = j < nr ? src[k * g.ldb + j] : T(0);
        }
      } else {
        const T* src = g.B + (j0 + q) * g.ldb + k0;
        if (nr == size_t(NR)) {
          P::pack_bt_panel(d, src, g.ldb, kc);
        } else {
          for (size_t j = 0; j < size_t(NR); ++j) {
            if (j < nr) {
              for (size_t k = 0; k < kc; ++k) d[k * NR + j] = src[j * g.ldb + k];
            } else {
              for (size_t k = 0; k < kc; ++k) d[k * NR + j] = T(0);
            }
          }
        }
      }
    }
  }

  // ---- packed path on one region -----------------------------------------------------------------
  static void region_packed(const Args& g, size_t r0, size_t r1, size_t c0, size_t c1) {
    const size_t M = r1 - r0, N = c1 - c0, K = g.K;
    const size_t kb = ceil_div(K, P::KC), kc = ceil_div(K, kb);
    const size_t mb = ceil_div(M, P::MC), mc = round_up(ceil_div(M, mb), MR);
    const size_t nb = ceil_div(N, P::NC), nc = round_up(ceil_div(N, nb), NR);
    ScratchLease lease;
    Scratch& s = lease.get();
    T* pa = s.a.template get<T>(mc * kc);
    T* pb = s.b.template get<T>(nc * kc);

    // C_old must outlive the partial sums stored in C when k is blocked.
    const T* cold = g.C + r0 * g.ldc + c0;
    size_t ldco = g.ldc;
    if (g.beta != T(0) && kb > 1) {
      T* cc = s.cold.template get<T>(M * N);
      for (size_t i = 0; i < M; ++i) std::memcpy(cc + i * N, cold + i * g.ldc, N * sizeof(T));
      cold = cc;
      ldco = N;
    }

    for (size_t jc = 0; jc < N; jc += nc) {
      const size_t ncur = min_sz(nc, N - jc);
      for (size_t pc = 0; pc < K; pc += kc) {
        const size_t kcur = min_sz(kc, K - pc);
        const bool first = pc == 0, last = pc + kcur == K;
        pack_b(pb, g, c0 + jc, ncur, pc, kcur);
        for (size_t ic = 0; ic < M; ic += mc) {
          const size_t mcur = min_sz(mc, M - ic);
          pack_a(pa, g, r0 + ic, mcur, pc, kcur);
          macro(g, pa, pb, r0 + ic, mcur, c0 + jc, ncur, kcur, first, last,
                cold + ic * ldco + jc, ldco);
        }
      }
    }
  }

  // One mc x nc block of C from packed panels. (i0, j0): its position in C.
  static void macro(const Args& g, const T* pa, const T* pb, size_t i0, size_t m, size_t j0,
                    size_t n, size_t kc, bool first, bool last, const T* cold, size_t ldco) {
    T* cb = g.C + i0 * g.ldc + j0;
    const size_t ldc = g.ldc;
    size_t fn_from = 0;  // first column of the strips not yet handed to the epilogue
    for (size_t jr = 0; jr < n; jr += NR) {
      const size_t nr = min_sz(NR, n - jr);
      const T* pbj = pb + jr * kc;
      const T* bias = g.bias ? g.bias + j0 + jr : nullptr;
      for (size_t ir = 0; ir < m; ir += MR) {
        const size_t mr = min_sz(MR, m - ir);
        const T* pai = pa + ir * kc;
        T* c = cb + ir * ldc + jr;
        if (mr == size_t(MR) && nr == size_t(NR)) {
          Fin<T> f{g.beta, cold + ir * ldco + jr, ldco, bias, g.relu};
          P::micro(kc, pai, pbj, c, ldc, !first, last ? &f : nullptr);
        } else if (P::kRowsKernels && nr == size_t(NR)) {
          // Last row panel, full width: a kernel with just the real rows, straight on C.
          Fin<T> f{g.beta, cold + ir * ldco + jr, ldco, bias, g.relu};
          P::rows_kernel(mr)(kc, pai, pbj, c, ldc, !first, last ? &f : nullptr);
        } else {
          edge(kc, pai, pbj, c, ldc, mr, nr, first, last, g.beta, cold + ir * ldco + jr, ldco, bias,
               g.relu);
        }
      }
      if (last && g.fn && !g.relu) {
        const size_t done = jr + nr;
        if (done - fn_from >= 64 || done == n) {
          call_fn(g, i0, j0 + fn_from, m, done - fn_from);
          fn_from = done;
        }
      }
    }
  }

  // A tile cut by the edge of C: run the full micro-kernel on a local tile and copy the real part.
  static void edge(size_t kc, const T* pa, const T* pb, T* c, size_t ldc, size_t mr, size_t nr,
                   bool first, bool last, T beta, const T* cold, size_t ldco, const T* bias, bool relu) {
    alignas(64) T tile[MR * NR];
    alignas(64) T ctile[MR * NR];
    alignas(64) T btile[NR];
    std::memset(tile, 0, sizeof(tile));
    if (!first)
      for (size_t r = 0; r < mr; ++r) std::memcpy(tile + r * NR, c + r * ldc, nr * sizeof(T));
    Fin<T> f{beta, ctile, size_t(NR), bias ? btile : nullptr, relu};
    if (last) {
      if (beta != T(0)) {
        std::memset(ctile, 0, sizeof(ctile));
        for (size_t r = 0; r < mr; ++r) std::memcpy(ctile + r * NR, cold + r * ldco, nr * sizeof(T));
      }
      if (bias) {
        std::memset(btile, 0, sizeof(btile));
        std::memcpy(btile, bias, nr * sizeof(T));
      }
    }
    P::micro(kc, pa, pb, tile, NR, !first, last ? &f : nullptr);
    for (size_t r = 0; r < mr; ++r) std::memcpy(c + r * ldc, tile + r * NR, nr * sizeof(T));
  }

  // ---- threads -------------------------------------------------------------------------------------
  static void region(const Args& g, size_t r0, size_t r1, size_t c0, size_t c1) {
    if (g.small)
      region_small(g, r0, r1, c0, c1);
    else
      region_packed(g, r0, r1, c0, c1);
  }

  struct Split {
    const Args* g;
    size_t rows, cols;  // region size (multiples of MR / NR)
    size_t tn;          // regions per row of the grid
  };

  static void split_task(void* ctx, size_t i) {
    const Split& s = *static_cast<const Split*>(ctx);
    const Args& g = *s.g;
    const size_t r0 = (i / s.tn) * s.rows, c0 = (i % s.tn) * s.cols;
    region(g, r0, min_sz(g.M, r0 + s.rows), c0, min_sz(g.N, c0 + s.cols));
  }

  static void run(const Args& g, ThreadPool* pool) {
    const double flops = 2.0 * double(g.M) * double(g.N) * double(g.K);
    const int nt = pool ? pool->num_threads() : 1;
    if (nt <= 1 || flops < kParallelFlops) {
      region(g, 0, g.M, 0, g.N);
      return;
    }
    // Grid tm x tn of regions: the one with the least work per thread (product plus packing).
    Split best{&g, g.M, g.N, 1};
    double best_cost = -1;
    size_t best_tasks = 1;
    for (int tm = 1; tm <= nt; ++tm) {
      if (nt % tm) continue;
      const int tn = nt / tm;
      const size_t rows = round_up(ceil_div(g.M, size_t(tm)), MR);
      const size_t cols = round_up(ceil_div(g.N, size_t(tn)), NR);
      const size_t tm2 = ceil_div(g.M, rows), tn2 = ceil_div(g.N, cols);
      const double rr = double(min_sz(rows, g.M)), cc = double(min_sz(cols, g.N));
      const double cost = rr * cc + (g.small ? 0.0 : 8.0 * (rr + cc));
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best = Split{&g, rows, cols, tn2};
        best_tasks = tm2 * tn2;
      }
    }
    if (best_tasks <= 1)
      region(g, 0, g.M, 0, g.N);
    else
      pool->run(best_tasks, &split_task, &best);
  }

  static bool use_small(size_t M, size_t N, size_t K, bool tb) {
    if (K == 0) return true;
    const double mnk = double(M) * double(N) * double(K);
    if (mnk <= P::SMALL_MNK) return true;
    // Few rows: packing B would cost as much as the product.
    if (M <= size_t(P::SMALL_ROWS)) return true;
    // One narrow block of columns: every packed tile would be an edge tile.
    if (N <= size_t(NR)) return true;
    return false;
  }

  static void gemm(bool ta, bool tb, size_t M, size_t N, size_t K, const T* A, size_t lda,
                   const T* B, size_t ldb, T beta, T* C, size_t ldc, const Epilogue<T>* ep,
                   ThreadPool* pool) {
    Args g{ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc,
           ep ? ep->bias : nullptr, ep ? ep->relu : false, ep ? ep->fn : nullptr,
           ep ? ep->ctx : nullptr, use_small(M, N, K, tb)};
    if (g.small && 2.0 * double(M) * double(N) * double(K) < kParallelFlops)
      region_small(g, 0, M, 0, N);  // the common tiny case: straight to the kernel
    else
      run(g, pool);
  }
};

}  // namespace FASTNN_KNS
}  // namespace fastnn
