// Optimizer steps over the arenas and learning-rate schedules (Keras 3 formulas; see optimizers.h);
// the per-element updates are in math/optimizer_fn.h.
#include "fastnn/optimizers.h"

#include <algorithm>
#include <cmath>

#include "fastnn/common.h"
#include "fastnn/math/optimizer_fn.h"
#include "fastnn/threadpool.h"

namespace fastnn {

namespace {
constexpr double kPi = 3.14159265358979323846;

// The loops over the element-wise updates of math/optimizer_fn.h. Each is a plain loop over
// restrict-qualified arrays so that the compiler vectorises it (the same formula runs on every
// element, vector body or scalar tail); the step's scalars are copied to a local first so that no
// store through the arrays can be assumed to change them.
template <typename T>
void clip_values(size_t n, T* __restrict g, T v) {
  for (size_t i = 0; i < n; ++i) math::clip_value(g[i], v);
}

template <typename T>
void decay(size_t n, T* __restrict p, T wd) {
  for (size_t i = 0; i < n; ++i) math::weight_decay(p[i], wd);
}

template <typename T>
void sgd(size_t n, T* __restrict p, const T* __restrict g, const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) math::sgd_update(p[i], g[i], k);
}

template <typename T, bool kNesterov>
void sgd_momentum(size_t n, T* __restrict p, const T* __restrict g, T* __restrict s0,
                  const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) math::sgd_momentum_update<T, kNesterov>(p[i], g[i], s0[i], k);
}

// s2: the running maximum of v (kAmsgrad only); kAverage: scikit-learn's moment form.
template <typename T, bool kAmsgrad, bool kAverage>
void adam(size_t n, T* __restrict p, const T* __restrict g, T* __restrict s0, T* __restrict s1,
          T* __restrict s2, const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) {
    if constexpr (kAmsgrad)
      math::amsgrad_update<T, kAverage>(p[i], g[i], s0[i], s1[i], s2[i], k);
    else
      math::adam_update<T, kAverage>(p[i], g[i], s0[i], s1[i], k);
  }
}

// s0: velocity; mv: momentum buffer (kMomentum); ag: average gradient (kCentered).
template <typename T, bool kMomentum, bool kCentered>
void rmsprop(size_t n, T* __restrict p, const T* __restrict g, T* __restrict s0, T* __restrict mv,
             T* __restrict ag, const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) {
    T unused = T(0);
    math::rmsprop_update<T, kMomentum, kCentered>(p[i], g[i], s0[i], kMomentum ? mv[i] : unused,
                                                  kCentered ? ag[i] : unused, k);
  }
}

template <typename T>
void adagrad(size_t n, T* __restrict p, const T* __restrict g, T* __restrict s0,
             const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) math::adagrad_update(p[i], g[i], s0[i], k);
}

template <typename T>
void adadelta(size_t n, T* __restrict p, const T* __restrict g, T* __restrict s0, T* __restrict s1,
              const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) math::adadelta_update(p[i], g[i], s0[i], s1[i], k);
}

template <typename T>
void adamax(size_t n, T* __restrict p, const T* __restrict g, T* __restrict s0, T* __restrict s1,
            const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) math::adamax_update(p[i], g[i], s0[i], s1[i], k);
}

template <typename T>
void nadam(size_t n, T* __restrict p, const T* __restrict g, T* __restrict s0, T* __restrict s1,
           const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) math::nadam_update(p[i], g[i], s0[i], s1[i], k);
}

template <typename T>
void lion(size_t n, T* __restrict p, const T* __restrict g, T* __restrict s0,
          const StepScalars<T>& ks) {
  const StepScalars<T> k = ks;
  for (size_t i = 0; i < n; ++i) math::lion_update(p[i], g[i], s0[i], k);
}
}  // namespace

double Schedule::operator()(int64_t step_i) const {
  const double step = double(step_i);
  switch (kind) {
    case ScheduleKind::Constant: return initial;
    case ScheduleKind::ExponentialDecay: {
      double p = step / decay_steps;
      if (staircase) p = std::floor(p);
      return initial * std::pow(decay_rate, p);
    }
    case ScheduleKind::PiecewiseConstantDecay: {
      // values[0] for step <= boundaries[0]; values[i] for boundaries[i-1] < step <= boundaries[i].
      for (size_t i = 0; i < boundaries.size(); ++i)
        if (step <= boundaries[i]) return values[i];
      return values.back();
    }
    case ScheduleKind::PolynomialDecay: {
      double ds = decay_steps, s = step;
      if (cycle) {
        double mult = s == 0 ? 1.0 : std::ceil(s / ds);
        ds = ds * mult;
      } else {
        s = std::min(s, ds);
      }
      return (initial - end) * std::pow(1.0 - s / ds, power) + end;
    }
    case ScheduleKind::InverseTimeDecay: {
      double p = step / decay_steps;
      if (staircase) p = std::floor(p);
      return initial / (1.0 + decay_rate * p);
    }
    case ScheduleKind::CosineDecay: {
      double target = initial;
      if (warmup_target >= 0) {
        if (step < warmup_steps) return initial + (warmup_target - initial) * (step / warmup_steps);
        target = warmup_target;
      }
      double s = std::min(step - (warmup_target >= 0 ? warmup_steps : 0.0), decay_steps);
      double cosv = 0.5 * (1.0 + std::cos(kPi * s / decay_steps));
      return target * ((1.0 - alpha) * cosv + alpha);
    }
    case ScheduleKind::CosineDecayRestarts: {
      double frac = step / decay_steps;
      double i_restart;
      if (t_mul == 1.0) {
        i_restart = std::floor(frac);
        frac -= i_restart;
      } else {
        i_restart = std::floor(std::log(1.0 - frac * (1.0 - t_mul)) / std::log(t_mul));
        double sum_r = (1.0 - std::pow(t_mul, i_restart)) / (1.0 - t_mul);
        frac = (frac - sum_r) / std::pow(t_mul, i_restart);
      }
      double m_fac = std::pow(m_mul, i_restart);
      double cosv = 0.5 * m_fac * (1.0 + std::cos(kPi * frac));
      return initial * ((1.0 - alpha) * cosv + alpha);
    }
  }
  return initial;
}

int optimizer_slots(const OptimizerConfig& c) {
  switch (c.kind) {
    case OptKind::SGD: return c.momentum > 0 ? 1 : 0;
    case OptKind::Adam:
    case OptKind::AdamW: return c.amsgrad ? 3 : 2;
    case OptKind::RMSprop: return 1 + (c.momentum > 0 ? 1 : 0) + (c.centered ? 1 : 0);
    case OptKind::Adagrad: return 1;
    case OptKind::Adadelta: return 2;
    case OptKind::Adamax: return 2;
    case OptKind::Nadam: return 2;
    case OptKind::Lion: return 1;
  }
  return 0;
}

template <typename T>
void Optimizer<T>::configure(const OptimizerConfig& c, size_t nparams, bool reset) {
  bool changed =
      c.kind != cfg_.kind || optimizer_slots(c) != optimizer_slots(cfg_) || nparams != n_;
  cfg_ = c;
  n_ = nparams;
  if (changed || reset || state_.size() != size_t(optimizer_slots(c)) * n_) reset_state();
}

template <typename T>
void Optimizer<T>::reset_state() {
  state_.assign(size_t(optimizer_slots(cfg_)) * n_, T(0));
  if (cfg_.kind == OptKind::Adagrad)
    std::fill(state_.begin(), state_.end(), T(cfg_.initial_accumulator_value));
  iterations_ = 0;
  u_product_ = 1.0;
}

template <typename T>
void Optimizer<T>::begin_step() {
  const OptimizerConfig& c = cfg_;
  const double lr_d = c.lr(iterations_);
  const double t = double(iterations_ + 1);
  StepScalars<T>& k = k_;
  k = StepScalars<T>();
  k.lr = T(lr_d);
  k.b1 = T(c.beta_1);
  k.b2 = T(c.beta_2);
  k.eps = T(c.epsilon);
  // 1 - beta is formed in double, then rounded once (as Keras does), not from the rounded beta.
  k.omb1 = T(1.0 - c.beta_1);
  k.omb2 = T(1.0 - c.beta_2);
  k.omrho = T(1.0 - c.rho);
  k.rho = T(c.rho);
  k.mom = T(c.momentum);
  k.alpha = k.lr;
  if (c.kind == OptKind::Adam || c.kind == OptKind::AdamW)
    k.alpha = T(lr_d * std::sqrt(1.0 - std::pow(c.beta_2, t)) / (1.0 - std::pow(c.beta_1, t)));
  if (c.kind == OptKind::Adamax) k.alpha = T(lr_d / (1.0 - std::pow(c.beta_1, t)));
  if (c.kind == OptKind::Nadam) {
    const double u_t = c.beta_1 * (1.0 - 0.5 * std::pow(0.96, t));
    const double u_t1 = c.beta_1 * (1.0 - 0.5 * std::pow(0.96, t + 1));
    const double u_prod_t = u_product_ * u_t;
    const double u_prod_t1 = u_prod_t * u_t1;
    k.c1 = T(u_t1 / (1.0 - u_prod_t1));
    k.c2 = T((1.0 - u_t) / (1.0 - u_prod_t));
    k.c3 = T(1.0 / (1.0 - std::pow(c.beta_2, t)));
    next_u_product_ = u_prod_t;
  }
  k.wd = T(c.weight_decay * lr_d);
  k.clip = T(c.clipvalue);
}

template <typename T>
void Optimizer<T>::end_step() {
  if (cfg_.kind == OptKind::Nadam) u_product_ = next_u_product_;
  ++iterations_;
}

template <typename T>
void Optimizer<T>::update_range(T* params, T* grads, size_t offset, size_t n) {
  const OptimizerConfig& c = cfg_;
  const StepScalars<T>& k = k_;
  T* p = params + offset;
  T* g = grads + offset;
  // Slot i of the state at this range (null when the kind keeps fewer slots).
  const size_t slots = n_ ? state_.size() / n_ : 0;
  auto slot = [&](size_t i) { return i < slots ? state_.data() + i * n_ + offset : nullptr; };
  T* s0 = slot(0);
  T* s1 = slot(1);
  T* s2 = slot(2);
  // 1. clipping by value (clipping by norm happened before, over whole variables)
  if (c.clipvalue > 0 && !(c.clipnorm > 0) && !(c.global_clipnorm > 0)) clip_values(n, g, k.clip);
  // 3. decoupled weight decay
  if (c.weight_decay > 0) decay(n, p, k.wd);
  // 4. update
  switch (c.kind) {
    case OptKind::SGD:
      if (c.momentum > 0) {
        if (c.nesterov)
          sgd_momentum<T, true>(n, p, g, s0, k);
        else
          sgd_momentum<T, false>(n, p, g, s0, k);
      } else {
        sgd(n, p, g, k);
      }
      break;
    case OptKind::Adam:
    case OptKind::AdamW:
      if (c.sklearn_moments) {
        if (c.amsgrad)
          adam<T, true, true>(n, p, g, s0, s1, s2, k);
        else
          adam<T, false, true>(n, p, g, s0, s1, nullptr, k);
      } else if (c.amsgrad) {
        adam<T, true, false>(n, p, g, s0, s1, s2, k);
      } else {
        adam<T, false, false>(n, p, g, s0, s1, nullptr, k);
      }
      break;
    case OptKind::RMSprop:
      if (c.centered) {
        if (c.momentum > 0)
          rmsprop<T, true, true>(n, p, g, s0, s1, s2, k);
        else
          rmsprop<T, false, true>(n, p, g, s0, nullptr, s1, k);
      } else {
        if (c.momentum > 0)
          rmsprop<T, true, false>(n, p, g, s0, s1, nullptr, k);
        else
          rmsprop<T, false, false>(n, p, g, s0, nullptr, nullptr, k);
      }
      break;
    case OptKind::Adagrad: adagrad(n, p, g, s0, k); break;
    case OptKind::Adadelta: adadelta(n, p, g, s0, s1, k); break;
    case OptKind::Adamax: adamax(n, p, g, s0, s1, k); break;
    case OptKind::Nadam: nadam(n, p, g, s0, s1, k); break;
    case OptKind::Lion: lion(n, p, g, s0, k); break;
  }
}

template <typename T>
void Optimizer<T>::step(T* params, T* grads, const std::vector<Segment>& segs) {
  const OptimizerConfig& c = cfg_;
  // 1. gradient clipping by norm (needs whole variables; clipping by value is element-wise and
  // runs inside update_range)
  if (c.clipnorm > 0) {
    for (const Segment& s : segs) {
      if (!s.trainable) continue;
      double ss = 0;
      for (size_t i = 0; i < s.size; ++i) ss += double(grads[s.offset + i]) * grads[s.offset + i];
      double norm = std::sqrt(ss);
      if (norm > c.clipnorm) {
        T f = T(c.clipnorm / norm);
        for (size_t i = 0; i < s.size; ++i) grads[s.offset + i] *= f;
      }
    }
  } else if (c.global_clipnorm > 0) {
    double ss = 0;
    for (const Segment& s : segs)
      if (s.trainable)
        for (size_t i = 0; i < s.size; ++i) ss += double(grads[s.offset + i]) * grads[s.offset + i];
    double norm = std::sqrt(ss);
    if (norm > c.global_clipnorm) {
      T f = T(c.global_clipnorm / norm);
      for (const Segment& s : segs)
        if (s.trainable)
          for (size_t i = 0; i < s.size; ++i) grads[s.offset + i] *= f;
    }
  }
  // 2. learning rate and per-step scalars
  begin_step();
  // 3-4. The update is element-wise: ranges of the arena may run on any thread in any order with
  // the same result, so large arenas are split into pieces for the pool.
  constexpr size_t kPiece = 32768;
  size_t total = 0;
  for (const Segment& sg : segs)
    if (sg.trainable) total += sg.size;
  if (pool_ && pool_->num_threads() > 1 && total >= 2 * kPiece) {
    pieces_.clear();
    for (const Segment& sg : segs) {
      if (!sg.trainable) continue;
      for (size_t o = 0; o < sg.size; o += kPiece)
        pieces_.push_back({sg.offset + o, std::min(kPiece, sg.size - o)});
    }
    pool_->parallel_for(pieces_.size(), [&](size_t i) {
      update_range(params, grads, pieces_[i].first, pieces_[i].second);
    });
  } else {
    // Adjacent trainable variables form one range: one long loop instead of several short ones.
    size_t lo = 0, len = 0;
    for (const Segment& sg : segs) {
      if (!sg.trainable) continue;
      if (len && lo + len == sg.offset) {
        len += sg.size;
      } else {
        if (len) update_range(params, grads, lo, len);
        lo = sg.offset;
        len = sg.size;
      }
    }
    if (len) update_range(params, grads, lo, len);
  }
  end_step();
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace fastnn
