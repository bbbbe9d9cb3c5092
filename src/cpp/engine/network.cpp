// The network: arenas, forward and backward passes, inference, input gradients and the manual-loop
// pieces (the training loop is in trainer.cpp).
#include "fastnn/network.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fastnn/common.h"
#include "fastnn/fpmode.h"
#include "fastnn/math/optimizer_fn.h"
#include "fastnn/threadpool.h"

namespace fastnn {

template <typename T>
Network<T>::Network(size_t input_dim, uint64_t seed) : input_dim_(input_dim), rng_(seed) {
  FASTNN_CHECK(input_dim > 0, "input_dim must be positive");
}

template <typename T>
void Network<T>::add_layer(std::unique_ptr<Layer<T>> layer) {
  FASTNN_CHECK(!built_, "cannot add a layer to a built network");
  FASTNN_CHECK(layer->in_dim() == output_dim(),
               std::string("layer input width ") + std::to_string(layer->in_dim()) +
                   " does not match the previous output width " + std::to_string(output_dim()));
  layers_.push_back(std::move(layer));
}

template <typename T>
void Network<T>::build() {
  FASTNN_CHECK(!built_, "network already built");
  size_t off = 0;
  specs_.clear();
  segments_.clear();
  has_regularizers_ = false;
  for (auto& l : layers_)
    for (auto& p : l->params) {
      p.offset = off;
      off = checked_add(off, checked_mul(p.rows, p.cols, "network weights"), "network weights");
      specs_.push_back(&p);
      segments_.push_back(Segment{p.offset, p.size(), p.trainable && l->trainable});
      if (p.l1 != 0 || p.l2 != 0) has_regularizers_ = true;
    }
  flops_per_row_ = 0;
  for (auto& l : layers_)
    flops_per_row_ += std::strcmp(l->kind(), "Dense") == 0
                          ? 2.0 * double(l->in_dim()) * double(l->out_dim())
                          : 4.0 * double(l->out_dim());
  params_.assign(off, T(0));
  grads_.assign(off, T(0));
  for (const ParamSpec* p : specs_)
    initialize(p->init, params_.data() + p->offset, p->rows, p->cols, p->seed, p->name != "kernel");
  built_ = true;
  set_loss(loss_);
}

template <typename T>
const ParamSpec& Network<T>::spec(size_t var) const {
  FASTNN_CHECK(var < specs_.size(), "variable index out of range");
  return *specs_[var];
}

template <typename T>
void Network<T>::set_layer_trainable(size_t i, bool trainable) {
  FASTNN_CHECK(i < layers_.size(), "layer index out of range");
  layers_[i]->trainable = trainable;
  size_t v = 0;
  for (size_t li = 0; li < layers_.size(); ++li)
    for (auto& p : layers_[li]->params) {
      if (built_) segments_[v].trainable = p.trainable && layers_[li]->trainable;
      ++v;
    }
}

template <typename T>
bool Network<T>::fusable(const Loss& l) const {
  if (layers_.empty() || l.from_logits) return false;
  const Activation* a = layers_.back()->activation();
  if (!a) return false;
  if (a->kind == ActKind::Sigmoid) return l.kind == LossKind::BinaryCrossentropy;
  if (a->kind == ActKind::Softmax)
    return l.kind == LossKind::CategoricalCrossentropy ||
           l.kind == LossKind::SparseCategoricalCrossentropy;
  return false;
}

template <typename T>
Loss Network<T>::effective_loss(const Loss& l, bool use_fusion) const {
  Loss e = l;
  if (use_fusion && fusable(l)) e.from_logits = true;
  return e;
}

template <typename T>
void Network<T>::set_loss(const Loss& loss) {
  loss_ = loss;
  fused_ = fusable(loss);
  // The last layer keeps its logits whenever its activation is sigmoid or softmax, so that a loss
  // computed in the manual loop can use the fused path too.
  if (!layers_.empty()) {
    const Activation* a = layers_.back()->activation();
    layers_.back()->set_keep_preactivation(
        a && (a->kind == ActKind::Sigmoid || a->kind == ActKind::Softmax));
  }
  ws_ = Workspace<T>();  // label width may have changed
  std::lock_guard<std::mutex> g(ws_pool_mu_);
  ws_pool_.clear();
}

template <typename T>
void Network<T>::ensure(Workspace<T>& ws, size_t rows, bool training) const {
  if (ws.cap >= rows && ws.out.size() == layers_.size() && (ws.training || !training)) return;
  size_t cap = std::max(rows, ws.cap);
  ws.cap = cap;
  ws.training = ws.training || training;
  ws.out.resize(layers_.size());
  ws.aux.resize(layers_.size());
  size_t maxw = input_dim_;
  for (size_t i = 0; i < layers_.size(); ++i) {
    ws.out[i].resize(checked_mul(cap, layers_[i]->out_dim(), "workspace"));
    ws.aux[i].resize(checked_mul(cap, layers_[i]->aux_cols(), "workspace"));
    maxw = std::max(maxw, layers_[i]->out_dim());
  }
  if (ws.training) {
    ws.x.resize(checked_mul(cap, input_dim_, "workspace"));
    ws.y.resize(cap * std::max<size_t>(1, loss_.label_cols(output_dim())));
    ws.w.resize(cap);
    ws.g0.resize(checked_mul(cap, maxw, "workspace"));
    ws.g1.resize(checked_mul(cap, maxw, "workspace"));
  }
}

template <typename T>
std::unique_ptr<Workspace<T>> Network<T>::acquire_workspace() {
  {
    std::lock_guard<std::mutex> g(ws_pool_mu_);
    if (!ws_pool_.empty()) {
      auto ws = std::move(ws_pool_.back());
      ws_pool_.pop_back();
      return ws;
    }
  }
  return std::make_unique<Workspace<T>>();
}

template <typename T>
void Network<T>::release_workspace(std::unique_ptr<Workspace<T>> ws) {
  std::lock_guard<std::mutex> g(ws_pool_mu_);
  if (ws_pool_.size() < 64) ws_pool_.push_back(std::move(ws));
}

template <typename T>
Workspace<T>& Network<T>::train_workspace(size_t rows) {
  ensure(ws_, rows);
  return ws_;
}

template <typename T>
const T* Network<T>::forward(Workspace<T>& ws, const T* x, size_t rows, bool training,
                             ThreadPool* pool) {
  LayerCtx<T> c{params_.data(), grads_.data(), pool, &rng_, backend_, bf16_};
  c.row_streams = row_streams_;
  c.row_key = row_key_;
  c.row0 = row0_;
  const T* in = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    T* aux = ws.aux[i].empty() ? nullptr : ws.aux[i].data();
    layers_[i]->forward(c, in, rows, ws.out[i].data(), aux, training);
    in = ws.out[i].data();
  }
  return in;
}

template <typename T>
const T* Network<T>::loss_input(const Workspace<T>& ws, const T* x) const {
  const size_t L = layers_.size();
  const T* in = L >= 2 ? ws.out[L - 2].data() : x;
  return layers_.back()->preactivation(in, ws.aux[L - 1].empty() ? nullptr : ws.aux[L - 1].data());
}

template <typename T>
const T* Network<T>::backward(Workspace<T>& ws, const T* x, size_t rows, bool preact,
                              const BackwardFlags& f, ThreadPool* pool, T* grads_out) {
  LayerCtx<T> c{params_.data(), grads_out ? grads_out : grads_.data(), pool, &rng_, backend_, bf16_};
  c.param_grads = f.param_grads;
  c.training = f.training;
  const bool accumulate = f.accumulate;
  T* dcur = ws.g0.data();
  T* dnext = ws.g1.data();
  for (size_t i = layers_.size(); i-- > 0;) {
    Layer<T>& ly = *layers_[i];
    const T* xin = i == 0 ? x : ws.out[i - 1].data();
    const T* aux = ws.aux[i].empty() ? nullptr : ws.aux[i].data();
    Epilogue<T> ep;
    GradEpilogueCtx<T> gctx;
    bool below_fused = false;
    if (i > 0) {
      const T* aux_b = ws.aux[i - 1].empty() ? nullptr : ws.aux[i - 1].data();
      below_fused = layers_[i - 1]->grad_epilogue(ws.out[i - 1].data(), aux_b, ep, gctx);
    }
    T* dx = i == 0 && !f.input_grad ? nullptr : dnext;
    ly.backward(c, xin, ws.out[i].data(), aux, dcur, preact, dx, below_fused ? &ep : nullptr, rows,
                accumulate);
    preact = below_fused;
    std::swap(dcur, dnext);
  }
  return f.input_grad ? dcur : nullptr;
}

template <typename T>
double Network<T>::regularization_loss(double divisor) const {
  if (!has_regularizers_) return 0.0;
  double total = 0;
  for (const ParamSpec* p : specs_) {
    if (p->l1 == 0 && p->l2 == 0) continue;
    const T* w = params_.data() + p->offset;
    double a = 0, s = 0;
    for (size_t i = 0; i < p->size(); ++i) {
      a += std::abs(double(w[i]));
      s += double(w[i]) * double(w[i]);
    }
    total += p->l1 * a + p->l2 * s;
  }
  return divisor == 1.0 ? total : total / divisor;
}

template <typename T>
void Network<T>::add_regularization_grads(double divisor) {
  if (!has_regularizers_) return;
  for (size_t v = 0; v < specs_.size(); ++v) {
    const ParamSpec* p = specs_[v];
    if ((p->l1 == 0 && p->l2 == 0) || !segments_[v].trainable) continue;
    const T* w = params_.data() + p->offset;
    T* g = grads_.data() + p->offset;
    const T l1 = T(p->l1 / divisor), l2x2 = T(2 * p->l2 / divisor);
    for (size_t i = 0; i < p->size(); ++i) math::regularizer_grad(g[i], w[i], l1, l2x2);
  }
}

template <typename T>
void Network<T>::shuffle(int64_t* perm, size_t n) {
  for (size_t i = 0; i < n; ++i) perm[i] = int64_t(i);
  for (size_t i = n; i > 1; --i) {
    size_t j = size_t(rng_.below(i));
    std::swap(perm[i - 1], perm[j]);
  }
}

namespace {
// Row blocks for inference: each task owns a workspace and takes every ntasks-th block.
// Work below ~256 kflop stays on the calling thread (waking a worker costs more than it saves).
inline size_t inference_block(size_t n, int threads, double flops_per_row) {
  if (double(n) * flops_per_row < 262144.0) threads = 1;
  size_t per = (n + size_t(threads) - 1) / size_t(threads);
  return std::max<size_t>(1, std::min<size_t>(per, 512));
}
}  // namespace

// Calls f(ws, start, rows, pool) for row blocks of [0, n). Several blocks run in parallel (one
// workspace per task, GEMMs single-threaded); a single block uses the GEMM's own threads.
template <typename T>
template <typename F>
void Network<T>::for_row_blocks(size_t n, size_t block, bool training_buffers, F&& f) {
  const size_t nblocks = (n + block - 1) / block;
  const size_t ntasks = std::min<size_t>(nblocks, size_t(pool_ ? pool_->num_threads() : 1));
  ThreadPool* inner = ntasks > 1 ? nullptr : pool_;
  std::unique_ptr<Workspace<T>> local[64];
  const size_t nt = std::min<size_t>(ntasks, 64);
  for (size_t t = 0; t < nt; ++t) {
    local[t] = acquire_workspace();
    ensure(*local[t], std::min(block, n), training_buffers);
  }
  auto task = [&](size_t t) {
    for (size_t b = t; b < nblocks; b += nt)
      f(*local[t], b, b * block, std::min(block, n - b * block), inner);
  };
  try {
    if (nt > 1)
      pool_->parallel_for(nt, task);
    else
      task(0);
  } catch (...) {
    for (size_t t = 0; t < nt; ++t) release_workspace(std::move(local[t]));
    throw;
  }
  for (size_t t = 0; t < nt; ++t) release_workspace(std::move(local[t]));
}

template <typename T>
void Network<T>::predict(const T* X, size_t n, T* out) {
  FASTNN_CHECK(built_, "network is not built");
  FlushDenormals fp_mode;
  if (n == 0) return;
  const size_t dout = output_dim();
  const size_t block = inference_block(n, pool_ ? pool_->num_threads() : 1, flops_per_row_);
  for_row_blocks(n, block, false,
                 [&](Workspace<T>& ws, size_t, size_t start, size_t rows, ThreadPool* inner) {
                   const T* o = forward(ws, X + start * input_dim_, rows, false, inner);
                   std::memcpy(out + start * dout, o, sizeof(T) * rows * dout);
                 });
}

template <typename T>
double Network<T>::evaluate(const T* X, const T* Y, const T* W, size_t n, T* pred_out,
                            T* per_sample_out) {
  FASTNN_CHECK(built_, "network is not built");
  FlushDenormals fp_mode;
  if (n == 0) return 0.0;
  const size_t dout = output_dim(), yc = loss_.label_cols(dout);
  const size_t block = inference_block(n, pool_ ? pool_->num_threads() : 1, flops_per_row_);
  const Loss eff = effective_loss(loss_, true);
  std::vector<double> sums((n + block - 1) / block, 0.0);
  for_row_blocks(n, block, false,
                 [&](Workspace<T>& ws, size_t b, size_t start, size_t rows, ThreadPool* inner) {
                   const T* x = X + start * input_dim_;
                   const T* o = forward(ws, x, rows, false, inner);
                   const T* lin = fused_ ? loss_input(ws, x) : o;
                   sums[b] = backend_->loss(eff, lin, Y + start * yc, W ? W + start : nullptr, rows,
                                            dout, 1.0, static_cast<T*>(nullptr),
                                            per_sample_out ? per_sample_out + start : nullptr);
                   if (pred_out) std::memcpy(pred_out + start * dout, o, sizeof(T) * rows * dout);
                 });
  double total = 0;
  for (double s : sums) total += s;  // fixed order: identical for any thread count
  return total;
}

template <typename T>
void Network<T>::input_gradient(const T* X, const T* weights, size_t n, T* out) {
  FASTNN_CHECK(built_, "network is not built");
  FlushDenormals fp_mode;
  if (n == 0) return;
  const size_t din = input_dim_, dout = output_dim();
  // Forward and backward per block: about three times a forward pass's work.
  const size_t block = inference_block(n, pool_ ? pool_->num_threads() : 1, 3.0 * flops_per_row_);
  BackwardFlags flags;
  flags.input_grad = true;
  flags.param_grads = false;
  flags.training = false;
  for_row_blocks(n, block, true,
                 [&](Workspace<T>& ws, size_t, size_t start, size_t rows, ThreadPool* inner) {
                   const T* x = X + start * din;
                   forward(ws, x, rows, false, inner);
                   std::memcpy(ws.g0.data(), weights + start * dout, sizeof(T) * rows * dout);
                   const T* dx = backward(ws, x, rows, false, flags, inner);
                   std::memcpy(out + start * din, dx, sizeof(T) * rows * din);
                 });
}

template <typename T>
const T* Network<T>::forward_cached(const T* X, size_t n, bool training) {
  FASTNN_CHECK(built_, "network is not built");
  FlushDenormals fp_mode;
  FASTNN_CHECK(n > 0, "forward needs at least one row");
  ensure(ws_, n);
  std::memcpy(ws_.x.data(), X, sizeof(T) * n * input_dim_);
  const T* out = forward(ws_, ws_.x.data(), n, training, pool_);
  cached_rows_ = n;
  cached_training_ = training;
  return out;
}

template <typename T>
double Network<T>::loss_cached(const Loss& loss, const T* Y, const T* W, bool use_fusion) {
  FASTNN_CHECK(cached_rows_ > 0, "no cached forward pass: call forward first");
  FlushDenormals fp_mode;
  const size_t n = cached_rows_, dout = output_dim();
  // The fused path needs the logits, which the last layer keeps only when the compiled loss fuses.
  const bool fuse = use_fusion && fusable(loss);
  const Loss eff = effective_loss(loss, fuse);
  const T* lin = fuse ? loss_input(ws_, ws_.x.data()) : ws_.out.back().data();
  double s = backend_->loss(eff, lin, Y, W, n, dout, double(n), ws_.g0.data(), nullptr);
  cached_fused_ = fuse;
  return s / double(n);
}

template <typename T>
void Network<T>::backward_cached(const T* dout, bool accumulate) {
  FASTNN_CHECK(cached_rows_ > 0, "no cached forward pass: call forward first");
  FlushDenormals fp_mode;
  const size_t n = cached_rows_;
  bool preact = cached_fused_;
  if (dout) {
    std::memcpy(ws_.g0.data(), dout, sizeof(T) * n * output_dim());
    preact = false;
  }
  BackwardFlags flags;
  flags.accumulate = accumulate;
  flags.training = cached_training_;
  backward(ws_, ws_.x.data(), n, preact, flags, pool_);
}

template <typename T>
void Network<T>::reset_locks_after_fork() {
  // In a child made by fork, the threads that held these locks do not exist: start over unlocked.
  new (&mu_) std::shared_mutex();
  new (&ws_pool_mu_) std::mutex();
}

template <typename T>
void Network<T>::zero_grad() {
  std::fill(grads_.begin(), grads_.end(), T(0));
}

template class Network<float>;
template class Network<double>;

}  // namespace fastnn
