// The compute a network and its trainer ask of a device: matrix products, element-wise maps,
// row reductions, the batch gather, the loss and the optimizer update. Network and Trainer reach
// the arithmetic only through this interface, so a GPU backend can stand beside the CPU one and
// run the same plan (sharing the per-element formulas of math/).
//
// Memory: a backend allocates the memory its operations address (DeviceMemory below: host memory
// for the CPU backend, device memory for a GPU one) and copies between it and the host, so arenas,
// workspaces and a device-resident data set can live where the backend computes.
//
// Pointers are to memory the backend can address (host memory for the CPU backend). Every
// operation keeps the determinism contract of gemm.h: a result element never depends on how rows
// are split into blocks or on the number of threads. `pool` may be null (run on the caller only).
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "fastnn/activations.h"
#include "fastnn/gemm.h"
#include "fastnn/losses.h"
#include "fastnn/optimizers.h"

namespace fastnn {

class ThreadPool;

// A batch gathered by row index: row r of the batch is row index[r] of X (and Y, W).
template <typename T>
struct GatherArgs {
  const T* X = nullptr;  // n x din
  const T* Y = nullptr;  // n x yc
  const T* W = nullptr;  // n, or null (no sample weights)
  size_t din = 0, yc = 0;
  const int64_t* index = nullptr;  // `rows` entries
  size_t rows = 0;
  const int64_t* next = nullptr;  // the next batch's indices (a hint: may be prefetched)
  size_t next_rows = 0;
  T *x = nullptr, *y = nullptr, *w = nullptr;  // destinations (w unused when W is null)
};

// Allocation and copies for one backend's memory. Copies are ordered with the backend's own work
// (a device backend queues them on its stream); synchronize() waits until all of it is done, so
// host memory given to copy_to_host may be read after it. Allocation failures throw.
class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  // True when the memory is ordinary host memory (the CPU backend).
  virtual bool host_memory() const = 0;
  // At least `bytes` bytes, 64-byte aligned (null for 0 bytes).
  virtual void* allocate(size_t bytes) const = 0;
  virtual void release(void* p) const noexcept = 0;
  virtual void copy_from_host(void* dst, const void* host_src, size_t bytes) const = 0;
  virtual void copy_to_host(void* host_dst, const void* src, size_t bytes) const = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) const = 0;
  virtual void fill_zero(void* dst, size_t bytes) const = 0;
  virtual void synchronize() const = 0;
};

// An array of n values of T in a backend's memory (owned; moves, never copies).
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(const DeviceMemory& mem, size_t n)
      : mem_(&mem), n_(n), p_(static_cast<T*>(mem.allocate(n * sizeof(T)))) {}
  DeviceArray(DeviceArray&& o) noexcept : mem_(o.mem_), n_(o.n_), p_(o.p_) {
    o.p_ = nullptr;
    o.n_ = 0;
  }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      reset();
      mem_ = o.mem_;
      n_ = o.n_;
      p_ = o.p_;
      o.p_ = nullptr;
      o.n_ = 0;
    }
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { reset(); }

  T* data() const { return p_; }
  size_t size() const { return n_; }
  void upload(const T* host, size_t n, size_t at = 0) const {
    check(at, n);
    if (n) mem_->copy_from_host(p_ + at, host, n * sizeof(T));
  }
  void download(T* host, size_t n, size_t at = 0) const {
    check(at, n);
    if (n) mem_->copy_to_host(host, p_ + at, n * sizeof(T));
  }
  void zero() const {
    if (n_) mem_->fill_zero(p_, n_ * sizeof(T));
  }
  void reset() noexcept {
    if (p_) mem_->release(p_);
    p_ = nullptr;
    n_ = 0;
  }

 private:
  void check(size_t at, size_t n) const {
    if (at > n_ || n > n_ - at) throw std::out_of_range("DeviceArray: copy past the end");
  }
  const DeviceMemory* mem_ = nullptr;
  size_t n_ = 0;
  T* p_ = nullptr;
};

template <typename T>
class Backend : public DeviceMemory {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // C = beta * C + op(A) op(B), then the epilogue (the contract of gemm.h).
  virtual void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const T* A,
                    size_t lda, const T* B, size_t ldb, T beta, T* C, size_t ldc,
                    const Epilogue<T>* ep, ThreadPool* pool) const = 0;
  // The same product with bfloat16-rounded inputs and float32 accumulation (mixed precision; the
  // contract of gemm_bf16 in gemm.h). Float networks only; a double backend refuses it.
  virtual void gemm_bf16(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const T* A,
                         size_t lda, const T* B, size_t ldb, T beta, T* C, size_t ldc,
                         const Epilogue<T>* ep, ThreadPool* pool) const = 0;
  // a = f(z) and dz = da * f'(z) on a block (the contracts of activations.h).
  virtual void activation_forward(const Activation& f, const T* z, size_t ldz, T* a, size_t lda,
                                  size_t rows, size_t cols) const = 0;
  virtual void activation_backward(const Activation& f, const T* z, const T* a, const T* da, T* dz,
                                   size_t rows, size_t cols, size_t ld) const = 0;
  // out[j] (+)= sum over rows of m[r, j], rows summed in order (bias gradients).
  virtual void column_sums(const T* m, size_t rows, size_t cols, T* out, bool accumulate) const = 0;
  virtual void gather(const GatherArgs<T>& a, ThreadPool* pool) const = 0;
  // The contract of losses.h (loss_forward_backward).
  virtual double loss(const Loss& loss, const T* pred, const T* y, const T* w, size_t rows,
                      size_t cols, double denominator, T* grad, T* per_sample) const = 0;
  // One optimizer step over the trainable segments of the arenas (grads may be clipped in place).
  virtual void optimizer_step(Optimizer<T>& opt, T* params, T* grads,
                              const std::vector<Segment>& segments) const = 0;
};

// The CPU backend (a process-wide, stateless object).
template <typename T>
const Backend<T>& cpu_backend();

}  // namespace fastnn
