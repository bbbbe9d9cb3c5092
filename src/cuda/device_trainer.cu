// The device network and its training loop (see device_trainer.h).
#include "device_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "fastnn/common.h"
#include "fastnn/device/stream_plan.h"
#include "fused_mlp.cuh"
#include "kernels.cuh"

namespace fastnn {
namespace cuda {

DeviceTrainer::DeviceTrainer(int device, size_t input_dim, std::vector<DeviceLayer> layers,
                             std::vector<DeviceVariable> variables, const Loss& loss,
                             const OptimizerConfig& opt, uint64_t seed)
    : be_(std::make_unique<CudaBackend>(device)),
      input_dim_(input_dim),
      layers_(std::move(layers)),
      vars_(std::move(variables)),
      loss_(loss),
      seed_(seed) {
  FASTNN_CHECK(input_dim > 0, "input_dim must be positive");
  size_t width = input_dim, off = 0, v = 0;
  maxw_ = input_dim;
  for (DeviceLayer& l : layers_) {
    FASTNN_CHECK(l.in == width, "device layer widths do not chain");
    if (l.kind == DeviceLayer::Dense) {
      FASTNN_CHECK(v < vars_.size() && vars_[v].size == l.in * l.out, "device variables do not match the layers");
      l.kernel_off = off;
      vars_[v++].offset = off;
      off += l.in * l.out;
      if (l.use_bias) {
        FASTNN_CHECK(v < vars_.size() && vars_[v].size == l.out, "device variables do not match the layers");
        l.bias_off = off;
        vars_[v++].offset = off;
        off += l.out;
      }
    } else {
      FASTNN_CHECK(l.out == l.in, "activation and dropout layers keep the width");
    }
    width = l.out;
    maxw_ = std::max(maxw_, l.out);
  }
  FASTNN_CHECK(v == vars_.size(), "device variables do not match the layers");
  arena_ = off;
  fused_ = fusable();
  eff_ = loss_;
  if (fused_) eff_.from_logits = true;
  opt_.configure(opt, arena_, true);
  slots_ = fastnn::optimizer_slots(opt);
  params_ = DeviceArray<float>(*be_, arena_);
  grads_ = DeviceArray<float>(*be_, arena_);
  grads_.zero();
  state_ = DeviceArray<float>(*be_, size_t(slots_) * arena_);
  state_.upload(opt_.state().data(), opt_.state().size());  // zeros (Adagrad: its initial value)
  std::vector<uint64_t> segs;
  for (const DeviceVariable& d : vars_)
    if (d.trainable) {
      segs.push_back(d.offset);
      segs.push_back(d.size);
    }
  n_trainable_segs_ = segs.size() / 2;
  trainable_segs_ = DeviceArray<uint64_t>(*be_, segs.size());
  trainable_segs_.upload(segs.data(), segs.size());
  flags_ = DeviceArray<int>(*be_, 2);
  flags_.zero();
  be_->synchronize();
}

bool DeviceTrainer::fusable() const { return fusable(loss_); }

bool DeviceTrainer::fusable(const Loss& loss_) const {
  if (layers_.empty() || loss_.from_logits) return false;
  const DeviceLayer& l = layers_.back();
  if (l.kind == DeviceLayer::Dropout) return false;
  if (l.act.kind == ActKind::Sigmoid) return loss_.kind == LossKind::BinaryCrossentropy;
  if (l.act.kind == ActKind::Softmax)
    return loss_.kind == LossKind::CategoricalCrossentropy ||
           loss_.kind == LossKind::SparseCategoricalCrossentropy;
  return false;
}

void DeviceTrainer::set_params(const float* host) {
  params_.upload(host, arena_);
  be_->synchronize();
}
void DeviceTrainer::get_params(float* host) {
  params_.download(host, arena_);
  be_->synchronize();
}
void DeviceTrainer::set_optimizer_state(const float* host, int64_t iterations, double scalar) {
  state_.upload(host, state_.size());
  opt_.set_iterations(iterations);
  opt_.scalar_state() = scalar;
  be_->synchronize();
}
void DeviceTrainer::get_optimizer_state(float* host, int64_t* iterations, double* scalar) {
  state_.download(host, state_.size());
  be_->synchronize();
  *iterations = opt_.iterations();
  *scalar = opt_.scalar_state();
}

DeviceTrainer::~DeviceTrainer() {
  if (be_) be_->synchronize();
  if (copy_stream_) {
    cudaStreamSynchronize(copy_stream_);
    cudaStreamDestroy(copy_stream_);
  }
  for (int k = 0; k < 2; ++k) {
    if (pinned_[k]) cudaFreeHost(pinned_[k]);
    if (copied_[k]) cudaEventDestroy(copied_[k]);
    if (consumed_[k]) cudaEventDestroy(consumed_[k]);
  }
}

void DeviceTrainer::set_data(const float* X, const float* Y, const float* W, size_t n,
                             size_t budget) {
  const size_t yc = loss_.label_cols(output_dim());
  const size_t row_bytes = sizeof(float) * (input_dim_ + yc + (W ? 1 : 0));
  X_ = DeviceArray<float>();
  Y_ = DeviceArray<float>();
  W_ = DeviceArray<float>();
  index_ = DeviceArray<int64_t>();
  hindex_.clear();
  if (budget == SIZE_MAX) {
    size_t free_b = 0, total_b = 0;
    check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    try {
      budget = device::data_budget(free_b, std::getenv(device::kDataBudgetEnv));
    } catch (const std::invalid_argument& e) {
      throw ValueError(e.what());
    }
  }
  n_ = n;
  has_w_ = W != nullptr;
  stream_ = n * row_bytes > budget;
  if (stream_) {
    hX_ = X;
    hY_ = Y;
    hW_ = W;
    stream_rows_ = device::chunk_rows_for(budget, row_bytes, 1);
    be_->synchronize();
    return;
  }
  hX_ = hY_ = hW_ = nullptr;
  X_ = DeviceArray<float>(*be_, n * input_dim_);
  Y_ = DeviceArray<float>(*be_, n * yc);
  W_ = DeviceArray<float>(*be_, W ? n : 0);
  X_.upload(X, n * input_dim_);
  Y_.upload(Y, n * yc);
  if (W) W_.upload(W, n);
  be_->synchronize();
}

void DeviceTrainer::set_index(const int64_t* index, size_t n) {
  FASTNN_CHECK(n == n_, "index: expected one entry per row of the data set");
  for (size_t i = 0; i < n; ++i)
    FASTNN_CHECK(index[i] >= 0 && size_t(index[i]) < n, "index: entry out of range");
  if (stream_) {
    hindex_.assign(index, index + n);
    return;
  }
  if (index_.size() != n) index_ = DeviceArray<int64_t>(*be_, n);
  index_.upload(index, n);
}

void DeviceTrainer::ensure_staging(size_t rows) {
  if (staging_cap_ >= rows) return;
  const size_t yc = loss_.label_cols(output_dim());
  const size_t width = input_dim_ + yc + (has_w_ ? 1 : 0);
  be_->synchronize();
  if (copy_stream_) check(cudaStreamSynchronize(copy_stream_), "cudaStreamSynchronize");
  if (!copy_stream_) {
    check(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking), "cudaStreamCreate (uploads)");
    for (int k = 0; k < 2; ++k) {
      check(cudaEventCreateWithFlags(&copied_[k], cudaEventDisableTiming), "cudaEventCreate");
      check(cudaEventCreateWithFlags(&consumed_[k], cudaEventDisableTiming), "cudaEventCreate");
    }
  }
  for (int k = 0; k < 2; ++k) {
    if (pinned_[k]) cudaFreeHost(pinned_[k]);
    pinned_[k] = nullptr;
    staged_[k] = DeviceArray<float>();
  }
  for (int k = 0; k < 2; ++k) {
    check(cudaMallocHost(reinterpret_cast<void**>(&pinned_[k]), sizeof(float) * rows * width),
          "cudaMallocHost (upload buffer)");
    staged_[k] = DeviceArray<float>(*be_, rows * width);
  }
  staging_cap_ = rows;
}

void DeviceTrainer::ensure(size_t rows) { ensure(ws_, rows, *this); }

void DeviceTrainer::ensure(Buffers& ws, size_t rows, const DeviceTrainer& t) {
  if (ws.cap >= rows) return;
  CudaBackend& be = *t.be_;
  Buffers b;
  b.cap = rows;
  for (const DeviceLayer& l : t.layers_) {
    const bool keep_z = l.kind == DeviceLayer::Dense && !l.act.is_identity() && !l.act.is_plain_relu();
    b.z.emplace_back(be, keep_z ? rows * l.out : 0);
    b.a.emplace_back(be, rows * l.out);
    b.mask.emplace_back(be, l.kind == DeviceLayer::Dropout ? rows * l.out : 0);
  }
  b.x = DeviceArray<float>(be, rows * t.input_dim_);
  b.y = DeviceArray<float>(be, rows * std::max<size_t>(1, t.output_dim()));
  b.w = DeviceArray<float>(be, rows);
  b.g0 = DeviceArray<float>(be, rows * t.maxw_);
  b.g1 = DeviceArray<float>(be, rows * t.maxw_);
  b.row_loss = DeviceArray<double>(be, rows);
  ws = std::move(b);
}

// The output of layer i is ws_.a[i], except an inference-mode Dropout, which passes its input on.
const float* DeviceTrainer::forward(Buffers& ws_, std::vector<const float*>& outs_, const float* x,
                                    size_t rows, bool training, uint64_t step) {
  cudaStream_t s = be_->stream();
  const float* in = x;
  outs_.assign(layers_.size(), nullptr);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const DeviceLayer& l = layers_[i];
    float* a = ws_.a[i].data();
    switch (l.kind) {
      case DeviceLayer::Dense: {
        const float* W = params_.data() + l.kernel_off;
        const float* bias = l.use_bias ? params_.data() + l.bias_off : nullptr;
        if (l.act.is_identity() || l.act.is_plain_relu()) {
          const bool relu = l.act.is_plain_relu();
          const GemmEpilogue ep = relu ? (bias ? GemmEpilogue::ReluBias : GemmEpilogue::Relu)
                                       : (bias ? GemmEpilogue::Bias : GemmEpilogue::None);
          be_->gemm(false, false, rows, l.out, l.in, in, l.in, W, l.out, 0.0f, a, l.out, ep, bias);
        } else {
          float* z = ws_.z[i].data();
          be_->gemm(false, false, rows, l.out, l.in, in, l.in, W, l.out, 0.0f, z, l.out,
                    bias ? GemmEpilogue::Bias : GemmEpilogue::None, bias);
          activation_forward(l.act, z, a, rows, l.out, s);
        }
        in = a;
        break;
      }
      case DeviceLayer::Act:
        activation_forward(l.act, in, a, rows, l.out, s);
        in = a;
        break;
      case DeviceLayer::Dropout:
        if (training && l.rate > 0) {
          dropout_forward(in, a, ws_.mask[i].data(), rows * l.out, float(l.rate), seed_ + i,
                          step, s);
          in = a;
        }
        break;
    }
    outs_[i] = in;
  }
  return in;
}

const float* DeviceTrainer::loss_input(const Buffers& ws_, const std::vector<const float*>& outs_,
                                       const float* x) const {
  const size_t last = layers_.size() - 1;
  if (layers_[last].kind == DeviceLayer::Dense) return ws_.z[last].data();
  // An Activation layer's logits are its input.
  return last == 0 ? x : outs_[last - 1];
}

void DeviceTrainer::backward(Buffers& ws_, const std::vector<const float*>& outs_, const float* x,
                             size_t rows, bool preact, bool training, bool accumulate,
                             bool param_grads, float* dx) {
  cudaStream_t s = be_->stream();
  const float beta = accumulate ? 1.0f : 0.0f;
  // Inputs of each layer, as forward saw them.
  auto input_of = [&](size_t i) { return i == 0 ? x : outs_[i - 1]; };
  float* g = ws_.g0.data();
  float* other = ws_.g1.data();
  size_t v = vars_.size();
  for (size_t i = layers_.size(); i-- > 0;) {
    const DeviceLayer& l = layers_[i];
    const bool last = i + 1 == layers_.size();
    switch (l.kind) {
      case DeviceLayer::Dense: {
        const size_t kv = v - (l.use_bias ? 2 : 1);
        v = kv;
        if (!(preact && last) && !l.act.is_identity()) {
          const float* z = ws_.z[i].size() ? ws_.z[i].data() : nullptr;
          activation_backward(l.act, z, ws_.a[i].data(), g, g, rows, l.out, s);
        }
        if (param_grads && vars_[kv].trainable)
          be_->gemm(true, false, l.in, l.out, rows, input_of(i), l.in, g, l.out, beta,
                    grads_.data() + l.kernel_off, l.out, GemmEpilogue::None, nullptr);
        if (param_grads && l.use_bias && vars_[kv + 1].trainable)
          column_sums(g, rows, l.out, grads_.data() + l.bias_off, s, accumulate);
        if (i > 0 || dx) {
          be_->gemm(false, true, rows, l.in, l.out, g, l.out, params_.data() + l.kernel_off,
                    l.out, 0.0f, other, l.in, GemmEpilogue::None, nullptr);
          std::swap(g, other);
        }
        break;
      }
      case DeviceLayer::Act:
        if (!(preact && last))
          activation_backward(l.act, input_of(i), ws_.a[i].data(), g, g, rows, l.out, s);
        break;
      case DeviceLayer::Dropout:
        if (training && l.rate > 0) multiply(g, ws_.mask[i].data(), g, rows * l.out, s);
        break;
    }
  }
  if (dx) be_->copy(dx, g, sizeof(float) * rows * input_dim_);
}

void DeviceTrainer::update(size_t step_in_chunk) {
  cudaStream_t s = be_->stream();
  const OptimizerConfig& c = opt_.config();
  for (const DeviceVariable& d : vars_)
    if (d.trainable && (d.l1 != 0 || d.l2 != 0))
      regularizer_grad(params_.data() + d.offset, grads_.data() + d.offset, d.size, float(d.l1),
                       float(2 * d.l2), s);
  if (c.clipnorm > 0) {
    for (const DeviceVariable& d : vars_)
      if (d.trainable) clip_norm(grads_.data() + d.offset, d.size, c.clipnorm, s);
  } else if (c.global_clipnorm > 0 && n_trainable_segs_) {
    clip_global_norm(grads_.data(), trainable_segs_.data(), n_trainable_segs_, c.global_clipnorm, s);
  }
  // Adjacent trainable variables form one pass.
  size_t lo = 0, len = 0;
  const StepScalars<float>* k = scalars_.data() + step_in_chunk;
  for (const DeviceVariable& d : vars_) {
    if (!d.trainable) continue;
    if (len && lo + len == d.offset) {
      len += d.size;
    } else {
      if (len) optimizer_update(c, params_.data(), grads_.data(), state_.data(), arena_, slots_, lo, len, k, s);
      lo = d.offset;
      len = d.size;
    }
  }
  if (len) optimizer_update(c, params_.data(), grads_.data(), state_.data(), arena_, slots_, lo, len, k, s);
}

void DeviceTrainer::step(size_t bi, uint64_t step_id, const float* x, const float* y,
                         const float* w, size_t rows, float* pred, bool any_reg) {
  cudaStream_t s = be_->stream();
  const size_t dout = output_dim();
  const float* out = forward(x, rows, true, step_id);
  const float* lin = fused_ ? loss_input(x) : out;
  fastnn::cuda::loss(eff_, lin, y, w, rows, dout, double(rows), ws_.g0.data(), ws_.row_loss.data(),
                     batch_loss_.data() + bi, flags_.data(), flags_.data() + 1, s);
  if (any_reg)
    for (const DeviceVariable& d : vars_)
      if (d.l1 != 0 || d.l2 != 0)
        regularizer_penalty(params_.data() + d.offset, d.size, d.l1, d.l2, batch_penalty_.data() + bi, s);
  if (pred) be_->copy(pred, out, sizeof(float) * rows * dout);
  backward(x, rows, fused_);
  update(bi);
}

void DeviceTrainer::plan_fused_step(size_t batch) {
  if (fused_batch_ == batch) return;
  fused_batch_ = batch;
  const char* env = std::getenv("FASTNN_CUDA_FUSED");
  if (env && std::string(env) == "0") {
    fused_why_ = "turned off (FASTNN_CUDA_FUSED=0)";
    return;
  }
  std::vector<device::FusedDense> ds;
  for (const DeviceLayer& l : layers_) {
    if (l.kind != DeviceLayer::Dense) {
      fused_why_ = "a layer other than Dense";
      return;
    }
    ds.push_back({l.in, l.out, l.use_bias, l.act});
  }
  for (const DeviceVariable& d : vars_)
    if (!d.trainable || d.l1 != 0 || d.l2 != 0) {
      fused_why_ = "a frozen or regularized variable";
      return;
    }
  fused_why_ = device::plan_fused(ds, loss_, opt_.config(), batch, fused_shared_limit(be_->device()),
                                  &fplan_);
}

DeviceChunk DeviceTrainer::train(size_t batch_size, size_t first, size_t count, bool in_order,
                                 float* pred_out, double loss_sum_start) {
  FASTNN_CHECK(batch_size > 0, "batch_size must be positive");
  FASTNN_CHECK(n_ > 0, "no training data on the device (set_data first)");
  FASTNN_CHECK(in_order || (stream_ ? hindex_.size() : index_.size()) == n_,
               "no row order on the device (set_index first)");
  DeviceChunk res;
  res.loss_sum = loss_sum_start;
  const size_t nb_total = (n_ + batch_size - 1) / batch_size;
  const size_t nb = first >= nb_total ? 0 : std::min(count, nb_total - first);
  if (nb == 0) return res;
  cudaStream_t s = be_->stream();
  const size_t din = input_dim_, dout = output_dim(), yc = loss_.label_cols(dout);
  ensure(std::min(batch_size, n_));
  // Every step's scalars depend only on the step count: computed now, uploaded once.
  std::vector<StepScalars<float>> ks(nb);
  const int64_t it0 = opt_.iterations();
  for (size_t b = 0; b < nb; ++b) ks[b] = opt_.advance_step();
  if (scalars_.size() < nb) scalars_ = DeviceArray<StepScalars<float>>(*be_, nb);
  scalars_.upload(ks.data(), nb);
  if (batch_loss_.size() < nb) {
    batch_loss_ = DeviceArray<double>(*be_, nb);
    batch_penalty_ = DeviceArray<double>(*be_, nb);
  }
  batch_penalty_.zero();
  const size_t row0 = first * batch_size;
  const size_t chunk_rows = std::min(n_ - row0, nb * batch_size);
  if (pred_out && pred_.size() < chunk_rows * dout) pred_ = DeviceArray<float>(*be_, chunk_rows * dout);
  bool any_reg = false;
  for (const DeviceVariable& d : vars_) any_reg = any_reg || d.l1 != 0 || d.l2 != 0;
  auto pred_at = [&](size_t start) { return pred_out ? pred_.data() + (start - row0) * dout : nullptr; };

  plan_fused_step(std::min(batch_size, n_));
  const bool fused = fused_why_.empty();
  auto fused_args = [&](const float* X, const float* Y, const float* W, const int64_t* index,
                        size_t pos0, size_t pos_end, size_t b0, size_t count_b, float* pred) {
    device::FusedArgs g;
    g.X = X;
    g.Y = Y;
    g.W = W;
    g.index = index;
    g.pos0 = pos0;
    g.pos_end = pos_end;
    g.nb = count_b;
    g.params = params_.data();
    g.grads = grads_.data();
    g.state = state_.data();
    g.ks = scalars_.data() + b0;
    g.batch_loss = batch_loss_.data() + b0;
    g.pred = pred;
    g.bad_label = flags_.data() + 1;
    return g;
  };

  if (!stream_ && fused) {
    fused_train(fplan_, fused_args(X_.data(), Y_.data(), has_w_ ? W_.data() : nullptr,
                                   in_order ? nullptr : index_.data(), row0, n_, 0, nb, pred_at(row0)),
                s);
  } else if (!stream_) {
    for (size_t bi = 0; bi < nb; ++bi) {
      const size_t start = (first + bi) * batch_size;
      const size_t rows = std::min(batch_size, n_ - start);
      const float *x, *y, *w = nullptr;
      if (!in_order) {
        gather(X_.data(), Y_.data(), has_w_ ? W_.data() : nullptr, din, yc, index_.data() + start,
               rows, ws_.x.data(), ws_.y.data(), ws_.w.data(), s);
        x = ws_.x.data();
        y = ws_.y.data();
        if (has_w_) w = ws_.w.data();
      } else {
        x = X_.data() + start * din;
        y = Y_.data() + start * yc;
        if (has_w_) w = W_.data() + start;
      }
      step(bi, uint64_t(it0) + bi, x, y, w, rows, pred_at(start), any_reg);
    }
  } else {
    // Whole batches per upload, gathered on the host in the epoch's order: while the device trains
    // on one buffer the host fills and copies the other. A buffer is refilled only after the
    // device's batches that read it (consumed_) and its previous copy (copied_) are done.
    const size_t per = std::max<size_t>(1, stream_rows_ / batch_size);
    ensure_staging(per * batch_size);
    const size_t cap = staging_cap_;
    const int64_t* order = in_order ? nullptr : hindex_.data();
    const std::vector<device::StreamChunk> plan =
        device::plan_chunks(n_, batch_size, first, nb, per * batch_size);
    for (size_t ci = 0; ci < plan.size(); ++ci) {
      const device::StreamChunk& c = plan[ci];
      const int k = int(ci % 2);
      check(cudaEventSynchronize(copied_[k]), "cudaEventSynchronize (upload)");
      float* hp = pinned_[k];
      device::gather_rows(hX_, din, order, c.first_row, c.rows, hp);
      device::gather_rows(hY_, yc, order, c.first_row, c.rows, hp + cap * din);
      if (has_w_) device::gather_rows(hW_, size_t(1), order, c.first_row, c.rows, hp + cap * (din + yc));
      float* dp = staged_[k].data();
      check(cudaStreamWaitEvent(copy_stream_, consumed_[k], 0), "cudaStreamWaitEvent");
      check(cudaMemcpyAsync(dp, hp, sizeof(float) * c.rows * din, cudaMemcpyHostToDevice, copy_stream_), "upload");
      check(cudaMemcpyAsync(dp + cap * din, hp + cap * din, sizeof(float) * c.rows * yc,
                            cudaMemcpyHostToDevice, copy_stream_), "upload");
      if (has_w_)
        check(cudaMemcpyAsync(dp + cap * (din + yc), hp + cap * (din + yc), sizeof(float) * c.rows,
                              cudaMemcpyHostToDevice, copy_stream_), "upload");
      check(cudaEventRecord(copied_[k], copy_stream_), "cudaEventRecord");
      check(cudaStreamWaitEvent(s, copied_[k], 0), "cudaStreamWaitEvent");
      if (fused) {
        fused_train(fplan_, fused_args(dp, dp + cap * din, has_w_ ? dp + cap * (din + yc) : nullptr, nullptr,
                                       0, c.rows, c.first_batch - first, c.batches, pred_at(c.first_row)),
                    s);
      }
      for (size_t j = 0; !fused && j < c.batches; ++j) {
        const size_t bi = c.first_batch + j - first;
        const size_t start = (c.first_batch + j) * batch_size, off = start - c.first_row;
        const size_t rows = std::min(batch_size, n_ - start);
        step(bi, uint64_t(it0) + bi, dp + off * din, dp + cap * din + off * yc,
             has_w_ ? dp + cap * (din + yc) + off : nullptr, rows, pred_at(start), any_reg);
      }
      check(cudaEventRecord(consumed_[k], s), "cudaEventRecord");
    }
  }
  std::vector<double> losses(nb), pens(nb);
  int flags[2] = {0, 0};
  batch_loss_.download(losses.data(), nb);
  batch_penalty_.download(pens.data(), nb);
  flags_.download(flags, 2);
  if (pred_out) pred_.download(pred_out, chunk_rows * dout);
  be_->synchronize();
  if (flags[1]) {
    flags_.zero();
    throw ValueError("sparse_categorical_crossentropy: labels must be integers in [0, " +
                     std::to_string(dout) + ")");
  }
  for (size_t bi = 0; bi < nb; ++bi) {
    const size_t rows = std::min(batch_size, n_ - (first + bi) * batch_size);
    const double bl = losses[bi] / double(rows) + pens[bi];
    if (!std::isfinite(bl)) res.nonfinite = true;
    res.loss_sum += bl * double(rows);
    res.samples += rows;
    res.batches += 1;
    res.last_batch_loss = bl;
  }
  return res;
}

void DeviceTrainer::predict(const float* X, size_t n, float* out) {
  const size_t block = 8192, din = input_dim_, dout = output_dim();
  if (n == 0) return;
  ensure(std::min(block, n));
  for (size_t start = 0; start < n; start += block) {
    const size_t rows = std::min(block, n - start);
    ws_.x.upload(X + start * din, rows * din);
    const float* o = forward(ws_.x.data(), rows, false, 0);
    be_->copy_to_host(out + start * dout, o, sizeof(float) * rows * dout);
    be_->synchronize();
  }
}

double DeviceTrainer::evaluate(const float* X, const float* Y, const float* W, size_t n,
                               float* pred_out, float* per_sample) {
  const size_t block = 8192, din = input_dim_, dout = output_dim(), yc = loss_.label_cols(dout);
  if (n == 0) return 0.0;
  ensure(std::min(block, n));
  cudaStream_t s = be_->stream();
  DeviceArray<double> sums(*be_, (n + block - 1) / block);
  DeviceArray<float> per(*be_, std::min(block, n));
  double total = 0;
  for (size_t start = 0, b = 0; start < n; start += block, ++b) {
    const size_t rows = std::min(block, n - start);
    ws_.x.upload(X + start * din, rows * din);
    ws_.y.upload(Y + start * yc, rows * yc);
    if (W) ws_.w.upload(W + start, rows);
    const float* o = forward(ws_.x.data(), rows, false, 0);
    const float* lin = fused_ ? loss_input(ws_.x.data()) : o;
    fastnn::cuda::loss(eff_, lin, ws_.y.data(), W ? ws_.w.data() : nullptr, rows, dout, 1.0, nullptr,
                       ws_.row_loss.data(), sums.data() + b, flags_.data(), flags_.data() + 1, s);
    if (per_sample) {
      to_float(ws_.row_loss.data(), per.data(), rows, s);
      per.download(per_sample + start, rows);
    }
    if (pred_out) be_->copy_to_host(pred_out + start * dout, o, sizeof(float) * rows * dout);
    be_->synchronize();
  }
  std::vector<double> hs(sums.size());
  int flags[2] = {0, 0};
  sums.download(hs.data(), hs.size());
  flags_.download(flags, 2);
  be_->synchronize();
  if (flags[1]) {
    flags_.zero();
    throw ValueError("sparse_categorical_crossentropy: labels must be integers in [0, " +
                     std::to_string(dout) + ")");
  }
  for (double v : hs) total += v;  // fixed order, as the CPU engine's block sums
  return total;
}

void DeviceTrainer::manual_forward(const float* X, size_t n, bool training, float* out) {
  FASTNN_CHECK(n > 0, "model(x): expected at least one row");
  ensure(mws_, n, *this);
  mws_.x.upload(X, n * input_dim_);
  mrows_ = 0;
  mloss_ = false;
  const float* o = forward(mws_, mouts_, mws_.x.data(), n, training, ++mstep_ + (uint64_t(1) << 40));
  be_->copy_to_host(out, o, sizeof(float) * n * output_dim());
  be_->synchronize();
  mrows_ = n;
  mtraining_ = training;
}

double DeviceTrainer::manual_loss(const Loss& L, const float* Y, const float* W) {
  FASTNN_CHECK(mrows_ > 0, "no cached forward pass: call forward first");
  const size_t n = mrows_, dout = output_dim(), yc = L.label_cols(dout);
  cudaStream_t s = be_->stream();
  if (mws_.y.size() < n * yc) mws_.y = DeviceArray<float>(*be_, n * yc);
  mws_.y.upload(Y, n * yc);
  if (W) mws_.w.upload(W, n);
  const bool fuse = fusable(L);
  Loss eff = L;
  if (fuse) eff.from_logits = true;
  const float* x = mws_.x.data();
  const float* lin = fuse ? loss_input(mws_, mouts_, x) : mouts_.back();
  if (msum_.size() == 0) msum_ = DeviceArray<double>(*be_, 1);
  fastnn::cuda::loss(eff, lin, mws_.y.data(), W ? mws_.w.data() : nullptr, n, dout, double(n),
                     mws_.g0.data(), mws_.row_loss.data(), msum_.data(), flags_.data(),
                     flags_.data() + 1, s);
  double sum = 0;
  int flags[2] = {0, 0};
  msum_.download(&sum, 1);
  flags_.download(flags, 2);
  be_->synchronize();
  if (flags[1]) {
    flags_.zero();
    throw ValueError("sparse_categorical_crossentropy: labels must be integers in [0, " +
                     std::to_string(dout) + ")");
  }
  mfused_ = fuse;
  mloss_ = true;
  return sum / double(n);
}

void DeviceTrainer::manual_backward(const float* dout, bool accumulate) {
  FASTNN_CHECK(mrows_ > 0, "no cached forward pass: call forward first");
  bool preact = mfused_;
  if (dout) {
    mws_.g0.upload(dout, mrows_ * output_dim());
    preact = false;
  } else {
    FASTNN_CHECK(mloss_, "backward: no loss gradient for the cached pass");
  }
  backward(mws_, mouts_, mws_.x.data(), mrows_, preact, mtraining_, accumulate, true, nullptr);
  be_->synchronize();
}

void DeviceTrainer::apply_gradients() {
  const StepScalars<float> k = opt_.advance_step();
  if (scalars_.size() < 1) scalars_ = DeviceArray<StepScalars<float>>(*be_, 1);
  scalars_.upload(&k, 1);
  update(0);
  be_->synchronize();
}

void DeviceTrainer::zero_grad() {
  grads_.zero();
  be_->synchronize();
}

void DeviceTrainer::get_grads(float* host) {
  grads_.download(host, arena_);
  be_->synchronize();
}

void DeviceTrainer::set_grads(const float* host) {
  grads_.upload(host, arena_);
  be_->synchronize();
}

void DeviceTrainer::input_gradient(const float* X, const float* ow, size_t n, float* out) {
  const size_t block = 8192, din = input_dim_, dout = output_dim();
  if (n == 0) return;
  Buffers b;
  ensure(b, std::min(block, n), *this);
  std::vector<const float*> outs;
  DeviceArray<float> dx(*be_, std::min(block, n) * din);
  for (size_t start = 0; start < n; start += block) {
    const size_t rows = std::min(block, n - start);
    b.x.upload(X + start * din, rows * din);
    forward(b, outs, b.x.data(), rows, false, 0);
    b.g0.upload(ow + start * dout, rows * dout);
    backward(b, outs, b.x.data(), rows, false, false, false, false, dx.data());
    dx.download(out + start * din, rows * din);
    be_->synchronize();
  }
}

}  // namespace cuda
}  // namespace fastnn
