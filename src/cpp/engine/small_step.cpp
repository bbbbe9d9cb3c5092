// The fused training step for small Dense chains (see small_step.h).
#include "fastnn/small_step.h"

#include <algorithm>

#include "fastnn/gemm.h"
#include "fastnn/layers.h"
#include "fastnn/threadpool.h"

namespace fastnn {

template <typename T>
bool SmallStep<T>::plan(Network<T>& net, size_t batch_size) {
  net_ = nullptr;
  if (!net.built() || net.bf16_matmul() || net.num_layers() == 0 || batch_size == 0) return false;
  if (&net.backend() != &cpu_backend<T>() || !small_gemm_available()) return false;
  if (net.input_dim() > kMaxWidth) return false;
  // Products the general path would split between threads stay there.
  const int threads = net.pool() ? net.pool()->num_threads() : 1;
  const double parallel_flops = 2.0e5;
  lay_.clear();
  size_t in = net.input_dim(), act_cols = 0, maxw = in, wt = 0;
  for (size_t i = 0; i < net.num_layers(); ++i) {
    const auto* d = dynamic_cast<const Dense<T>*>(&net.layer(i));
    if (!d || d->out_dim() > kMaxWidth) return false;
    const size_t out = d->out_dim();
    if (threads > 1 && 2.0 * double(batch_size) * double(in) * double(out) >= parallel_flops)
      return false;
    Lay l;
    l.in = in;
    l.out = out;
    l.kernel = net.params().data() + d->params[0].offset;
    l.dkernel = net.grads().data() + d->params[0].offset;
    l.bias = d->use_bias() ? net.params().data() + d->params[1].offset : nullptr;
    l.dbias = d->use_bias() ? net.grads().data() + d->params[1].offset : nullptr;
    l.act = d->activation();
    l.relu = l.act->is_plain_relu();
    l.trainable = d->trainable;
    l.z = l.a = nullptr;
    act_cols += (l.relu || l.act->is_identity()) ? out : 2 * out;
    maxw = std::max(maxw, out);
    if (i > 0) wt = std::max(wt, in * out);
    lay_.push_back(l);
    in = out;
  }
  din_ = net.input_dim();
  yc_ = std::max<size_t>(1, net.loss().label_cols(net.output_dim()));
  const size_t cap = batch_size;
  buf_.resize(cap * act_cols + 2 * cap * maxw + wt + cap * yc_ + cap);
  T* p = buf_.data();
  for (Lay& l : lay_) {
    l.z = p;
    p += cap * l.out;
    if (l.relu || l.act->is_identity()) {
      l.a = l.z;
    } else {
      l.a = p;
      p += cap * l.out;
    }
  }
  g0_ = p;
  p += cap * maxw;
  g1_ = p;
  p += cap * maxw;
  wt_ = p;
  p += wt;
  ybuf_ = p;
  p += cap * yc_;
  wbuf_ = p;
  net_ = &net;
  return true;
}

template <typename T>
void SmallStep<T>::gather(const T* X, const T* Y, const T* W, const int64_t* index, size_t rows,
                          const int64_t* next, size_t next_rows) {
  const size_t din = din_, yc = yc_;
  // The next batch's rows are scattered over the data: ask for them now (as Backend::gather).
  for (size_t r = 0; r < next_rows; ++r) {
    const size_t src = size_t(next[r]);
    const char* q = reinterpret_cast<const char*>(X + src * din);
    for (size_t off = 0; off < sizeof(T) * din; off += 64) __builtin_prefetch(q + off);
    __builtin_prefetch(Y + src * yc);
  }
  X_ = X;
  index_ = index;
  rows_ = rows;
  y_ = Y;
  w_ = W;
  if (index) {
    for (size_t r = 0; r < rows; ++r) {
      const size_t src = size_t(index[r]);
      for (size_t j = 0; j < yc; ++j) ybuf_[r * yc + j] = Y[src * yc + j];
      if (W) wbuf_[r] = W[src];
    }
    y_ = ybuf_;
    w_ = W ? wbuf_ : nullptr;
  }
}

template <typename T>
double SmallStep<T>::run(double denominator) {
  Network<T>& net = *net_;
  const Backend<T>& be = net.backend();
  const T* X = X_;
  const int64_t* index = index_;
  const size_t rows = rows_, din = din_;
  const T *y = y_, *w = w_;

  // Forward.
  const T* x = X;
  size_t ldx = din;
  const int64_t* xrows = index;
  for (Lay& l : lay_) {
    small_gemm_nn<T>(rows, l.out, l.in, x, ldx, xrows, l.kernel, l.out, l.bias, l.relu, l.z, l.out);
    if (l.a != l.z) be.activation_forward(*l.act, l.z, l.out, l.a, l.out, rows, l.out);
    x = l.a;
    ldx = l.out;
    xrows = nullptr;
  }
  const Lay& top = lay_.back();
  out_ = top.a;

  // The loss and dL/d(output) (dL/dz when the loss is computed from the logits).
  const bool fused = net.fused_loss();
  const Loss eff = net.effective_loss(net.loss(), true);
  const double s = be.loss(eff, fused ? top.z : top.a, y, w, rows, top.out, denominator, g0_,
                           nullptr);

  // Backward: each layer's dz, its parameter gradients, then dL/d(input) unless it is the first.
  bool preact = fused;
  T* dcur = g0_;
  T* dnext = g1_;
  for (size_t i = lay_.size(); i-- > 0;) {
    const Lay& l = lay_[i];
    if (!preact && !l.act->is_identity())
      be.activation_backward(*l.act, l.z, l.a, dcur, dcur, rows, l.out, l.out);
    const T* xin = i == 0 ? X : lay_[i - 1].a;
    const size_t ldin = i == 0 ? din : l.in;
    if (l.trainable)
      small_gemm_tn<T>(l.in, l.out, rows, xin, ldin, i == 0 ? index : nullptr, dcur, l.out,
                       l.dkernel, l.out, l.dbias);
    if (i > 0) {
      // dx = dz W^T: W transposed once (in x out -> out x in) so the product reads rows.
      for (size_t k = 0; k < l.in; ++k)
        for (size_t j = 0; j < l.out; ++j) wt_[j * l.in + k] = l.kernel[k * l.out + j];
      small_gemm_nn<T>(rows, l.in, l.out, dcur, l.out, nullptr, wt_, l.in, nullptr, false, dnext,
                       l.in);
      std::swap(dcur, dnext);
    }
    preact = false;
  }
  return s;
}

template class SmallStep<float>;
template class SmallStep<double>;

}  // namespace fastnn
