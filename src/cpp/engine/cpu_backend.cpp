// The CPU backend: the engine's own GEMM, the activation and loss loops, the gather, the optimizer
// loops; the thread pool where the work is large enough to share.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "fastnn/backend.h"
#include "fastnn/common.h"
#include "fastnn/threadpool.h"

#if defined(_WIN32)
#include <malloc.h>
#endif

namespace fastnn {
namespace {

template <typename T>
class CpuBackend final : public Backend<T> {
 public:
  const char* name() const override { return "cpu"; }

  // Memory: the host's. Copies are plain memcpy, complete on return.
  bool host_memory() const override { return true; }
  void* allocate(size_t bytes) const override {
    if (bytes == 0) return nullptr;
    void* p = nullptr;
    const size_t rounded = (bytes + 63) / 64 * 64;
#if defined(_WIN32)
    p = _aligned_malloc(rounded, 64);
#else
    if (posix_memalign(&p, 64, rounded) != 0) p = nullptr;
#endif
    if (!p) throw std::bad_alloc();
    return p;
  }
  void release(void* p) const noexcept override {
#if defined(_WIN32)
    _aligned_free(p);
#else
    std::free(p);
#endif
  }
  void copy_from_host(void* dst, const void* src, size_t bytes) const override {
    if (bytes) std::memmove(dst, src, bytes);
  }
  void copy_to_host(void* dst, const void* src, size_t bytes) const override {
    if (bytes) std::memmove(dst, src, bytes);
  }
  void copy(void* dst, const void* src, size_t bytes) const override {
    if (bytes) std::memmove(dst, src, bytes);
  }
  void fill_zero(void* dst, size_t bytes) const override {
    if (bytes) std::memset(dst, 0, bytes);
  }
  void synchronize() const override {}

  void gemm(bool ta, bool tb, size_t M, size_t N, size_t K, const T* A, size_t lda, const T* B,
            size_t ldb, T beta, T* C, size_t ldc, const Epilogue<T>* ep,
            ThreadPool* pool) const override {
    fastnn::gemm<T>(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, ep, pool);
  }
  void gemm_bf16(bool ta, bool tb, size_t M, size_t N, size_t K, const T* A, size_t lda,
                 const T* B, size_t ldb, T beta, T* C, size_t ldc, const Epilogue<T>* ep,
                 ThreadPool* pool) const override {
    if constexpr (std::is_same_v<T, float>)
      fastnn::gemm_bf16(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, ep, pool);
    else
      throw ValueError("bfloat16 matrix products need a float32 network");
  }
  void activation_forward(const Activation& f, const T* z, size_t ldz, T* a, size_t lda,
                          size_t rows, size_t cols) const override {
    fastnn::activation_forward(f, z, ldz, a, lda, rows, cols);
  }
  void activation_backward(const Activation& f, const T* z, const T* a, const T* da, T* dz,
                           size_t rows, size_t cols, size_t ld) const override {
    fastnn::activation_backward(f, z, a, da, dz, rows, cols, ld);
  }
  void column_sums(const T* m, size_t rows, size_t cols, T* out, bool accumulate) const override {
    if (!accumulate) std::fill(out, out + cols, T(0));
    for (size_t r = 0; r < rows; ++r) {
      const T* row = m + r * cols;
      for (size_t j = 0; j < cols; ++j) out[j] += row[j];
    }
  }
  void gather(const GatherArgs<T>& a, ThreadPool* pool) const override {
    const size_t din = a.din, yc = a.yc;
    // The next batch's rows are scattered over the data: ask for them now, so their cache misses
    // overlap this batch's arithmetic.
    for (size_t r = 0; r < a.next_rows; ++r) {
      const size_t src = size_t(a.next[r]);
      const char* p = reinterpret_cast<const char*>(a.X + src * din);
      for (size_t off = 0; off < sizeof(T) * din; off += 64) __builtin_prefetch(p + off);
      __builtin_prefetch(a.Y + src * yc);
    }
    auto rows_range = [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        const size_t src = size_t(a.index[r]);
        const T* xs = a.X + src * din;
        T* xd = a.x + r * din;
        if (din <= 16)  // short rows: a plain loop beats a call to memcpy
          for (size_t j = 0; j < din; ++j) xd[j] = xs[j];
        else
          std::memcpy(xd, xs, sizeof(T) * din);
        if (yc == 1)
          a.y[r] = a.Y[src];
        else
          std::memcpy(a.y + r * yc, a.Y + src * yc, sizeof(T) * yc);
        if (a.W) a.w[r] = a.W[src];
      }
    };
    // Rows scattered over a large data set cost memory latency more than bandwidth: several
    // threads keep more of them in flight.
    const size_t rows = a.rows;
    const int nt = pool ? pool->num_threads() : 1;
    if (nt > 1 && rows * din * sizeof(T) >= (size_t(128) << 10)) {
      const size_t per = (rows + size_t(nt) - 1) / size_t(nt);
      pool->parallel_for(size_t(nt), [&](size_t t) {
        rows_range(std::min(rows, t * per), std::min(rows, (t + 1) * per));
      });
    } else {
      rows_range(0, rows);
    }
  }
  double loss(const Loss& l, const T* pred, const T* y, const T* w, size_t rows, size_t cols,
              double denominator, T* grad, T* per_sample) const override {
    return loss_forward_backward(l, pred, y, w, rows, cols, denominator, grad, per_sample);
  }
  void optimizer_step(Optimizer<T>& opt, T* params, T* grads,
                      const std::vector<Segment>& segments) const override {
    opt.step(params, grads, segments);
  }
};

}  // namespace

template <typename T>
const Backend<T>& cpu_backend() {
  static const CpuBackend<T> backend;
  return backend;
}

template const Backend<float>& cpu_backend<float>();
template const Backend<double>& cpu_backend<double>();

}  // namespace fastnn
