// The trainer: runs chunks of training steps on a Network (the plan) and owns what only training
// needs, the optimizer and its state. One step is
//   gather the batch -> forward -> loss and dL/d(output) -> backward (parameter gradients)
//   -> reduce gradients -> regularizer gradients -> optimizer update,
// with no allocation per batch and no call back into the caller.
//
// The gradient-reduce hook sits between backward and the update: identity by default; an
// all-reduce under data parallelism (it must then sum in a fixed order, see DESIGN.md). Regularizer
// gradients are added after the reduction, so they count once however many ranks contribute.
//
// Threading: as Network (the caller holds the network's mutex exclusively while training).
#pragma once
#include <cstddef>
#include <cstdint>

#include "fastnn/network.h"
#include "fastnn/optimizers.h"

namespace fastnn {

struct ChunkResult {
  double loss_sum = 0;  // sum over batches of (batch loss * batch rows)
  size_t samples = 0;
  size_t batches = 0;
  double last_batch_loss = 0;
  bool nonfinite = false;  // some batch had a NaN or infinite loss
};

// How a training batch's loss and penalties are normalised. The default is Keras's: the weighted
// loss sum over the batch's rows, the regularizers' penalties as they are. scikit-learn's MLPs
// (per_weight_sum) divide both by the batch's weight sum S (its rows when unweighted), so that
// alpha's pull changes with the last partial batch and with sample weights, and skip a batch whose
// weights sum to zero (no step); loss_scale multiplies each sample's loss in the objective (and its
// gradient), report_scale in the reported batch loss (scikit-learn reports the squared error's mean
// over the outputs while its gradient is that of their sum).
struct Objective {
  bool per_weight_sum = false;
  double loss_scale = 1.0;
  double report_scale = 1.0;
};

// Replaces the gradient arena (n values) with its reduction across workers, in place.
template <typename T>
class GradientReducer {
 public:
  virtual ~GradientReducer() = default;
  virtual void reduce(T* grads, size_t n) = 0;
};

template <typename T>
class Trainer {
 public:
  explicit Trainer(Network<T>& net) : net_(net) {}
  Network<T>& network() { return net_; }

  Optimizer<T>& optimizer() { return opt_; }
  // Sets the optimizer (its state sized for the network's arena); resets the state when asked or
  // when the kind changes.
  void set_optimizer(const OptimizerConfig& c, bool reset);
  // Call after the network is built: sizes and resets the optimizer state for its arena.
  void network_built();
  // null: identity. The reducer is not owned and must outlive its use.
  void set_reducer(GradientReducer<T>* r) { reducer_ = r; }
  void set_objective(const Objective& o) { objective_ = o; }
  const Objective& objective() const { return objective_; }

  // Trains on batches [first_batch, first_batch + num_batches) of the row order `index` (null: rows
  // in order). Batch b holds rows index[b*bs ... min(n, (b+1)*bs)). Y has loss().label_cols(out)
  // columns; W (per-sample weights) may be null. pred_out, if set, receives each batch's outputs
  // (before its update) in batch order (zeros for a batch the objective skips). The returned loss_sum continues from loss_sum_start, so an
  // epoch's running sum is the same sequence of additions however the epoch is cut into chunks.
  ChunkResult train(const T* X, const T* Y, const T* W, size_t n, const int64_t* index,
                    size_t batch_size, size_t first_batch, size_t num_batches, T* pred_out,
                    double loss_sum_start = 0.0);

  // The manual loop's update: reduce the accumulated gradients, add the regularizers' gradients,
  // one optimizer step.
  void apply_gradients();

 private:
  void update(double reg_divisor = 1.0);
  // The batch's denominator under the objective: its rows, or the sum of its weights.
  double batch_denominator(const T* w, size_t rows) const;

  Network<T>& net_;
  Optimizer<T> opt_;
  GradientReducer<T>* reducer_ = nullptr;
  Objective objective_;
};

}  // namespace fastnn
