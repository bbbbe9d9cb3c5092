// Losses: value and gradient (Keras 3 definitions; see losses.h for the reduction).
#include "fastnn/losses.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "fastnn/common.h"

namespace fastnn {
namespace {

constexpr double kEps = 1e-7;  // Keras's backend epsilon

template <typename T>
inline T sgn(T x) {
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
}

// log(1 + e) for e in [0, 1]. In float, 1 + e is exact in double, and double log is much faster than
// log1pf here while just as accurate once rounded to float.
inline float log1p_unit(float e) {
  return e > 1e-9f ? float(std::log(1.0 + double(e))) : e;
}
inline double log1p_unit(double e) { return std::log1p(e); }

// Per-sample helpers: each returns the sample's loss (reduced over its last axis) and, when g is not
// null, writes d loss / d pred scaled by `s` (= w_i / N).
template <typename T>
double elementwise_loss(const Loss& L, const T* p, const T* y, size_t c, T* g, T s, bool hinge01) {
  double acc = 0;
  const T inv_c = T(1) / T(c);
  const T eps = T(kEps);
  for (size_t j = 0; j < c; ++j) {
    const T pj = p[j], yj = y[j];
    T v = 0, d = 0;
    switch (L.kind) {
      case LossKind::MeanSquaredError: {
        T e = pj - yj;
        v = e * e;
        d = T(2) * e;
        break;
      }
      case LossKind::MeanAbsoluteError:
        v = std::abs(pj - yj);
        d = sgn(pj - yj);
        break;
      case LossKind::MeanAbsolutePercentageError: {
        T den = std::max(std::abs(yj), eps);
        v = T(100) * std::abs(yj - pj) / den;
        d = T(100) * sgn(pj - yj) / den;
        break;
      }
      case LossKind::MeanSquaredLogarithmicError: {
        T pc = std::max(pj, eps);
        T e = std::log(pc + T(1)) - std::log(std::max(yj, eps) + T(1));
        v = e * e;
        d = pj > eps ? T(2) * e / (pc + T(1)) : T(0);
        break;
      }
      case LossKind::Huber: {
        T e = pj - yj, ae = std::abs(e), delta = T(L.delta);
        if (ae <= delta) {
          v = T(0.5) * e * e;
          d = e;
        } else {
          v = delta * ae - T(0.5) * delta * delta;
          d = delta * sgn(e);
        }
        break;
      }
      case LossKind::LogCosh: {
        // log(cosh(x)) = x + softplus(-2x) - log(2), stable for large |x|
        T x = pj - yj;
        T m = -T(2) * x;
        T sp = std::max(m, T(0)) + std::log1p(std::exp(-std::abs(m)));
        v = x + sp - T(0.69314718055994530942);
        d = std::tanh(x);
        break;
      }
      case LossKind::BinaryCrossentropy: {
        T t = yj;
        if (L.label_smoothing > 0) t = t * T(1 - L.label_smoothing) + T(0.5 * L.label_smoothing);
        if (L.from_logits) {
          // max(z,0) - z t + log(1 + exp(-|z|)); sigmoid(z) from the same exp(-|z|)
          const T e = std::exp(-std::abs(pj));
          v = std::max(pj, T(0)) - pj * t + log1p_unit(e);
          const T inv = T(1) / (T(1) + e);
          d = (pj >= T(0) ? inv : e * inv) - t;
        } else {
          T q = std::min(std::max(pj, eps), T(1) - eps);
          v = -(t * std::log(q) + (T(1) - t) * std::log(T(1) - q));
          bool inside = pj > eps && pj < T(1) - eps;
          d = inside ? (q - t) / (q * (T(1) - q)) : T(0);
        }
        break;
      }
      case LossKind::Hinge:
      case LossKind::SquaredHinge: {
        T t = hinge01 ? T(2) * yj - T(1) : yj;
        T m = T(1) - t * pj;
        if (L.kind == LossKind::Hinge) {
          v = std::max(m, T(0));
          d = m > T(0) ? -t : T(0);
        } else {
          T h = std::max(m, T(0));
          v = h * h;
          d = -T(2) * h * t;
        }
        break;
      }
      case LossKind::Poisson:
        v = pj - yj * std::log(pj + eps);
        d = T(1) - yj / (pj + eps);
        break;
      default:
        throw ValueError("loss: internal error (not an elementwise loss)");
    }
    acc += double(v);
    if (g) g[j] = d * inv_c * s;
  }
  return acc / double(c);
}

template <typename T>
double categorical_ce(const Loss& L, const T* p, const T* y, size_t c, T* g, T s) {
  const T ls = T(L.label_smoothing);
  auto target = [&](size_t j) { return ls > T(0) ? y[j] * (T(1) - ls) + ls / T(c) : y[j]; };
  if (L.from_logits) {
    T m = p[0];
    for (size_t j = 1; j < c; ++j) m = std::max(m, p[j]);
    double se = 0;
    for (size_t j = 0; j < c; ++j) se += std::exp(double(p[j] - m));
    const double lse = double(m) + std::log(se);
    double v = 0, ysum = 0;
    for (size_t j = 0; j < c; ++j) {
      double t = double(target(j));
      v += t * (lse - double(p[j]));
      ysum += t;
    }
    if (g)
      for (size_t j = 0; j < c; ++j) {
        double sm = std::exp(double(p[j]) - lse);
        g[j] = T((sm * ysum - double(target(j))) * double(s));
      }
    return v;
  }
  // Probabilities: normalised to sum 1, clipped to [eps, 1-eps] (Keras).
  double sum = 0;
  for (size_t j = 0; j < c; ++j) sum += double(p[j]);
  const T eps = T(kEps);
  double v = 0, corr = 0;
  for (size_t j = 0; j < c; ++j) {
    T q = T(double(p[j]) / sum);
    T qc = std::min(std::max(q, eps), T(1) - eps);
    T t = target(j);
    v -= double(t) * std::log(double(qc));
    if (q > eps && q < T(1) - eps) corr += double(t);
  }
  if (g)
    for (size_t j = 0; j < c; ++j) {
      T q = T(double(p[j]) / sum);
      bool inside = q > eps && q < T(1) - eps;
      double dj = (inside ? -double(target(j)) / double(q) : 0.0) + corr;
      g[j] = T(dj / sum * double(s));
    }
  return v;
}

template <typename T>
double sparse_ce(const Loss& L, const T* p, T label, size_t c, T* g, T s) {
  double lf = double(label);
  if (!(lf >= 0 && lf < double(c)) || lf != std::floor(lf))
    throw ValueError("sparse_categorical_crossentropy: labels must be integers in [0, " +
                     std::to_string(c) + "), got " + std::to_string(lf));
  const size_t k = size_t(lf);
  if (L.from_logits) {
    T m = p[0];
    for (size_t j = 1; j < c; ++j) m = std::max(m, p[j]);
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
  const T eps = T(kEps);
  T q = T(double(p[k]) / sum);
  T qc = std::min(std::max(q, eps), T(1) - eps);
  bool inside = q > eps && q < T(1) - eps;
  if (g)
    for (size_t j = 0; j < c; ++j) {
      double dj = inside ? ((j == k ? -1.0 / double(q) : 0.0) + 1.0) / sum : 0.0;
      g[j] = T(dj * double(s));
    }
  return -std::log(double(qc));
}

template <typename T>
double categorical_hinge(const T* p, const T* y, size_t c, T* g, T s) {
  double pos = 0;
  T neg = -std::numeric_limits<T>::infinity();
  size_t arg = 0;
  for (size_t j = 0; j < c; ++j) {
    pos += double(y[j] * p[j]);
    T n = (T(1) - y[j]) * p[j];
    if (n > neg) {
      neg = n;
      arg = j;
    }
  }
  double v = std::max(double(neg) - pos + 1.0, 0.0);
  if (g)
    for (size_t j = 0; j < c; ++j)
      g[j] = v > 0 ? T(((j == arg ? double(T(1) - y[j]) : 0.0) - double(y[j])) * double(s)) : T(0);
  return v;
}

template <typename T>
double kl_divergence(const T* p, const T* y, size_t c, T* g, T s) {
  const T eps = T(kEps);
  double v = 0;
  for (size_t j = 0; j < c; ++j) {
    T yc = std::min(std::max(y[j], eps), T(1));
    T pc = std::min(std::max(p[j], eps), T(1));
    v += double(yc) * std::log(double(yc) / double(pc));
    if (g) g[j] = (p[j] > eps && p[j] < T(1)) ? T(-double(yc) / double(pc) * double(s)) : T(0);
  }
  return v;
}

// Keras 3: -sum(y / max(|y|, 1e-7) * p / max(|p|, 1e-7)).
template <typename T>
double cosine_similarity(const T* p, const T* y, size_t c, T* g, T s) {
  double yy = 0, pp = 0, yp = 0;
  for (size_t j = 0; j < c; ++j) {
    yy += double(y[j]) * double(y[j]);
    pp += double(p[j]) * double(p[j]);
    yp += double(y[j]) * double(p[j]);
  }
  const double ny = std::max(std::sqrt(yy), kEps), np_raw = std::sqrt(pp);
  const double np = std::max(np_raw, kEps);
  const double v = -yp / (ny * np);
  if (g)
    for (size_t j = 0; j < c; ++j) {
      double yn = double(y[j]) / ny;
      // d/dp of -(yn . p) / |p| = -(yn - p (yn . p) / |p|^2) / |p|; below the floor |p| is a constant.
      double d = np_raw > kEps ? -(yn - double(p[j]) * (yp / ny) / (np * np)) / np : -yn / np;
      g[j] = T(d * double(s));
    }
  return v;
}

}  // namespace

template <typename T>
double loss_forward_backward(const Loss& L, const T* pred, const T* y, const T* w, size_t rows,
                             size_t cols, double denominator, T* grad, T* loss_out) {
  if (rows == 0) return 0.0;
  const size_t yc = L.label_cols(cols);
  bool hinge01 = false;
  if (L.kind == LossKind::Hinge || L.kind == LossKind::SquaredHinge) {
    // Keras maps labels to -1/1 when every label of the batch is 0 or 1.
    hinge01 = true;
    for (size_t i = 0; i < rows * yc && hinge01; ++i) hinge01 = (y[i] == T(0) || y[i] == T(1));
  }
  const double inv_n = 1.0 / denominator;
  double total = 0;
  for (size_t i = 0; i < rows; ++i) {
    const T* p = pred + i * cols;
    const T* t = y + i * yc;
    T* g = grad ? grad + i * cols : nullptr;
    const double wi = w ? double(w[i]) : 1.0;
    const T s = T(wi * inv_n);
    double v;
    switch (L.kind) {
      case LossKind::CategoricalCrossentropy: v = categorical_ce(L, p, t, cols, g, s); break;
      case LossKind::SparseCategoricalCrossentropy: v = sparse_ce(L, p, t[0], cols, g, s); break;
      case LossKind::CategoricalHinge: v = categorical_hinge(p, t, cols, g, s); break;
      case LossKind::KLDivergence: v = kl_divergence(p, t, cols, g, s); break;
      case LossKind::CosineSimilarity: v = cosine_similarity(p, t, cols, g, s); break;
      default: v = elementwise_loss(L, p, t, cols, g, s, hinge01); break;
    }
    v *= wi;
    if (loss_out) loss_out[i] = T(v);
    total += v;
  }
  return total;
}

template double loss_forward_backward<float>(const Loss&, const float*, const float*, const float*,
                                             size_t, size_t, double, float*, float*);
template double loss_forward_backward<double>(const Loss&, const double*, const double*,
                                              const double*, size_t, size_t, double, double*, double*);

}  // namespace fastnn
