// Activation loops over blocks of a matrix; the per-element formulas are in math/activation_fn.h.
#include "fastnn/activations.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "fastnn/common.h"
#include "fastnn/math/activation_fn.h"

namespace fastnn {
namespace {

using namespace math;

template <typename T, typename F>
void map_forward(const F& f, const T* z, size_t ldz, T* a, size_t lda, size_t rows, size_t cols) {
  if (ldz == cols && lda == cols) {  // contiguous: one long loop (a one-column output vectorises)
    cols *= rows;
    rows = 1;
  }
  for (size_t r = 0; r < rows; ++r) {
    const T* zr = z + r * ldz;
    T* ar = a + r * lda;
#pragma GCC ivdep
    for (size_t c = 0; c < cols; ++c) ar[c] = f.fwd(zr[c]);
  }
}

// The inner loops carry no pointer tests, so the compiler can vectorise the simple kinds.
template <typename T, typename F>
void map_backward(const F& f, const T* z, const T* a, const T* da, T* dz, size_t rows, size_t cols,
                  size_t ld) {
  if (ld == cols) {
    cols *= rows;
    rows = 1;
  }
  for (size_t r = 0; r < rows; ++r) {
    const size_t o = r * ld;
    const T* g = da + o;
    T* out = dz + o;
    if constexpr (std::is_same_v<F, PlainRelu<T>>) {
      // A bit mask, not a multiply or a branch: no arithmetic on (possibly subnormal) gradients
      // that are dropped, no mispredicted branches, and the loop vectorises.
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
  if (!visit_elementwise<T>(f, v)) throw ValueError("activation: not an elementwise activation");
}

template <typename T>
void softmax_rows(const T* z, size_t ldz, T* a, size_t lda, size_t rows, size_t cols, bool log) {
  for (size_t r = 0; r < rows; ++r) softmax_row(z + r * ldz, a + r * lda, cols, log);
}

}  // namespace

bool Activation::derivative_from_output() const {
  switch (kind) {
    case ActKind::Linear:
    case ActKind::Sigmoid:
    case ActKind::Tanh:
    case ActKind::Exponential:
    case ActKind::Softmax:
    case ActKind::LogSoftmax: return true;
    case ActKind::Relu: return is_plain_relu();
    default: return false;
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
    for (size_t r = 0; r < rows; ++r)
      softmax_row_backward(a + r * ld, da + r * ld, dz + r * ld, cols);
    return;
  }
  if (f.kind == ActKind::LogSoftmax) {
    for (size_t r = 0; r < rows; ++r)
      log_softmax_row_backward(a + r * ld, da + r * ld, dz + r * ld, cols);
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
