// Each loss's per-element (element-wise kinds) or per-row (categorical kinds) value and gradient,
// Keras 3 definitions, shared by the CPU engine (engine/losses.cpp loops over the rows) and any
// device backend. See losses.h for the reduction over the batch.
//
// Row functions take one sample: p (its cols predictions or logits), y (its labels), and, when g is
// not null, write d loss / d p scaled by s (= w_i / N); they return the sample's loss reduced over
// its last axis. Labels are assumed valid (the caller checks sparse labels before the call).
#pragma once
#include <cstddef>
#include <type_traits>

#include "fastnn/losses.h"
#include "fastnn/math/exp_log.h"
#include "fastnn/math/hd.h"

namespace fastnn {
namespace math {

constexpr double kLossEps = 1e-7;  // Keras's backend epsilon

// The element-wise kinds (the loss is the mean of v over the row).
FASTNN_HD bool is_elementwise_loss(LossKind k) {
  switch (k) {
    case LossKind::MeanSquaredError:
    case LossKind::MeanAbsoluteError:
    case LossKind::MeanAbsolutePercentageError:
    case LossKind::MeanSquaredLogarithmicError:
    case LossKind::Huber:
    case LossKind::LogCosh:
    case LossKind::BinaryCrossentropy:
    case LossKind::Hinge:
    case LossKind::SquaredHinge:
    case LossKind::Poisson: return true;
    default: return false;
  }
}

// Value v and derivative d = dv/dp of one element of the element-wise loss K. hinge01: map 0/1
// labels to -1/1 (Keras does when every label of the batch is 0 or 1). The kind is a template
// argument so that a loop over elements of one kind has no switch in it (and vectorises).
template <LossKind K, typename T>
FASTNN_HD void elementwise_loss_term_of(const Loss& L, T pj, T yj, bool hinge01, T& v, T& d) {
  const T eps = T(kLossEps);
  if constexpr (K == LossKind::MeanSquaredError) {
    T e = pj - yj;
    v = e * e;
    d = T(2) * e;
  } else if constexpr (K == LossKind::MeanAbsoluteError) {
    v = std::abs(pj - yj);
    d = sign_of(pj - yj);
  } else if constexpr (K == LossKind::MeanAbsolutePercentageError) {
    T den = max_of(std::abs(yj), eps);
    v = T(100) * std::abs(yj - pj) / den;
    d = T(100) * sign_of(pj - yj) / den;
  } else if constexpr (K == LossKind::MeanSquaredLogarithmicError) {
    T pc = max_of(pj, eps);
    T e = std::log(pc + T(1)) - std::log(max_of(yj, eps) + T(1));
    v = e * e;
    d = pj > eps ? T(2) * e / (pc + T(1)) : T(0);
  } else if constexpr (K == LossKind::Huber) {
    T e = pj - yj, ae = std::abs(e), delta = T(L.delta);
    const bool quad = ae <= delta;
    v = quad ? T(0.5) * e * e : delta * ae - T(0.5) * delta * delta;
    d = quad ? e : delta * sign_of(e);
  } else if constexpr (K == LossKind::LogCosh) {
    // log(cosh(x)) = x + softplus(-2x) - log(2), stable for large |x|
    T x = pj - yj;
    T m = -T(2) * x;
    T sp = max_of(m, T(0)) + std::log1p(std::exp(-std::abs(m)));
    v = x + sp - T(0.69314718055994530942);
    d = std::tanh(x);
  } else if constexpr (K == LossKind::BinaryCrossentropy) {
    T t = yj;
    if (L.label_smoothing > 0) t = t * T(1 - L.label_smoothing) + T(0.5 * L.label_smoothing);
    if (L.from_logits) {
      // max(z,0) - z t + log(1 + exp(-|z|)); sigmoid(z) from the same exp(-|z|)
      const T e = exp_of(-std::abs(pj));
      v = max_of(pj, T(0)) - pj * t + log1p_unit(e);
      const T inv = T(1) / (T(1) + e);
      d = (pj >= T(0) ? inv : e * inv) - t;
    } else {
      T q = min_of(max_of(pj, eps), T(1) - eps);
      v = -(t * std::log(q) + (T(1) - t) * std::log(T(1) - q));
      bool inside = pj > eps && pj < T(1) - eps;
      d = inside ? (q - t) / (q * (T(1) - q)) : T(0);
    }
  } else if constexpr (K == LossKind::Hinge || K == LossKind::SquaredHinge) {
    T t = hinge01 ? T(2) * yj - T(1) : yj;
    T m = T(1) - t * pj;
    if constexpr (K == LossKind::Hinge) {
      v = max_of(m, T(0));
      d = m > T(0) ? -t : T(0);
    } else {
      T h = max_of(m, T(0));
      v = h * h;
      d = -T(2) * h * t;
    }
  } else if constexpr (K == LossKind::Poisson) {
    v = pj - yj * std::log(pj + eps);
    d = T(1) - yj / (pj + eps);
  } else {
    v = 0;
    d = 0;
  }
}

// Calls f(std::integral_constant<LossKind, K>{}) for the element-wise kind K = k and returns true;
// false for the other kinds.
template <typename F>
FASTNN_HD bool visit_elementwise_loss(LossKind k, F&& f) {
  switch (k) {
#define FASTNN_LOSS_CASE(K)                          \
  case LossKind::K:                                  \
    f(std::integral_constant<LossKind, LossKind::K>{}); \
    return true;
    FASTNN_LOSS_CASE(MeanSquaredError)
    FASTNN_LOSS_CASE(MeanAbsoluteError)
    FASTNN_LOSS_CASE(MeanAbsolutePercentageError)
    FASTNN_LOSS_CASE(MeanSquaredLogarithmicError)
    FASTNN_LOSS_CASE(Huber)
    FASTNN_LOSS_CASE(LogCosh)
    FASTNN_LOSS_CASE(BinaryCrossentropy)
    FASTNN_LOSS_CASE(Hinge)
    FASTNN_LOSS_CASE(SquaredHinge)
    FASTNN_LOSS_CASE(Poisson)
#undef FASTNN_LOSS_CASE
    default: return false;
  }
}

// The same with the kind read at run time (L.kind).
template <typename T>
FASTNN_HD void elementwise_loss_term(const Loss& L, T pj, T yj, bool hinge01, T& v, T& d) {
  v = 0;
  d = 0;
  visit_elementwise_loss(L.kind, [&](auto k) {
    elementwise_loss_term_of<decltype(k)::value>(L, pj, yj, hinge01, v, d);
  });
}

// Row of an element-wise loss: the mean of the terms over the c columns.
template <typename T>
FASTNN_HD double elementwise_loss_row(const Loss& L, const T* p, const T* y, size_t c, T* g, T s,
                                      bool hinge01) {
  double acc = 0;
  const T inv_c = T(1) / T(c);
  for (size_t j = 0; j < c; ++j) {
    T v, d;
    elementwise_loss_term(L, p[j], y[j], hinge01, v, d);
    acc += double(v);
    if (g) g[j] = d * inv_c * s;
  }
  return acc / double(c);
}

template <typename T>
FASTNN_HD T smoothed_target(const Loss& L, const T* y, size_t j, size_t c) {
  const T ls = T(L.label_smoothing);
  return ls > T(0) ? y[j] * (T(1) - ls) + ls / T(c) : y[j];
}

template <typename T>
FASTNN_HD double categorical_ce_row(const Loss& L, const T* p, const T* y, size_t c, T* g, T s) {
  if (L.from_logits) {
    T m = p[0];
    for (size_t j = 1; j < c; ++j) m = max_of(m, p[j]);
    double se = 0;
    for (size_t j = 0; j < c; ++j) se += std::exp(double(p[j] - m));
    const double lse = double(m) + std::log(se);
    double v = 0, ysum = 0;
    for (size_t j = 0; j < c; ++j) {
      double t = double(smoothed_target(L, y, j, c));
      v += t * (lse - double(p[j]));
      ysum += t;
    }
    if (g)
      for (size_t j = 0; j < c; ++j) {
        double sm = std::exp(double(p[j]) - lse);
        g[j] = T((sm * ysum - double(smoothed_target(L, y, j, c))) * double(s));
      }
    return v;
  }
  // Probabilities: normalised to sum 1, clipped to [eps, 1-eps] (Keras).
  double sum = 0;
  for (size_t j = 0; j < c; ++j) sum += double(p[j]);
  const T eps = T(kLossEps);
  double v = 0, corr = 0;
  for (size_t j = 0; j < c; ++j) {
    T q = T(double(p[j]) / sum);
    T qc = min_of(max_of(q, eps), T(1) - eps);
    T t = smoothed_target(L, y, j, c);
    v -= double(t) * std::log(double(qc));
    if (q > eps && q < T(1) - eps) corr += double(t);
  }
  if (g)
    for (size_t j = 0; j < c; ++j) {
      T q = T(double(p[j]) / sum);
      bool inside = q > eps && q < T(1) - eps;
      double dj = (inside ? -double(smoothed_target(L, y, j, c)) / double(q) : 0.0) + corr;
      g[j] = T(dj / sum * double(s));
    }
  return v;
}

// k: the sample's class, in [0, c).
template <typename T>
FASTNN_HD double sparse_ce_row(const Loss& L, const T* p, size_t k, size_t c, T* g, T s) {
  if (L.from_logits) {
    T m = p[0];
    for (size_t j = 1; j < c; ++j) m = max_of(m, p[j]);
    double se = 0;
    for (size_t j = 0; j < c; ++j) se += std::exp(double(p[j] - m));
    const double lse = double(m) + std::log(se);
    if (g)
      for (size_t j = 0; j < c; ++j)
        g[j] = T((std::exp(double(p[j]) - lse) - (j == k ? 1.0 : 0.0)) * double(s));
    return lse - double(p[k]);
  }
  double sum = 0;
  for (size_t j = 0; j < c; ++j) sum += double(p[j]);
  const T eps = T(kLossEps);
  T q = T(double(p[k]) / sum);
  T qc = min_of(max_of(q, eps), T(1) - eps);
  bool inside = q > eps && q < T(1) - eps;
  if (g)
    for (size_t j = 0; j < c; ++j) {
      double dj = inside ? ((j == k ? -1.0 / double(q) : 0.0) + 1.0) / sum : 0.0;
      g[j] = T(dj * double(s));
    }
  return -std::log(double(qc));
}

template <typename T>
FASTNN_HD double categorical_hinge_row(const T* p, const T* y, size_t c, T* g, T s) {
  double pos = 0;
  T neg = -T(INFINITY);
  size_t arg = 0;
  for (size_t j = 0; j < c; ++j) {
    pos += double(y[j] * p[j]);
    T n = (T(1) - y[j]) * p[j];
    if (n > neg) {
      neg = n;
      arg = j;
    }
  }
  double v = max_of(double(neg) - pos + 1.0, 0.0);
  if (g)
    for (size_t j = 0; j < c; ++j)
      g[j] = v > 0 ? T(((j == arg ? double(T(1) - y[j]) : 0.0) - double(y[j])) * double(s)) : T(0);
  return v;
}

template <typename T>
FASTNN_HD double kl_divergence_row(const T* p, const T* y, size_t c, T* g, T s) {
  const T eps = T(kLossEps);
  double v = 0;
  for (size_t j = 0; j < c; ++j) {
    T yc = min_of(max_of(y[j], eps), T(1));
    T pc = min_of(max_of(p[j], eps), T(1));
    v += double(yc) * std::log(double(yc) / double(pc));
    if (g) g[j] = (p[j] > eps && p[j] < T(1)) ? T(-double(yc) / double(pc) * double(s)) : T(0);
  }
  return v;
}

// Keras 3: -sum(y / max(|y|, 1e-7) * p / max(|p|, 1e-7)).
template <typename T>
FASTNN_HD double cosine_similarity_row(const T* p, const T* y, size_t c, T* g, T s) {
  double yy = 0, pp = 0, yp = 0;
  for (size_t j = 0; j < c; ++j) {
    yy += double(y[j]) * double(y[j]);
    pp += double(p[j]) * double(p[j]);
    yp += double(y[j]) * double(p[j]);
  }
  const double ny = max_of(std::sqrt(yy), kLossEps), np_raw = std::sqrt(pp);
  const double np = max_of(np_raw, kLossEps);
  const double v = -yp / (ny * np);
  if (g)
    for (size_t j = 0; j < c; ++j) {
      double yn = double(y[j]) / ny;
      // d/dp of -(yn . p) / |p| = -(yn - p (yn . p) / |p|^2) / |p|; below the floor |p| is a
      // constant.
      double d = np_raw > kLossEps ? -(yn - double(p[j]) * (yp / ny) / (np * np)) / np : -yn / np;
      g[j] = T(d * double(s));
    }
  return v;
}

// One sample of any kind except SparseCategoricalCrossentropy (which takes its class index).
template <typename T>
FASTNN_HD double loss_row(const Loss& L, const T* p, const T* y, size_t c, T* g, T s,
                          bool hinge01) {
  switch (L.kind) {
    case LossKind::CategoricalCrossentropy: return categorical_ce_row(L, p, y, c, g, s);
    case LossKind::CategoricalHinge: return categorical_hinge_row(p, y, c, g, s);
    case LossKind::KLDivergence: return kl_divergence_row(p, y, c, g, s);
    case LossKind::CosineSimilarity: return cosine_similarity_row(p, y, c, g, s);
    default: return elementwise_loss_row(L, p, y, c, g, s, hinge01);
  }
}

}  // namespace math
}  // namespace fastnn
