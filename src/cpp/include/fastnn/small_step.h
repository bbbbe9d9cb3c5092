// The fused training step for small Dense chains: every width at most 64 and every product too
// small to share between threads (the 8-10-10-1 kind of network, whose step is a few thousand
// multiply-adds). The general path pays, per layer, the GEMM's dispatch, padding copies of narrow
// operands, epilogue callbacks and a separate pass for the bias gradient, which cost more than the
// arithmetic; here each layer is one unpacked product over tiles that stay in L1, the gather is the
// first layer's row index, and the bias gradient rides on the weight gradient's product.
//
// Same bits as the general path (Network::forward / backward through the backend): the products go
// through small_gemm_nn / small_gemm_tn (gemm's per-element arithmetic on the same kernel path),
// the activations and the loss through the same backend functions, in the same order per element.
// The Trainer plans it once per chunk and falls back to the general path where it does not apply.
//
// Threading: as Trainer (one thread; the caller holds the network exclusively).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fastnn/network.h"

namespace fastnn {

template <typename T>
class SmallStep {
 public:
  // True when the fused step applies to `net` with batches of up to batch_size rows (sizes the
  // buffers). Every Dense, CPU backend, no mixed precision, widths <= kMaxWidth.
  bool plan(Network<T>& net, size_t batch_size);
  static constexpr size_t kMaxWidth = 64;

  // One batch of `rows` rows, in two calls. gather: row r is X[index[r]] (index null: X[r]),
  // labels Y and weights W (null: none) likewise (the inputs are read in place by the first
  // layer); next/next_rows: the following batch's indices (prefetched). weights(): the batch's
  // weights (null when W is). run: forward, the loss and dL/d(output) as Backend::loss with
  // `denominator`, backward into the network's gradient arena (overwritten); returns the loss sum
  // (Backend::loss); output() then holds the batch's outputs.
  void gather(const T* X, const T* Y, const T* W, const int64_t* index, size_t rows,
              const int64_t* next, size_t next_rows);
  const T* weights() const { return w_; }
  double run(double denominator);
  const T* output() const { return out_; }

 private:
  struct Lay {
    size_t in, out;
    const T* kernel;
    const T* bias;  // null: no bias
    T* dkernel;
    T* dbias;
    const Activation* act;
    bool relu;       // plain relu, applied inside the product (as the general path does)
    bool trainable;
    T *z, *a;  // pre-activation and output (the same buffer when the activation is the identity)
  };
  Network<T>* net_ = nullptr;
  std::vector<Lay> lay_;
  std::vector<T> buf_;
  T *g0_ = nullptr, *g1_ = nullptr, *wt_ = nullptr, *ybuf_ = nullptr, *wbuf_ = nullptr;
  const T *X_ = nullptr, *y_ = nullptr, *w_ = nullptr;  // the batch (gather)
  const int64_t* index_ = nullptr;
  size_t rows_ = 0;
  const T* out_ = nullptr;
  size_t din_ = 0, yc_ = 0;
};

}  // namespace fastnn
