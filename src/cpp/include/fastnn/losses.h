// Losses: per-sample value and gradient, with Keras 3 definitions and reduction.
//
// Reduction (Keras "sum_over_batch_size"): each sample's loss is reduced over the last axis (mean
// for the elementwise losses, sum for the categorical ones), multiplied by its sample weight,
// summed over the batch and divided by the batch size N. The gradient written is d(that
// value)/d(y_pred).
//
// Fused logits: when the model's last activation is sigmoid and the loss binary cross-entropy, or
// softmax and (sparse) categorical cross-entropy, the network passes the logits z and sets
// from_logits; the loss is then computed from z (stable for any |z|) and the gradient is w (p - y)
// / N (divided by the output width for binary cross-entropy's mean over the last axis).
#pragma once
#include <cstddef>

namespace fastnn {

enum class LossKind : int {
  MeanSquaredError = 0,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  Huber,
  LogCosh,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
  KLDivergence,
  Poisson,
  CosineSimilarity,
};

// Names of the kinds, indexed by the enum's value (Keras's function names).
inline constexpr const char* kLossNames[] = {"mean_squared_error",
                                             "mean_absolute_error",
                                             "mean_absolute_percentage_error",
                                             "mean_squared_logarithmic_error",
                                             "huber",
                                             "log_cosh",
                                             "binary_crossentropy",
                                             "categorical_crossentropy",
                                             "sparse_categorical_crossentropy",
                                             "hinge",
                                             "squared_hinge",
                                             "categorical_hinge",
                                             "kl_divergence",
                                             "poisson",
                                             "cosine_similarity"};
static_assert(sizeof(kLossNames) / sizeof(kLossNames[0]) == size_t(LossKind::CosineSimilarity) + 1,
              "one name per loss kind");

struct Loss {
  LossKind kind = LossKind::MeanSquaredError;
  bool from_logits = false;
  double label_smoothing = 0.0;
  double delta = 1.0;  // huber
  // Number of label columns the loss expects per sample given `cols` outputs.
  size_t label_cols(size_t cols) const {
    return kind == LossKind::SparseCategoricalCrossentropy ? 1 : cols;
  }
};

// pred: rows x cols (ld = cols); y: rows x label_cols (dense); w: per-sample weights or null.
// loss_out: per-sample weighted loss before the division by N (may be null).
// grad: rows x cols, d(sum_i w_i l_i / N)/d pred (may be null). N = `denominator`.
// Returns sum_i w_i l_i (in double).
template <typename T>
double loss_forward_backward(const Loss& loss, const T* pred, const T* y, const T* w, size_t rows,
                             size_t cols, double denominator, T* grad, T* loss_out = nullptr);

}  // namespace fastnn
