// Loss over a batch: the loop over samples and the reduction (see losses.h); the per-sample
// formulas are in math/loss_fn.h.
#include "fastnn/losses.h"

#include <cmath>
#include <string>

#include "fastnn/common.h"
#include "fastnn/math/loss_fn.h"

namespace fastnn {
namespace {

constexpr size_t kBlock = 256;  // elements per pass of elementwise_rows

// An element-wise loss over rows of cols values, the same arithmetic as math::loss_row row by row
// but in passes over up to kBlock elements of one kind: the terms in one loop with no switch (it
// vectorises), then the per-row sums in order.
template <LossKind K, typename T>
double elementwise_rows(const Loss& L, const T* pred, const T* y, const T* w, size_t rows,
                        size_t cols, double inv_n, bool hinge01, T* grad, T* loss_out) {
  T v[kBlock], d[kBlock];
  const size_t per = kBlock / cols;
  const T inv_c = T(1) / T(cols);
  double total = 0;
  for (size_t r0 = 0; r0 < rows; r0 += per) {
    const size_t nr = rows - r0 < per ? rows - r0 : per, n = nr * cols;
    const T* p = pred + r0 * cols;
    const T* t = y + r0 * cols;
    for (size_t e = 0; e < n; ++e) math::elementwise_loss_term_of<K>(L, p[e], t[e], hinge01, v[e], d[e]);
    for (size_t i = 0; i < nr; ++i) {
      const double wi = w ? double(w[r0 + i]) : 1.0;
      const T s = T(wi * inv_n);
      double acc = 0;
      for (size_t j = 0; j < cols; ++j) acc += double(v[i * cols + j]);
      if (grad) {
        T* g = grad + (r0 + i) * cols;
        for (size_t j = 0; j < cols; ++j) g[j] = d[i * cols + j] * inv_c * s;
      }
      const double vi = acc / double(cols) * wi;
      if (loss_out) loss_out[r0 + i] = T(vi);
      total += vi;
    }
  }
  return total;
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
  const bool sparse = L.kind == LossKind::SparseCategoricalCrossentropy;
  const double inv_n = 1.0 / denominator;
  double total = 0;
  if (yc == cols && cols > 0 && cols <= kBlock) {
    bool done = false;
    math::visit_elementwise_loss(L.kind, [&](auto k) {
      total = elementwise_rows<decltype(k)::value>(L, pred, y, w, rows, cols, inv_n, hinge01, grad,
                                                   loss_out);
      done = true;
    });
    if (done) return total;
  }
  for (size_t i = 0; i < rows; ++i) {
    const T* p = pred + i * cols;
    const T* t = y + i * yc;
    T* g = grad ? grad + i * cols : nullptr;
    const double wi = w ? double(w[i]) : 1.0;
    const T s = T(wi * inv_n);
    double v;
    if (sparse) {
      const double lf = double(t[0]);
      if (!(lf >= 0 && lf < double(cols)) || lf != std::floor(lf))
        throw ValueError("sparse_categorical_crossentropy: labels must be integers in [0, " +
                         std::to_string(cols) + "), got " + std::to_string(lf));
      v = math::sparse_ce_row(L, p, size_t(lf), cols, g, s);
    } else {
      v = math::loss_row(L, p, t, cols, g, s, hinge01);
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
                                              const double*, size_t, size_t, double, double*,
                                              double*);

}  // namespace fastnn
