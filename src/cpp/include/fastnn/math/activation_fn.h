// Each activation's forward f(z) and derivative f'(z) (Keras 3 definitions), one functor per kind,
// shared by the CPU engine (engine/activations.cpp loops over them) and any device backend.
//
// A functor has fwd(z) and grad(z, a) = f'(z) with a = f(z). Kinds with kFromOutput = true compute
// the derivative from a alone (grad ignores z), so a layer need not keep z. Softmax and LogSoftmax
// act on whole rows: see softmax_row / softmax_row_backward / log_softmax_row_backward.
#pragma once
#include <cstddef>
#include <type_traits>

#include "fastnn/activations.h"
#include "fastnn/math/exp_log.h"
#include "fastnn/math/hd.h"

namespace fastnn {
namespace math {

template <typename T>
FASTNN_HD T sigmoid(T x) {
  // Stable for large |x|: never exponentiates a large positive number. No branch (float: exp_of
  // is straight-line), so loops over it vectorize.
  const T e = exp_of(-std::abs(x));
  const T inv = T(1) / (T(1) + e);
  return x >= T(0) ? inv : e * inv;
}

template <typename T>
FASTNN_HD T softplus(T x) {
  // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))
  return max_of(x, T(0)) + log1p_unit(exp_of(-std::abs(x)));
}

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;

template <typename T>
struct Linear {
  static constexpr bool kFromOutput = true;
  FASTNN_HD T fwd(T z) const { return z; }
  FASTNN_HD T grad(T, T) const { return T(1); }
};
template <typename T>
struct PlainRelu {
  static constexpr bool kFromOutput = true;
  FASTNN_HD T fwd(T z) const { return z > T(0) ? z : T(0); }
  FASTNN_HD T grad(T, T a) const { return a > T(0) ? T(1) : T(0); }
};

// Keras relu(x, negative_slope, max_value, threshold):
//   y = (x > threshold ? x : 0), clipped to [0, max_value] when max_value is set,
//   minus negative_slope * max(threshold - x, 0).
template <typename T>
struct GeneralRelu {
  T slope, maxv, thr;
  bool clip;
  FASTNN_HD T fwd(T z) const {
    T y = z > thr ? z : T(0);
    if (clip) y = min_of(max_of(y, T(0)), maxv);
    if (slope != T(0)) y -= slope * max_of(thr - z, T(0));
    return y;
  }
  FASTNN_HD T grad(T z, T) const {
    T g = T(0);
    if (z > thr) g = (!clip || (z > T(0) && z < maxv)) ? T(1) : T(0);
    if (slope != T(0) && thr - z > T(0)) g += slope;
    return g;
  }
};
template <typename T>
struct LeakyRelu {
  T alpha;
  FASTNN_HD T fwd(T z) const { return z >= T(0) ? z : alpha * z; }
  FASTNN_HD T grad(T z, T) const { return z >= T(0) ? T(1) : alpha; }
};
template <typename T>
struct Relu6 {
  FASTNN_HD T fwd(T z) const { return min_of(max_of(z, T(0)), T(6)); }
  FASTNN_HD T grad(T z, T) const { return (z > T(0) && z < T(6)) ? T(1) : T(0); }
};
template <typename T>
struct Elu {
  T alpha;
  FASTNN_HD T fwd(T z) const { return z > T(0) ? z : alpha * std::expm1(z); }
  FASTNN_HD T grad(T z, T) const { return z > T(0) ? T(1) : alpha * std::exp(z); }
};
template <typename T>
struct Selu {
  FASTNN_HD T fwd(T z) const {
    return T(kSeluScale) * (z > T(0) ? z : T(kSeluAlpha) * std::expm1(z));
  }
  FASTNN_HD T grad(T z, T) const {
    return z > T(0) ? T(kSeluScale) : T(kSeluScale * kSeluAlpha) * std::exp(z);
  }
};
template <typename T>
struct Gelu {
  FASTNN_HD T fwd(T z) const { return T(0.5) * z * (T(1) + std::erf(z * T(kInvSqrt2))); }
  FASTNN_HD T grad(T z, T) const {
    T cdf = T(0.5) * (T(1) + std::erf(z * T(kInvSqrt2)));
    T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * z * z);
    return cdf + z * pdf;
  }
};
template <typename T>
struct GeluTanh {
  FASTNN_HD T fwd(T z) const {
    T u = T(kSqrt2OverPi) * (z + T(0.044715) * z * z * z);
    return T(0.5) * z * (T(1) + std::tanh(u));
  }
  FASTNN_HD T grad(T z, T) const {
    T u = T(kSqrt2OverPi) * (z + T(0.044715) * z * z * z);
    T t = std::tanh(u);
    T du = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * z * z);
    return T(0.5) * (T(1) + t) + T(0.5) * z * (T(1) - t * t) * du;
  }
};
template <typename T>
struct Silu {
  FASTNN_HD T fwd(T z) const { return z * sigmoid(z); }
  FASTNN_HD T grad(T z, T) const {
    T s = sigmoid(z);
    return s * (T(1) + z * (T(1) - s));
  }
};
template <typename T>
struct Mish {
  FASTNN_HD T fwd(T z) const { return z * std::tanh(softplus(z)); }
  FASTNN_HD T grad(T z, T) const {
    T t = std::tanh(softplus(z));
    return t + z * (T(1) - t * t) * sigmoid(z);
  }
};
template <typename T>
struct Softplus {
  FASTNN_HD T fwd(T z) const { return softplus(z); }
  FASTNN_HD T grad(T z, T) const { return sigmoid(z); }
};
template <typename T>
struct Softsign {
  FASTNN_HD T fwd(T z) const { return z / (T(1) + std::abs(z)); }
  FASTNN_HD T grad(T z, T) const {
    T d = T(1) + std::abs(z);
    return T(1) / (d * d);
  }
};
template <typename T>
struct Sigmoid {
  static constexpr bool kFromOutput = true;
  FASTNN_HD T fwd(T z) const { return sigmoid(z); }
  FASTNN_HD T grad(T, T a) const { return a * (T(1) - a); }
};
template <typename T>
struct HardSigmoid {
  FASTNN_HD T fwd(T z) const { return min_of(max_of(z / T(6) + T(0.5), T(0)), T(1)); }
  FASTNN_HD T grad(T z, T) const { return (z > T(-3) && z < T(3)) ? T(1) / T(6) : T(0); }
};
template <typename T>
struct HardSilu {
  FASTNN_HD T fwd(T z) const { return z * min_of(max_of(z / T(6) + T(0.5), T(0)), T(1)); }
  FASTNN_HD T grad(T z, T) const {
    if (z <= T(-3)) return T(0);
    if (z >= T(3)) return T(1);
    return z / T(3) + T(0.5);
  }
};
template <typename T>
struct Tanh {
  static constexpr bool kFromOutput = true;
  FASTNN_HD T fwd(T z) const { return std::tanh(z); }
  FASTNN_HD T grad(T, T a) const { return T(1) - a * a; }
};
template <typename T>
struct Exponential {
  static constexpr bool kFromOutput = true;
  FASTNN_HD T fwd(T z) const { return std::exp(z); }
  FASTNN_HD T grad(T, T a) const { return a; }
};

// FromOutput<F>::value: F's derivative needs only a = f(z).
template <typename F, typename = void>
struct FromOutput {
  static constexpr bool value = false;
};
template <typename F>
struct FromOutput<F, std::void_t<decltype(F::kFromOutput)>> {
  static constexpr bool value = F::kFromOutput;
};

// Calls v(functor) for an element-wise kind and returns true; returns false for the row-wise kinds
// (and anything else), which the caller handles or rejects. Host code: a device backend uses it to
// pick the kernel instantiation to launch.
template <typename T, typename Visitor>
inline bool visit_elementwise(const Activation& f, Visitor&& v) {
  switch (f.kind) {
    case ActKind::Linear: v(Linear<T>{}); return true;
    case ActKind::Relu:
      if (f.is_plain_relu()) {
        v(PlainRelu<T>{});
      } else {
        v(GeneralRelu<T>{T(f.alpha), T(f.max_value), T(f.threshold), std::isfinite(f.max_value)});
      }
      return true;
    case ActKind::LeakyRelu: v(LeakyRelu<T>{T(f.alpha)}); return true;
    case ActKind::Relu6: v(Relu6<T>{}); return true;
    case ActKind::Elu: v(Elu<T>{T(f.alpha)}); return true;
    case ActKind::Selu: v(Selu<T>{}); return true;
    case ActKind::Gelu: v(Gelu<T>{}); return true;
    case ActKind::GeluTanh: v(GeluTanh<T>{}); return true;
    case ActKind::Silu: v(Silu<T>{}); return true;
    case ActKind::Mish: v(Mish<T>{}); return true;
    case ActKind::Softplus: v(Softplus<T>{}); return true;
    case ActKind::Softsign: v(Softsign<T>{}); return true;
    case ActKind::Sigmoid: v(Sigmoid<T>{}); return true;
    case ActKind::HardSigmoid: v(HardSigmoid<T>{}); return true;
    case ActKind::HardSilu: v(HardSilu<T>{}); return true;
    case ActKind::Tanh: v(Tanh<T>{}); return true;
    case ActKind::Exponential: v(Exponential<T>{}); return true;
    default: return false;
  }
}

// Row-wise kinds on one row of `cols` values (max-subtracted). a may alias z.
template <typename T>
FASTNN_HD void softmax_row(const T* z, T* a, size_t cols, bool log) {
  T m = z[0];
  for (size_t c = 1; c < cols; ++c) m = max_of(m, z[c]);
  T s = T(0);
  if (log) {
    for (size_t c = 0; c < cols; ++c) s += exp_of(z[c] - m);
    // (z - m) - log(s): rounding at the scale of the largest logit never enters.
    T ls = std::log(s);
    for (size_t c = 0; c < cols; ++c) a[c] = (z[c] - m) - ls;
  } else {
    for (size_t c = 0; c < cols; ++c) {
      T e = exp_of(z[c] - m);
      a[c] = e;
      s += e;
    }
    T inv = T(1) / s;
    for (size_t c = 0; c < cols; ++c) a[c] *= inv;
  }
}

// a = softmax(z): dz_i = a_i * (da_i - sum_j da_j a_j). dz may alias da.
template <typename T>
FASTNN_HD void softmax_row_backward(const T* a, const T* da, T* dz, size_t cols) {
  T dot = T(0);
  for (size_t c = 0; c < cols; ++c) dot += da[c] * a[c];
  for (size_t c = 0; c < cols; ++c) dz[c] = a[c] * (da[c] - dot);
}

// a = log softmax(z): dz_i = da_i - softmax_i * sum_j da_j. dz may alias da.
template <typename T>
FASTNN_HD void log_softmax_row_backward(const T* a, const T* da, T* dz, size_t cols) {
  T s = T(0);
  for (size_t c = 0; c < cols; ++c) s += da[c];
  for (size_t c = 0; c < cols; ++c) dz[c] = da[c] - std::exp(a[c]) * s;
}

}  // namespace math
}  // namespace fastnn
