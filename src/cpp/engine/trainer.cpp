// The training loop over chunks of batches (see trainer.h).
#include "fastnn/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fastnn/common.h"
#include "fastnn/fpmode.h"
#include "fastnn/threadpool.h"

namespace fastnn {

template <typename T>
void Trainer<T>::set_optimizer(const OptimizerConfig& c, bool reset) {
  opt_.set_pool(net_.pool());
  opt_.configure(c, net_.params().size(), reset);
}

template <typename T>
void Trainer<T>::network_built() {
  set_optimizer(opt_.config(), true);
}

template <typename T>
void Trainer<T>::update(double reg_divisor) {
  if (reducer_) reducer_->reduce(net_.grads().data(), net_.grads().size());
  net_.add_regularization_grads(reg_divisor);
  opt_.set_pool(net_.pool());
  net_.backend().optimizer_step(opt_, net_.params().data(), net_.grads().data(), net_.segments());
}

template <typename T>
double Trainer<T>::batch_denominator(const T* w, size_t rows) const {
  if (!objective_.per_weight_sum || !w) return double(rows);
  double s = 0;
  for (size_t i = 0; i < rows; ++i) s += double(w[i]);
  return s;
}

template <typename T>
ChunkResult Trainer<T>::train(const T* X, const T* Y, const T* W, size_t n, const int64_t* index,
                              size_t batch_size, size_t first_batch, size_t num_batches,
                              T* pred_out, double loss_sum_start) {
  Network<T>& net = net_;
  FASTNN_CHECK(net.built(), "network is not built");
  FlushDenormals fp_mode;
  FASTNN_CHECK(batch_size > 0, "batch_size must be positive");
  ChunkResult res;
  res.loss_sum = loss_sum_start;
  const Backend<T>& be = net.backend();
  ThreadPool* pool = net.pool();
  const size_t din = net.input_dim(), dout = net.output_dim();
  const size_t yc = net.loss().label_cols(dout);
  Workspace<T>& ws = net.train_workspace(std::min(batch_size, n));
  const bool fused = net.fused_loss();
  const Loss eff = net.effective_loss(net.loss(), true);
  BackwardFlags flags;  // parameter gradients, overwritten; no input gradient
  for (size_t b = first_batch; b < first_batch + num_batches; ++b) {
    const size_t start = b * batch_size;
    if (start >= n) break;
    const size_t rows = std::min(batch_size, n - start);
    const T *x, *y, *w = nullptr;
    if (index) {
      GatherArgs<T> g;
      g.X = X;
      g.Y = Y;
      g.W = W;
      g.din = din;
      g.yc = yc;
      g.index = index + start;
      g.rows = rows;
      const size_t next = start + batch_size;
      g.next = index + std::min(next, n);
      g.next_rows = next < n ? std::min(batch_size, n - next) : 0;
      g.x = ws.x.data();
      g.y = ws.y.data();
      g.w = ws.w.data();
      be.gather(g, pool);
      x = ws.x.data();
      y = ws.y.data();
      if (W) w = ws.w.data();
    } else {
      x = X + start * din;
      y = Y + start * yc;
      if (W) w = W + start;
    }
    T* pred = pred_out ? pred_out + (start - first_batch * batch_size) * dout : nullptr;
    const double denom = batch_denominator(w, rows);
    if (!(denom > 0)) {  // per_weight_sum: no weight, no information, no step
      if (pred) std::fill(pred, pred + rows * dout, T(0));
      continue;
    }
    const double reg_div = objective_.per_weight_sum ? denom : 1.0;
    const T* out = net.forward(ws, x, rows, true, pool);
    const T* lin = fused ? net.loss_input(ws, x) : out;
    // The loss's gradient is d(sum w_i l_i / denominator); a scaled loss divides the denominator.
    const double ls = objective_.loss_scale;
    double s = be.loss(eff, lin, y, w, rows, dout, ls == 1.0 ? denom : denom / ls, ws.g0.data(),
                       nullptr);
    const double rs = objective_.report_scale;
    double bl = (rs == 1.0 ? s : s * rs) / denom + net.regularization_loss(reg_div);
    if (!std::isfinite(bl)) res.nonfinite = true;
    if (pred) std::memcpy(pred, out, sizeof(T) * rows * dout);
    net.backward(ws, x, rows, fused, flags, pool);
    update(reg_div);
    res.loss_sum += bl * double(rows);
    res.samples += rows;
    res.batches += 1;
    res.last_batch_loss = bl;
  }
  net.invalidate_cache();  // the manual loop's cache no longer matches
  return res;
}

template <typename T>
void Trainer<T>::apply_gradients() {
  FASTNN_CHECK(net_.built(), "network is not built");
  FlushDenormals fp_mode;
  update();
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace fastnn
