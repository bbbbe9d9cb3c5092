// Loss over a batch: the loop over samples and the reduction (see losses.h); the per-sample
// formulas are in math/loss_fn.h.
#include "fastnn/losses.h"

#include <cmath>
#include <string>

#include "fastnn/common.h"
#include "fastnn/math/loss_fn.h"

namespace fastnn {

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
