// Optimizer updates and learning-rate schedules (Keras 3 formulas; see optimizers.h).
#include "fastnn/optimizers.h"

#include <algorithm>
#include <cmath>

#include "fastnn/common.h"
#include "fastnn/threadpool.h"

namespace fastnn {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

double Schedule::operator()(int64_t step_i) const {
  const double step = double(step_i);
  switch (kind) {
    case ScheduleKind::Constant:
      return initial;
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
        if (step < warmup_steps)
          return initial + (warmup_target - initial) * (step / warmup_steps);
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
  bool changed = c.kind != cfg_.kind || optimizer_slots(c) != optimizer_slots(cfg_) || nparams != n_;
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
void Optimizer<T>::step(T* params, T* grads, const std::vector<Segment>& segs) {
  const OptimizerConfig& c = cfg_;
  // 1. gradient clipping
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
  } else if (c.clipvalue > 0) {
    const T v = T(c.clipvalue);
    for (const Segment& s : segs)
      if (s.trainable)
        for (size_t i = 0; i < s.size; ++i)
          grads[s.offset + i] = std::min(std::max(grads[s.offset + i], -v), v);
  }

  // 2. learning rate and per-step scalars
  const double lr_d = c.lr(iterations_);
  const double t = double(iterations_ + 1);
  const T lr = T(lr_d);
  const T b1 = T(c.beta_1), b2 = T(c.beta_2), eps = T(c.epsilon);
  const T one = T(1);
  // 1 - beta is formed in double, then rounded once (as Keras does), not from the rounded beta.
  const T omb1 = T(1.0 - c.beta_1), omb2 = T(1.0 - c.beta_2), omrho = T(1.0 - c.rho);
  T alpha = lr;
  double u_t = 0, u_t1 = 0, u_prod_t = 0, u_prod_t1 = 0;
  if (c.kind == OptKind::Adam || c.kind == OptKind::AdamW)
    alpha = T(lr_d * std::sqrt(1.0 - std::pow(c.beta_2, t)) / (1.0 - std::pow(c.beta_1, t)));
  if (c.kind == OptKind::Adamax) alpha = T(lr_d / (1.0 - std::pow(c.beta_1, t)));
  if (c.kind == OptKind::Nadam) {
    u_t = c.beta_1 * (1.0 - 0.5 * std::pow(0.96, t));
    u_t1 = c.beta_1 * (1.0 - 0.5 * std::pow(0.96, t + 1));
    u_prod_t = u_product_ * u_t;
    u_prod_t1 = u_prod_t * u_t1;
  }
  const double b2_pow = std::pow(c.beta_2, t);
  const T wd = T(c.weight_decay * lr_d);

  T* S0 = state_.data();
  T* S1 = state_.data() + n_;
  T* S2 = state_.data() + 2 * n_;

  // The update is elementwise: ranges of the arena may run on any thread in any order with the same
  // result, so large arenas are split into pieces for the pool.
  auto update = [&](size_t offset, size_t n) {
    T* p = params + offset;
    const T* g = grads + offset;
    T* s0 = S0 + offset;
    T* s1 = S1 + offset;
    T* s2 = S2 + offset;
    // 3. decoupled weight decay
    if (c.weight_decay > 0)
      for (size_t i = 0; i < n; ++i) p[i] -= p[i] * wd;
    // 4. update
    switch (c.kind) {
      case OptKind::SGD:
        if (c.momentum > 0) {
          const T mom = T(c.momentum);
          for (size_t i = 0; i < n; ++i) {
            T m = s0[i] * mom - g[i] * lr;
            s0[i] = m;
            p[i] += c.nesterov ? m * mom - g[i] * lr : m;
          }
        } else {
          for (size_t i = 0; i < n; ++i) p[i] -= g[i] * lr;
        }
        break;
      case OptKind::Adam:
      case OptKind::AdamW:
        if (c.amsgrad) {
          for (size_t i = 0; i < n; ++i) {
            T m = s0[i] + (g[i] - s0[i]) * omb1;
            T v = s1[i] + (g[i] * g[i] - s1[i]) * omb2;
            s0[i] = m;
            s1[i] = v;
            v = std::max(s2[i], v);
            s2[i] = v;
            p[i] -= alpha * m / (std::sqrt(v) + eps);
          }
        } else {
          for (size_t i = 0; i < n; ++i) {
            T gi = g[i];
            T m = s0[i] + (gi - s0[i]) * omb1;
            T v = s1[i] + (gi * gi - s1[i]) * omb2;
            s0[i] = m;
            s1[i] = v;
            p[i] -= alpha * m / (std::sqrt(v) + eps);
          }
        }
        break;
      case OptKind::RMSprop: {
        const T rho = T(c.rho), mom = T(c.momentum);
        T* mv = c.momentum > 0 ? s1 : nullptr;
        T* ag = c.centered ? (c.momentum > 0 ? s2 : s1) : nullptr;
        for (size_t i = 0; i < n; ++i) {
          T vel = rho * s0[i] + omrho * g[i] * g[i];
          s0[i] = vel;
          T den = vel + eps;
          if (ag) {
            T a = rho * ag[i] + omrho * g[i];
            ag[i] = a;
            den = vel - a * a + eps;
          }
          T inc = lr * g[i] / std::sqrt(den);
          if (mv) {
            mv[i] = mom * mv[i] + inc;
            p[i] -= mv[i];
          } else {
            p[i] -= inc;
          }
        }
        break;
      }
      case OptKind::Adagrad:
        for (size_t i = 0; i < n; ++i) {
          s0[i] += g[i] * g[i];
          p[i] -= lr * g[i] / std::sqrt(s0[i] + eps);
        }
        break;
      case OptKind::Adadelta: {
        const T rho = T(c.rho);
        for (size_t i = 0; i < n; ++i) {
          T a = rho * s0[i] + omrho * g[i] * g[i];
          s0[i] = a;
          T d = -std::sqrt(s1[i] + eps) * g[i] / std::sqrt(a + eps);
          s1[i] = rho * s1[i] + omrho * d * d;
          p[i] += lr * d;
        }
        break;
      }
      case OptKind::Adamax:
        for (size_t i = 0; i < n; ++i) {
          T m = s0[i] + (g[i] - s0[i]) * omb1;
          T u = std::max(b2 * s1[i], std::abs(g[i]));
          s0[i] = m;
          s1[i] = u;
          p[i] -= alpha * m / (u + eps);
        }
        break;
      case OptKind::Nadam: {
        const T c1 = T(u_t1 / (1.0 - u_prod_t1));
        const T c2 = T((1.0 - u_t) / (1.0 - u_prod_t));
        const T c3 = T(1.0 / (1.0 - b2_pow));
        for (size_t i = 0; i < n; ++i) {
          T m = s0[i] + (g[i] - s0[i]) * omb1;
          T v = s1[i] + (g[i] * g[i] - s1[i]) * omb2;
          s0[i] = m;
          s1[i] = v;
          T mh = c1 * m + c2 * g[i];
          T vh = v * c3;
          p[i] -= lr * mh / (std::sqrt(vh) + eps);
        }
        break;
      }
      case OptKind::Lion:
        for (size_t i = 0; i < n; ++i) {
          T u = s0[i] * b1 + g[i] * omb1;
          T sgn = u > T(0) ? one : (u < T(0) ? -one : T(0));
          p[i] -= lr * sgn;
          s0[i] = s0[i] * b2 + g[i] * omb2;
        }
        break;
    }
  };
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
    pool_->parallel_for(pieces_.size(), [&](size_t i) { update(pieces_[i].first, pieces_[i].second); });
  } else {
    // Adjacent trainable variables form one range: one long loop instead of several short ones.
    size_t lo = 0, len = 0;
    for (const Segment& sg : segs) {
      if (!sg.trainable) continue;
      if (len && lo + len == sg.offset) {
        len += sg.size;
      } else {
        if (len) update(lo, len);
        lo = sg.offset;
        len = sg.size;
      }
    }
    if (len) update(lo, len);
  }
  if (c.kind == OptKind::Nadam) u_product_ = u_prod_t;
  ++iterations_;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace fastnn
