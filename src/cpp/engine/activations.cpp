// Activation functions: forward and derivative (Keras 3 definitions).
#include "fastnn/activations.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "fastnn/common.h"

namespace fastnn {
namespace {

template <typename T>
inline T sigmoid(T x) {
  // Stable for large |x|: never exponentiates a large positive number.
  if (x >= T(0)) {
    T e = std::exp(-x);
    return T(1) / (T(1) + e);
  }
  T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename T>
inline T softplus(T x) {
  // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))
  return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;

// Each functor: fwd(z) and grad(z, a) = f'(z) (a = f(z), valid when needed).
template <typename T>
struct Linear {
  static constexpr bool kFromOutput = true;
  T fwd(T z) const { return z; }
  T grad(T, T) const { return T(1); }
};
template <typename T>
struct PlainRelu {
  static constexpr bool kFromOutput = true;
  T fwd(T z) const { return z > T(0) ? z : T(0); }
  T grad(T, T a) const { return a > T(0) ? T(1) : T(0); }
};

// Keras relu(x, negative_slope, max_value, threshold):
//   y = (x > threshold ? x : 0), clipped to [0, max_value] when max_value is set,
//   minus negative_slope * max(threshold - x, 0).
template <typename T>
struct GeneralRelu {
  T slope, maxv, thr;
  bool clip;
  T fwd(T z) const {
    T y = z > thr ? z : T(0);
    if (clip) y = std::min(std::max(y, T(0)), maxv);
    if (slope != T(0)) y -= slope * std::max(thr - z, T(0));
    return y;
  }
  T grad(T z, T) const {
    T g = T(0);
    if (z > thr) g = (!clip || (z > T(0) && z < maxv)) ? T(1) : T(0);
    if (slope != T(0) && thr - z > T(0)) g += slope;
    return g;
  }
};
template <typename T>
struct LeakyRelu {
  T alpha;
  T fwd(T z) const { return z >= T(0) ? z : alpha * z; }
  T grad(T z, T) const { return z >= T(0) ? T(1) : alpha; }
};
template <typename T>
struct Relu6 {
  T fwd(T z) const { return std::min(std::max(z, T(0)), T(6)); }
  T grad(T z, T) const { return (z > T(0) && z < T(6)) ? T(1) : T(0); }
};
template <typename T>
struct Elu {
  T alpha;
  T fwd(T z) const { return z > T(0) ? z : alpha * std::expm1(z); }
  T grad(T z, T) const { return z > T(0) ? T(1) : alpha * std::exp(z); }
};
template <typename T>
struct Selu {
  T fwd(T z) const {
    return T(kSeluScale) * (z > T(0) ? z : T(kSeluAlpha) * std::expm1(z));
  }
  T grad(T z, T) const {
    return z > T(0) ? T(kSeluScale) : T(kSeluScale * kSeluAlpha) * std::exp(z);
  }
};
template <typename T>
struct Gelu {
  T fwd(T z) const { return T(0.5) * z * (T(1) + std::erf(z * T(kInvSqrt2))); }
  T grad(T z, T) const {
    T cdf = T(0.5) * (T(1) + std::erf(z * T(kInvSqrt2)));
    T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * z * z);
    return cdf + z * pdf;
  }
};
template <typename T>
struct GeluTanh {
  T fwd(T z) const {
    T u = T(kSqrt2OverPi) * (z + T(0.044715) * z * z * z);
    return T(0.5) * z * (T(1) + std::tanh(u));
  }
  T grad(T z, T) const {
    T u = T(kSqrt2OverPi) * (z + T(0.044715) * z * z * z);
    T t = std::tanh(u);
    T du = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * z * z);
    return T(0.5) * (T(1) + t) + T(0.5) * z * (T(1) - t * t) * du;
  }
};
template <typename T>
struct Silu {
  T fwd(T z) const { return z * sigmoid(z); }
  T grad(T z, T) const {
    T s = sigmoid(z);
    return s * (T(1) + z * (T(1) - s));
  }
};
template <typename T>
struct Mish {
  T fwd(T z) const { return z * std::tanh(softplus(z)); }
  T grad(T z, T) const {
    T t = std::tanh(softplus(z));
    return t + z * (T(1) - t * t) * sigmoid(z);
  }
};
template <typename T>
struct Softplus {
  T fwd(T z) const { return softplus(z); }
  T grad(T z, T) const { return sigmoid(z); }
};
template <typename T>
struct Softsign {
  T fwd(T z) const { return z / (T(1) + std::abs(z)); }
  T grad(T z, T) const {
    T d = T(1) + std::abs(z);
    return T(1) / (d * d);
  }
};
template <typename T>
struct Sigmoid {
  static constexpr bool kFromOutput = true;
  T fwd(T z) const { return sigmoid(z); }
  T grad(T, T a) const { return a * (T(1) - a); }
};
template <typename T>
struct HardSigmoid {
  T fwd(T z) const { return std::min(std::max(z / T(6) + T(0.5), T(0)), T(1)); }
  T grad(T z, T) const { return (z > T(-3) && z < T(3)) ? T(1) / T(6) : T(0); }
};
template <typename T>
struct HardSilu {
  T fwd(T z) const { return z * std::min(std::max(z / T(6) + T(0.5), T(0)), T(1)); }
  T grad(T z, T) const {
    if (z <= T(-3)) return T(0);
    if (z >= T(3)) return T(1);
    return z / T(3) + T(0.5);
  }
};
template <typename T>
struct Tanh {
  static constexpr bool kFromOutput = true;
  T fwd(T z) const { return std::tanh(z); }
  T grad(T, T a) const { return T(1) - a * a; }
};
template <typename T>
struct Exponential {
  static constexpr bool kFromOutput = true;
  T fwd(T z) const { return std::exp(z); }
  T grad(T, T a) const { return a; }
};

template <typename T, typename F>
void map_forward(const F& f, const T* z, size_t ldz, T* a, size_t lda, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    const T* zr = z + r * ldz;
    T* ar = a + r * lda;
#pragma GCC ivdep
    for (size_t c = 0; c < cols; ++c) ar[c] = f.fwd(zr[c]);
  }
}

template <typename F, typename = void>
struct FromOutput {
  static constexpr bool value = false;
};
template <typename F>
struct FromOutput<F, std::void_t<decltype(F::kFromOutput)>> {
  static constexpr bool value = F::kFromOutput;
};

// The inner loops carry no pointer tests, so the compiler can vectorise the simple kinds.
template <typename T, typename F>
void map_backward(const F& f, const T* z, const T* a, const T* da, T* dz, size_t rows, size_t cols,
                  size_t ld) {
  for (size_t r = 0; r < rows; ++r) {
    const size_t o = r * ld;
    const T* g = da + o;
    T* out = dz + o;
    if constexpr (std::is_same_v<F, PlainRelu<T>>) {
      // A bit mask, not a multiply or a branch: no arithmetic on (possibly subnormal) gradients that
      // are dropped, no mispredicted branches, and the loop vectorises.
      using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
      const T* ar = a + o;
#pragma GCC ivdep
      for (size_t c = 0; c < cols; ++c) {
        U gb;
        std::memcpy(&gb, &g[c], sizeof(T));
        gb &= U(0) - U(ar[c] > T(0));
        std::memcpy(&out[c], &gb, sizeof(T));
      }
    } else if constexpr (FromOutput<F>::value) {
      const T* ar = a + o;
#pragma GCC ivdep
      for (size_t c = 0; c < cols; ++c) out[c] = g[c] * f.grad(T(0), ar[c]);
    } else {
      const T* zr = z + o;
#pragma GCC ivdep
      for (size_t c = 0; c < cols; ++c) out[c] = g[c] * f.grad(zr[c], T(0));
    }
  }
}

template <typename T, typename Visitor>
void visit(const Activation& f, Visitor&& v) {
  switch (f.kind) {
    case ActKind::Linear: return v(Linear<T>{});
    case ActKind::Relu:
      if (f.is_plain_relu()) return v(PlainRelu<T>{});
      return v(GeneralRelu<T>{T(f.alpha), T(f.max_value), T(f.threshold), std::isfinite(f.max_value)});
    case ActKind::LeakyRelu: return v(LeakyRelu<T>{T(f.alpha)});
    case ActKind::Relu6: return v(Relu6<T>{});
    case ActKind::Elu: return v(Elu<T>{T(f.alpha)});
    case ActKind::Selu: return v(Selu<T>{});
    case ActKind::Gelu: return v(Gelu<T>{});
    case ActKind::GeluTanh: return v(GeluTanh<T>{});
    case ActKind::Silu: return v(Silu<T>{});
    case ActKind::Mish: return v(Mish<T>{});
    case ActKind::Softplus: return v(Softplus<T>{});
    case ActKind::Softsign: return v(Softsign<T>{});
    case ActKind::Sigmoid: return v(Sigmoid<T>{});
    case ActKind::HardSigmoid: return v(HardSigmoid<T>{});
    case ActKind::HardSilu: return v(HardSilu<T>{});
    case ActKind::Tanh: return v(Tanh<T>{});
    case ActKind::Exponential: return v(Exponential<T>{});
    default: throw ValueError("activation: not an elementwise activation");
  }
}

template <typename T>
void softmax_rows(const T* z, size_t ldz, T* a, size_t lda, size_t rows, size_t cols, bool log) {
  for (size_t r = 0; r < rows; ++r) {
    const T* zr = z + r * ldz;
    T* ar = a + r * lda;
    T m = zr[0];
    for (size_t c = 1; c < cols; ++c) m = std::max(m, zr[c]);
    T s = T(0);
    if (log) {
      for (size_t c = 0; c < cols; ++c) s += std::exp(zr[c] - m);
      // (z - m) - log(s): rounding at the scale of the largest logit never enters.
      T ls = std::log(s);
      for (size_t c = 0; c < cols; ++c) ar[c] = (zr[c] - m) - ls;
    } else {
      for (size_t c = 0; c < cols; ++c) {
        T e = std::exp(zr[c] - m);
        ar[c] = e;
        s += e;
      }
      T inv = T(1) / s;
      for (size_t c = 0; c < cols; ++c) ar[c] *= inv;
    }
  }
}

}  // namespace

bool Activation::derivative_from_output() const {
  switch (kind) {
    case ActKind::Linear:
    case ActKind::Sigmoid:
    case ActKind::Tanh:
    case ActKind::Exponential:
    case ActKind::Softmax:
    case ActKind::LogSoftmax:
      return true;
    case ActKind::Relu:
      return is_plain_relu();
    default:
      return false;
  }
}

template <typename T>
void activation_forward(const Activation& f, const T* z, size_t ldz, T* a, size_t lda, size_t rows,
                        size_t cols) {
  if (rows == 0 || cols == 0) return;
  if (f.rowwise()) {
    softmax_rows(z, ldz, a, lda, rows, cols, f.kind == ActKind::LogSoftmax);
    return;
  }
  visit<T>(f, [&](const auto& fn) { map_forward(fn, z, ldz, a, lda, rows, cols); });
}

template <typename T>
void activation_backward(const Activation& f, const T* z, const T* a, const T* da, T* dz,
                         size_t rows, size_t cols, size_t ld) {
  if (rows == 0 || cols == 0) return;
  if (f.kind == ActKind::Softmax) {
    // dz_i = a_i * (da_i - sum_j da_j a_j)
    for (size_t r = 0; r < rows; ++r) {
      const T* ar = a + r * ld;
      const T* g = da + r * ld;
      T* o = dz + r * ld;
      T dot = T(0);
      for (size_t c = 0; c < cols; ++c) dot += g[c] * ar[c];
      for (size_t c = 0; c < cols; ++c) o[c] = ar[c] * (g[c] - dot);
    }
    return;
  }
  if (f.kind == ActKind::LogSoftmax) {
    // a = log softmax(z): dz_i = da_i - softmax_i * sum_j da_j
    for (size_t r = 0; r < rows; ++r) {
      const T* ar = a + r * ld;
      const T* g = da + r * ld;
      T* o = dz + r * ld;
      T s = T(0);
      for (size_t c = 0; c < cols; ++c) s += g[c];
      for (size_t c = 0; c < cols; ++c) o[c] = g[c] - std::exp(ar[c]) * s;
    }
    return;
  }
  if (f.kind == ActKind::Linear) {
    if (dz != da)
      for (size_t r = 0; r < rows; ++r) std::copy(da + r * ld, da + r * ld + cols, dz + r * ld);
    return;
  }
  visit<T>(f, [&](const auto& fn) { map_backward(fn, z, a, da, dz, rows, cols, ld); });
}

template void activation_forward<float>(const Activation&, const float*, size_t, float*, size_t,
                                        size_t, size_t);
template void activation_forward<double>(const Activation&, const double*, size_t, double*, size_t,
                                         size_t, size_t);
template void activation_backward<float>(const Activation&, const float*, const float*,
                                         const float*, float*, size_t, size_t, size_t);
template void activation_backward<double>(const Activation&, const double*, const double*,
                                          const double*, double*, size_t, size_t, size_t);

}  // namespace fastnn
