// Each optimizer's per-element update (Keras 3 formulas), shared by the CPU engine
// (engine/optimizers.cpp runs them over the parameter arena) and any device backend. The step's
// scalars (learning rate from the schedule, bias corrections) are computed once per step on the
// host (Optimizer::begin_step) and passed in StepScalars; every function here updates one element
// in place: p the parameter, g its gradient, s0.. its state slots.
#pragma once
#include "fastnn/math/hd.h"

namespace fastnn {

// Scalars of one step, computed once by begin_step and rounded to T.
template <typename T>
struct StepScalars {
  T lr{}, alpha{}, b1{}, b2{}, eps{}, omb1{}, omb2{}, omrho{}, rho{}, mom{}, c1{}, c2{}, c3{};
  T wd{};    // weight_decay * lr
  T clip{};  // clipvalue
};

namespace math {

// Clipping by value and decoupled weight decay (before the update).
template <typename T>
FASTNN_HD void clip_value(T& g, T v) {
  g = min_of(max_of(g, -v), v);
}
template <typename T>
FASTNN_HD void weight_decay(T& p, T wd) {
  p -= p * wd;
}

// The l1 / l2 regularizers' gradient, added to g: l1 * sign(w) + 2 * l2 * w.
template <typename T>
FASTNN_HD void regularizer_grad(T& g, T w, T l1, T l2x2) {
  g += l1 * sign_of(w) + l2x2 * w;
}

template <typename T>
FASTNN_HD void sgd_update(T& p, T g, const StepScalars<T>& k) {
  p -= g * k.lr;
}

// s0: velocity.
template <typename T, bool kNesterov>
FASTNN_HD void sgd_momentum_update(T& p, T g, T& s0, const StepScalars<T>& k) {
  T m = s0 * k.mom - g * k.lr;
  s0 = m;
  p += kNesterov ? m * k.mom - g * k.lr : m;
}

// Keras's moment updates, shared by Adam and Nadam: m += (g - m) * (1 - beta_1), likewise v with
// g^2.
template <typename T>
FASTNN_HD void update_moments(T g, T& m, T& v, T omb1, T omb2) {
  m = m + (g - m) * omb1;
  v = v + (g * g - v) * omb2;
}

// scikit-learn's form of the same moment updates: m = beta_1 * m + (1 - beta_1) * g, likewise v.
template <typename T>
FASTNN_HD void average_moments(T g, T& m, T& v, const StepScalars<T>& k) {
  m = k.b1 * m + k.omb1 * g;
  v = k.b2 * v + k.omb2 * (g * g);
}

template <typename T, bool kAverage>
FASTNN_HD void adam_moments(T g, T& m, T& v, const StepScalars<T>& k) {
  if (kAverage)
    average_moments(g, m, v, k);
  else
    update_moments(g, m, v, k.omb1, k.omb2);
}

// Adam / AdamW; k.alpha carries the bias corrections. kAverage: scikit-learn's moment form.
template <typename T, bool kAverage = false>
FASTNN_HD void adam_update(T& p, T g, T& m, T& v, const StepScalars<T>& k) {
  T mm = m, vv = v;
  adam_moments<T, kAverage>(g, mm, vv, k);
  m = mm;
  v = vv;
  p -= k.alpha * mm / (std::sqrt(vv) + k.eps);
}

// AMSGrad: vmax, the running maximum of v, takes v's place in the denominator.
template <typename T, bool kAverage = false>
FASTNN_HD void amsgrad_update(T& p, T g, T& m, T& v, T& vmax, const StepScalars<T>& k) {
  T mm = m, vv = v;
  adam_moments<T, kAverage>(g, mm, vv, k);
  m = mm;
  v = vv;
  vv = vmax < vv ? vv : vmax;  // max(vmax, v)
  vmax = vv;
  p -= k.alpha * mm / (std::sqrt(vv) + k.eps);
}

// s0: velocity; mv: momentum buffer (kMomentum); ag: average gradient (kCentered). Unused slots are
// not touched.
template <typename T, bool kMomentum, bool kCentered>
FASTNN_HD void rmsprop_update(T& p, T g, T& s0, T& mv, T& ag, const StepScalars<T>& k) {
  T vel = k.rho * s0 + k.omrho * g * g;
  s0 = vel;
  T den = vel + k.eps;
  if (kCentered) {
    T a = k.rho * ag + k.omrho * g;
    ag = a;
    den = vel - a * a + k.eps;
  }
  T inc = k.lr * g / std::sqrt(den);
  if (kMomentum) {
    T m = k.mom * mv + inc;
    mv = m;
    p -= m;
  } else {
    p -= inc;
  }
}

template <typename T>
FASTNN_HD void adagrad_update(T& p, T g, T& s0, const StepScalars<T>& k) {
  T a = s0 + g * g;
  s0 = a;
  p -= k.lr * g / std::sqrt(a + k.eps);
}

template <typename T>
FASTNN_HD void adadelta_update(T& p, T g, T& s0, T& s1, const StepScalars<T>& k) {
  T a = k.rho * s0 + k.omrho * g * g;
  s0 = a;
  T d = -std::sqrt(s1 + k.eps) * g / std::sqrt(a + k.eps);
  s1 = k.rho * s1 + k.omrho * d * d;
  p += k.lr * d;
}

template <typename T>
FASTNN_HD void adamax_update(T& p, T g, T& s0, T& s1, const StepScalars<T>& k) {
  T m = s0 + (g - s0) * k.omb1;
  T a = k.b2 * s1, b = std::abs(g);
  T u = a < b ? b : a;  // max(a, b)
  s0 = m;
  s1 = u;
  p -= k.alpha * m / (u + k.eps);
}

template <typename T>
FASTNN_HD void nadam_update(T& p, T g, T& s0, T& s1, const StepScalars<T>& k) {
  T m = s0, v = s1;
  update_moments(g, m, v, k.omb1, k.omb2);
  s0 = m;
  s1 = v;
  T mh = k.c1 * m + k.c2 * g;
  T vh = v * k.c3;
  p -= k.lr * mh / (std::sqrt(vh) + k.eps);
}

template <typename T>
FASTNN_HD void lion_update(T& p, T g, T& s0, const StepScalars<T>& k) {
  T u = s0 * k.b1 + g * k.omb1;
  p -= k.lr * sign_of(u);
  s0 = s0 * k.b2 + g * k.omb2;
}

}  // namespace math
}  // namespace fastnn
