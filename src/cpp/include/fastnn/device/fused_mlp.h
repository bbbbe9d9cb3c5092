// The fused small-network training step: a whole step of a Dense chain (forward with bias and
// activation, the loss and its gradient, backward, the weight gradients summed over the batch in
// row order, the optimizer's update) run by one block of threads, the parameters and every
// activation of the batch in shared memory. The CUDA backend launches it once per chunk of steps
// (kernel in src/cuda/fused_mlp.cu); the same code runs on the CPU in an emulation (a loop over
// the phases and, inside each, over the thread indices), which the tests compare with the engine.
//
// A step is a fixed sequence of phases separated by barriers; in each phase thread t of T does
// the work items t, t + T, ... of that phase, and every item is computed by one thread in a fixed
// order, so the results do not depend on T or on timing. Phases only read what earlier phases
// wrote. Exec supplies the barrier: phase(f) runs f(t, T) for every thread, then synchronises.
//
// Applies to float32 Dense chains whose widths (input included) are all <= kMaxWidth, every
// variable trainable, no regularizer, no clipping by norm, losses other than the hinge kinds,
// and whose shared-memory layout fits the device's limit (plan_fused says why not otherwise).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fastnn/activations.h"
#include "fastnn/losses.h"
#include "fastnn/math/activation_fn.h"
#include "fastnn/math/hd.h"
#include "fastnn/math/loss_fn.h"
#include "fastnn/math/optimizer_fn.h"
#include "fastnn/optimizers.h"

namespace fastnn {
namespace device {

constexpr int kFusedMaxLayers = 8;
constexpr size_t kFusedMaxWidth = 128;
constexpr int kFusedThreads = 256;  // the kernel's block size (results do not depend on it)

struct FusedAct {
  int kind = 0;  // ActKind
  float alpha = 0, max_value = 0, threshold = 0;
  bool plain_relu = false, capped = false, identity = true, rowwise = false, log = false;
};

struct FusedLayer {
  int in = 0, out = 0;
  bool bias = true, keep_z = false;
  FusedAct act;
  uint32_t w_off = 0, b_off = 0;  // in the parameter arena
  uint32_t z_off = 0, a_off = 0;  // in the float part of shared memory (batch x out each)
};

// Everything a launch needs to know about the network, by value (a kernel argument).
struct FusedPlan {
  int nlayers = 0;
  FusedLayer l[kFusedMaxLayers];
  int din = 0, dout = 0, yc = 0, batch = 0;
  Loss loss;       // the effective loss (from the logits when preact)
  bool preact = false;  // sigmoid + binary / softmax + categorical cross-entropy, fused
  bool sparse = false;
  int opt_kind = 0;  // OptKind
  bool momentum = false, nesterov = false, amsgrad = false, centered = false, clip = false,
       decay = false;
  int slots = 0;
  uint32_t arena = 0;
  // Shared memory: `batch` doubles (the rows' losses), then floats: parameters, the batch's x, y
  // and w, each layer's z / a, two gradient buffers of batch x the widest layer.
  uint32_t sm_params = 0, sm_x = 0, sm_y = 0, sm_w = 0, sm_d0 = 0, sm_d1 = 0, sm_floats = 0;
  size_t shared_bytes = 0;
};

// One launch: batches [0, nb) of positions [pos0, pos_end) of the epoch's order, `batch` rows each
// (the last may be short); a row's source is index[pos] (index null: pos itself).
struct FusedArgs {
  const float *X = nullptr, *Y = nullptr, *W = nullptr;
  const int64_t* index = nullptr;
  size_t pos0 = 0, pos_end = 0, nb = 0;
  float* params = nullptr;  // the arena (read at the start, written at the end)
  float* grads = nullptr;   // the gradient arena (each step's gradients, overwritten)
  float* state = nullptr;   // the optimizer's slots, each `arena` long
  const StepScalars<float>* ks = nullptr;  // one per step
  double* batch_loss = nullptr;            // per step: sum of w_i loss_i
  float* pred = nullptr;                   // null, or the outputs, (pos_end - pos0) x dout
  int* bad_label = nullptr;
};

// The layer description plan_fused takes.
struct FusedDense {
  size_t in = 0, out = 0;
  bool bias = true;
  Activation act;
};

// Fills `p` and returns "" when the fused step applies, else the reason it does not. The caller
// has checked the conditions it alone knows (only Dense layers, all trainable, no regularizer).
inline std::string plan_fused(const std::vector<FusedDense>& layers, const Loss& loss,
                              const OptimizerConfig& c, size_t batch, size_t max_shared,
                              FusedPlan* p) {
  FusedPlan q;
  if (layers.empty()) return "no layer";
  if (layers.size() > size_t(kFusedMaxLayers)) return "more than 8 Dense layers";
  if (loss.kind == LossKind::Hinge || loss.kind == LossKind::SquaredHinge) return "hinge losses";
  if (c.clipnorm > 0 || c.global_clipnorm > 0) return "clipping by norm";
  if (c.sklearn_moments) return "scikit-learn's moment form";
  if (batch == 0) return "empty batch";
  size_t maxw = layers[0].in, P = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const FusedDense& d = layers[i];
    if (d.in > kFusedMaxWidth || d.out > kFusedMaxWidth) return "a width above 128";
    if (d.act.rowwise() && i + 1 != layers.size()) return "softmax before the last layer";
    maxw = maxw < d.out ? d.out : maxw;
    FusedLayer& l = q.l[i];
    l.in = int(d.in);
    l.out = int(d.out);
    l.bias = d.bias;
    l.w_off = uint32_t(P);
    P += d.in * d.out;
    if (d.bias) {
      l.b_off = uint32_t(P);
      P += d.out;
    }
    FusedAct& a = l.act;
    a.kind = int(d.act.kind);
    a.alpha = float(d.act.alpha);
    a.max_value = float(d.act.max_value);
    a.threshold = float(d.act.threshold);
    a.plain_relu = d.act.is_plain_relu();
    a.capped = std::isfinite(d.act.max_value);
    a.identity = d.act.is_identity();
    a.rowwise = d.act.rowwise();
    a.log = d.act.kind == ActKind::LogSoftmax;
  }
  q.nlayers = int(layers.size());
  q.din = int(layers[0].in);
  q.dout = int(layers.back().out);
  q.yc = int(loss.label_cols(layers.back().out));
  q.batch = int(batch);
  const Activation& last = layers.back().act;
  q.preact = !loss.from_logits &&
             ((last.kind == ActKind::Sigmoid && loss.kind == LossKind::BinaryCrossentropy) ||
              (last.kind == ActKind::Softmax && (loss.kind == LossKind::CategoricalCrossentropy ||
                                                 loss.kind == LossKind::SparseCategoricalCrossentropy)));
  q.loss = loss;
  if (q.preact) q.loss.from_logits = true;
  q.sparse = loss.kind == LossKind::SparseCategoricalCrossentropy;
  q.opt_kind = int(c.kind);
  q.momentum = c.momentum > 0;
  q.nesterov = c.nesterov;
  q.amsgrad = c.amsgrad;
  q.centered = c.centered;
  q.clip = c.clipvalue > 0;
  q.decay = c.weight_decay > 0;
  q.slots = optimizer_slots(c);
  q.arena = uint32_t(P);
  // The float layout.
  size_t off = 0;
  q.sm_params = uint32_t(off);
  off += P;
  q.sm_x = uint32_t(off);
  off += batch * layers[0].in;
  for (int i = 0; i < q.nlayers; ++i) {
    FusedLayer& l = q.l[i];
    l.keep_z = !l.act.identity;
    l.z_off = uint32_t(off);
    if (l.keep_z) off += batch * size_t(l.out);
    l.a_off = l.keep_z ? uint32_t(off) : l.z_off;
    off += batch * size_t(l.out);
  }
  q.sm_y = uint32_t(off);
  off += batch * size_t(q.yc);
  q.sm_w = uint32_t(off);
  off += batch;
  q.sm_d0 = uint32_t(off);
  off += batch * maxw;
  q.sm_d1 = uint32_t(off);
  off += batch * maxw;
  q.sm_floats = uint32_t(off);
  q.shared_bytes = batch * sizeof(double) + off * sizeof(float);
  if (q.shared_bytes > max_shared)
    return "needs " + std::to_string(q.shared_bytes) + " bytes of shared memory, the device has " +
           std::to_string(max_shared);
  *p = q;
  return "";
}

namespace fused {

// f(z) (grad false) or f'(z) given a = f(z) (grad true) for an element-wise kind.
template <typename F>
FASTNN_HD float eval(F f, float z, float a, bool grad) {
  return grad ? f.grad(z, a) : f.fwd(z);
}

FASTNN_HD float act(const FusedAct& f, float z, float a, bool grad) {
  using namespace math;
  switch (ActKind(f.kind)) {
    case ActKind::Relu:
      if (f.plain_relu) return eval(PlainRelu<float>{}, z, a, grad);
      return eval(GeneralRelu<float>{f.alpha, f.max_value, f.threshold, f.capped}, z, a, grad);
    case ActKind::LeakyRelu: return eval(LeakyRelu<float>{f.alpha}, z, a, grad);
    case ActKind::Relu6: return eval(Relu6<float>{}, z, a, grad);
    case ActKind::Elu: return eval(Elu<float>{f.alpha}, z, a, grad);
    case ActKind::Selu: return eval(Selu<float>{}, z, a, grad);
    case ActKind::Gelu: return eval(Gelu<float>{}, z, a, grad);
    case ActKind::GeluTanh: return eval(GeluTanh<float>{}, z, a, grad);
    case ActKind::Silu: return eval(Silu<float>{}, z, a, grad);
    case ActKind::Mish: return eval(Mish<float>{}, z, a, grad);
    case ActKind::Softplus: return eval(Softplus<float>{}, z, a, grad);
    case ActKind::Softsign: return eval(Softsign<float>{}, z, a, grad);
    case ActKind::Sigmoid: return eval(Sigmoid<float>{}, z, a, grad);
    case ActKind::HardSigmoid: return eval(HardSigmoid<float>{}, z, a, grad);
    case ActKind::HardSilu: return eval(HardSilu<float>{}, z, a, grad);
    case ActKind::Tanh: return eval(Tanh<float>{}, z, a, grad);
    case ActKind::Exponential: return eval(Exponential<float>{}, z, a, grad);
    default: return grad ? 1.0f : z;  // Linear
  }
}

// The rows of batch b: [start, start + rows) of the epoch's positions.
FASTNN_HD void batch_range(const FusedArgs& g, const FusedPlan& p, size_t b, size_t* start,
                           size_t* rows) {
  *start = g.pos0 + b * size_t(p.batch);
  const size_t left = g.pos_end - *start;
  *rows = left < size_t(p.batch) ? left : size_t(p.batch);
}

// ---- the phases: thread t of T, shared memory sm (floats) and smd (doubles)
FASTNN_HD void load_params(const FusedPlan& p, const FusedArgs& g, int t, int T, float* sm) {
  for (size_t i = size_t(t); i < p.arena; i += size_t(T)) sm[p.sm_params + i] = g.params[i];
}

FASTNN_HD void store_params(const FusedPlan& p, const FusedArgs& g, int t, int T, const float* sm) {
  for (size_t i = size_t(t); i < p.arena; i += size_t(T)) g.params[i] = sm[p.sm_params + i];
}

// x, y and w of the batch's rows, gathered by the epoch's order.
FASTNN_HD void load_batch(const FusedPlan& p, const FusedArgs& g, size_t start, size_t rows, int t,
                          int T, float* sm) {
  const size_t din = size_t(p.din), yc = size_t(p.yc), width = din + yc + 1;
  for (size_t i = size_t(t); i < rows * width; i += size_t(T)) {
    const size_t r = i / width, j = i % width, pos = start + r;
    const size_t src = g.index ? size_t(g.index[pos]) : pos;
    if (j < din)
      sm[p.sm_x + r * din + j] = g.X[src * din + j];
    else if (j < din + yc)
      sm[p.sm_y + r * yc + (j - din)] = g.Y[src * yc + (j - din)];
    else
      sm[p.sm_w + r] = g.W ? g.W[src] : 1.0f;
  }
}

FASTNN_HD const float* layer_input(const FusedPlan& p, int li, const float* sm) {
  return li == 0 ? sm + p.sm_x : sm + p.l[li - 1].a_off;
}

// z = in W + b and, for element-wise kinds, a = f(z): one output element per item, k in order.
FASTNN_HD void dense_forward(const FusedPlan& p, int li, size_t rows, int t, int T, float* sm) {
  const FusedLayer& l = p.l[li];
  const float* in = layer_input(p, li, sm);
  const float* Wt = sm + p.sm_params + l.w_off;
  const size_t nin = size_t(l.in), nout = size_t(l.out);
  for (size_t e = size_t(t); e < rows * nout; e += size_t(T)) {
    const size_t r = e / nout, j = e % nout;
    float acc = 0.0f;
    for (size_t k = 0; k < nin; ++k) acc += in[r * nin + k] * Wt[k * nout + j];
    if (l.bias) acc += sm[p.sm_params + l.b_off + j];
    if (l.keep_z) sm[l.z_off + e] = acc;
    sm[l.a_off + e] = l.act.rowwise ? acc : act(l.act, acc, 0.0f, false);
  }
}

// Softmax / log-softmax of the last layer, one row per item.
FASTNN_HD void rowwise_forward(const FusedPlan& p, int li, size_t rows, int t, int T, float* sm) {
  const FusedLayer& l = p.l[li];
  for (size_t r = size_t(t); r < rows; r += size_t(T))
    math::softmax_row(sm + l.z_off + r * l.out, sm + l.a_off + r * l.out, size_t(l.out), l.act.log);
}

// Each row's loss (times its weight, in smd) and d(sum_r w_r loss_r / rows) / d(output) into d0;
// the outputs to g.pred. One row per item.
FASTNN_HD void loss_rows(const FusedPlan& p, const FusedArgs& g, size_t start, size_t rows, int t,
                         int T, float* sm, double* smd) {
  const FusedLayer& l = p.l[p.nlayers - 1];
  const size_t c = size_t(p.dout), yc = size_t(p.yc);
  const double inv_n = 1.0 / double(rows);
  for (size_t r = size_t(t); r < rows; r += size_t(T)) {
    const float* pr = sm + (p.preact ? l.z_off : l.a_off) + r * c;
    const float* y = sm + p.sm_y + r * yc;
    float* d = sm + p.sm_d0 + r * c;
    const double wi = double(sm[p.sm_w + r]);
    const float s = float(wi * inv_n);
    double v;
    if (p.sparse) {
      const double lf = double(y[0]);
      if (!(lf >= 0 && lf < double(c)) || lf != std::floor(lf)) {
        *g.bad_label = 1;
        for (size_t j = 0; j < c; ++j) d[j] = 0.0f;
        v = 0;
      } else {
        v = math::sparse_ce_row(p.loss, pr, size_t(lf), c, d, s);
      }
    } else {
      v = math::loss_row(p.loss, pr, y, c, d, s, false);
    }
    smd[r] = v * wi;
    if (g.pred) {
      const float* a = sm + l.a_off + r * c;
      for (size_t j = 0; j < c; ++j) g.pred[(start - g.pos0 + r) * c + j] = a[j];
    }
  }
}

// The batch's loss sum, rows in order (one item).
FASTNN_HD void loss_sum(const FusedArgs& g, size_t b, size_t rows, int t, const double* smd) {
  if (t != 0) return;
  double s = 0;
  for (size_t r = 0; r < rows; ++r) s += smd[r];
  g.batch_loss[b] = s;
}

// d = d * f'(z) in place (or the softmax row rule), for layer li's gradient buffer.
FASTNN_HD void act_backward(const FusedPlan& p, int li, size_t rows, float* d, int t, int T,
                            const float* sm) {
  const FusedLayer& l = p.l[li];
  const size_t c = size_t(l.out);
  if (l.act.rowwise) {
    for (size_t r = size_t(t); r < rows; r += size_t(T)) {
      if (l.act.log)
        math::log_softmax_row_backward(sm + l.a_off + r * c, d + r * c, d + r * c, c);
      else
        math::softmax_row_backward(sm + l.a_off + r * c, d + r * c, d + r * c, c);
    }
    return;
  }
  for (size_t e = size_t(t); e < rows * c; e += size_t(T))
    d[e] *= act(l.act, sm[l.z_off + e], sm[l.a_off + e], true);
}

// From dz (d, rows x out): the kernel gradient (rows summed in order), the bias gradient and,
// below the first layer, the input gradient into dprev. One element per item.
FASTNN_HD void dense_backward(const FusedPlan& p, const FusedArgs& g, int li, size_t rows,
                              const float* d, float* dprev, int t, int T, const float* sm) {
  const FusedLayer& l = p.l[li];
  const float* in = layer_input(p, li, sm);
  const float* Wt = sm + p.sm_params + l.w_off;
  const size_t nin = size_t(l.in), nout = size_t(l.out);
  const size_t nk = nin * nout, nb = l.bias ? nout : 0, nx = li > 0 ? rows * nin : 0;
  for (size_t e = size_t(t); e < nk + nb + nx; e += size_t(T)) {
    if (e < nk) {
      const size_t k = e / nout, j = e % nout;
      float acc = 0.0f;
      for (size_t r = 0; r < rows; ++r) acc += in[r * nin + k] * d[r * nout + j];
      g.grads[l.w_off + e] = acc;
    } else if (e < nk + nb) {
      const size_t j = e - nk;
      float acc = 0.0f;
      for (size_t r = 0; r < rows; ++r) acc += d[r * nout + j];
      g.grads[l.b_off + j] = acc;
    } else {
      const size_t i = e - nk - nb, r = i / nin, k = i % nin;
      float acc = 0.0f;
      for (size_t j = 0; j < nout; ++j) acc += d[r * nout + j] * Wt[k * nout + j];
      dprev[i] = acc;
    }
  }
}

// One element's update, as the backend's fused optimizer pass (decay, then the kind's formula;
// the caller clipped gi), the parameter in shared memory and the state in the slots.
FASTNN_HD void update_element(const FusedPlan& p, float& w, float gi, float* st, size_t i,
                              const StepScalars<float>& k) {
  using namespace math;
  const size_t A = p.arena;
  float z0 = 0, z1 = 0, z2 = 0;
  float& s0 = p.slots > 0 ? st[i] : z0;
  float& s1 = p.slots > 1 ? st[A + i] : z1;
  float& s2 = p.slots > 2 ? st[2 * A + i] : z2;
  if (p.decay) weight_decay(w, k.wd);
  switch (OptKind(p.opt_kind)) {
    case OptKind::SGD:
      if (!p.momentum)
        sgd_update(w, gi, k);
      else if (p.nesterov)
        sgd_momentum_update<float, true>(w, gi, s0, k);
      else
        sgd_momentum_update<float, false>(w, gi, s0, k);
      break;
    case OptKind::Adam:
    case OptKind::AdamW:
      if (p.amsgrad)
        amsgrad_update(w, gi, s0, s1, s2, k);
      else
        adam_update(w, gi, s0, s1, k);
      break;
    case OptKind::RMSprop: {
      float unused = 0;
      float& mv = p.momentum ? s1 : unused;
      float& ag = p.centered ? (p.momentum ? s2 : s1) : unused;
      if (p.momentum) {
        if (p.centered)
          rmsprop_update<float, true, true>(w, gi, s0, mv, ag, k);
        else
          rmsprop_update<float, true, false>(w, gi, s0, mv, ag, k);
      } else {
        if (p.centered)
          rmsprop_update<float, false, true>(w, gi, s0, mv, ag, k);
        else
          rmsprop_update<float, false, false>(w, gi, s0, mv, ag, k);
      }
      break;
    }
    case OptKind::Adagrad: adagrad_update(w, gi, s0, k); break;
    case OptKind::Adadelta: adadelta_update(w, gi, s0, s1, k); break;
    case OptKind::Adamax: adamax_update(w, gi, s0, s1, k); break;
    case OptKind::Nadam: nadam_update(w, gi, s0, s1, k); break;
    case OptKind::Lion: lion_update(w, gi, s0, k); break;
  }
}

FASTNN_HD void update(const FusedPlan& p, const FusedArgs& g, size_t b, int t, int T, float* sm) {
  const StepScalars<float> k = g.ks[b];
  for (size_t i = size_t(t); i < p.arena; i += size_t(T)) {
    float gi = g.grads[i];
    if (p.clip) math::clip_value(gi, k.clip);
    g.grads[i] = gi;  // the clipped gradient, as the backend's pass leaves it
    update_element(p, sm[p.sm_params + i], g.grads[i], g.state, i, k);
  }
}

}  // namespace fused

// The steps of one launch, phase after phase. sm: sm_floats floats; smd: batch doubles.
#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <typename Exec>
FASTNN_HD void fused_steps(Exec& ex, const FusedPlan& p, const FusedArgs& g, float* sm,
                           double* smd) {
  ex.phase([&](int t, int T) { fused::load_params(p, g, t, T, sm); });
  for (size_t b = 0; b < g.nb; ++b) {
    size_t start, rows;
    fused::batch_range(g, p, b, &start, &rows);
    ex.phase([&](int t, int T) { fused::load_batch(p, g, start, rows, t, T, sm); });
    for (int li = 0; li < p.nlayers; ++li) {
      ex.phase([&](int t, int T) { fused::dense_forward(p, li, rows, t, T, sm); });
      if (p.l[li].act.rowwise) ex.phase([&](int t, int T) { fused::rowwise_forward(p, li, rows, t, T, sm); });
    }
    ex.phase([&](int t, int T) { fused::loss_rows(p, g, start, rows, t, T, sm, smd); });
    ex.phase([&](int t, int) { fused::loss_sum(g, b, rows, t, smd); });
    float* d = sm + p.sm_d0;
    float* other = sm + p.sm_d1;
    for (int li = p.nlayers - 1; li >= 0; --li) {
      const bool skip = (p.preact && li == p.nlayers - 1) || p.l[li].act.identity;
      if (!skip) ex.phase([&](int t, int T) { fused::act_backward(p, li, rows, d, t, T, sm); });
      ex.phase([&](int t, int T) { fused::dense_backward(p, g, li, rows, d, other, t, T, sm); });
      float* tmp = d;
      d = other;
      other = tmp;
    }
    ex.phase([&](int t, int T) { fused::update(p, g, b, t, T, sm); });
  }
  ex.phase([&](int t, int T) { fused::store_params(p, g, t, T, sm); });
}

// The CPU emulation's barrier: every thread index in turn, then the next phase.
struct HostPhases {
  int threads = kFusedThreads;
  template <typename F>
  void phase(F&& f) {
    for (int t = 0; t < threads; ++t) f(t, threads);
  }
};

// Runs a launch on the CPU with `threads` emulated threads (the tests' entry point).
inline void fused_emulate(const FusedPlan& p, const FusedArgs& g, int threads) {
  std::vector<double> smd(size_t(p.batch) + 1);
  std::vector<float> sm(size_t(p.sm_floats) + 1);
  HostPhases ex;
  ex.threads = threads;
  fused_steps(ex, p, g, sm.data(), smd.data());
}

}  // namespace device
}  // namespace fastnn
