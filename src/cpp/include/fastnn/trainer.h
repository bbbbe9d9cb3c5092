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
#include <vector>

#include "fastnn/network.h"
#include "fastnn/optimizers.h"
#include "fastnn/small_step.h"

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

// Data parallelism's one collective: every rank contributes `bytes` bytes and recv (size() * bytes)
// receives all contributions in rank order. Called on the training thread once per step; it may
// block, and throws (a timeout, a failed peer) to abort the chunk. Not owned by the trainer.
class Collective {
 public:
  virtual ~Collective() = default;
  virtual size_t rank() const = 0;
  virtual size_t size() const = 0;
  virtual void all_gather(const void* send, size_t bytes, void* recv) = 0;
};

// Sharded steps: the same bits on 1, 2, ... ranks. A batch of `rows` rows is cut into shards of
// shard_rows rows (the last may be shorter); the tree has `slots` leaves, the smallest power of two
// >= the shard count of a full batch, and slot s holds shard s (or nothing past the last shard).
// The batch gradient is the binary-tree sum over the slots (an empty subtree adds nothing), each
// shard's gradient being that of its rows' loss over the batch's denominator (its `rows`, or
// its weight sum under scikit-learn's objective). Ranks own aligned
// subtrees ("blocks": `slots / blocks` slots each, `blocks` the smallest power of two >= the rank
// count, capped at `slots`), exchange their block sums, shard losses and outputs in one all-gather,
// and every rank sums the blocks in the same tree: the result never depends on the rank or thread
// count. Dropout masks are drawn per global row (LayerCtx::row_streams), from one key per batch.
struct ShardLayout {
  size_t shards = 0;           // present shards of this batch
  size_t slots = 0, blocks = 0, block_slots = 0;
  size_t blocks_per_rank = 0;  // the most any rank owns (the payload is padded to it)
  size_t first_block(size_t rank, size_t ranks) const { return rank * blocks / ranks; }
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
  // The fused step for small Dense chains (small_step.h) where it applies; on by default. Off
  // only to compare it with the general path (they give the same bits).
  void set_small_step(bool on) { small_on_ = on; }
  bool small_step() const { return small_on_; }
  // Whether the last train() call took the fused step.
  bool small_step_used() const { return small_used_; }
  void set_objective(const Objective& o) { objective_ = o; }
  const Objective& objective() const { return objective_; }
  // shard_rows 0: off (one pass over the batch). comm null: one process (the reference the
  // ranks reproduce). The collective is not owned and must outlive its use.
  void set_sharding(size_t shard_rows, Collective* comm) {
    shard_rows_ = shard_rows;
    comm_ = comm;
  }
  size_t shard_rows() const { return shard_rows_; }
  static ShardLayout shard_layout(size_t rows, size_t full_rows, size_t shard_rows, size_t ranks);

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
  // One sharded step on the batch rows at (x, y, w) or, with index, rows index[0..rows) of X:
  // leaves the reduced gradient in the arena; returns the batch's loss sum; writes the batch's
  // outputs to pred (may be null). Each shard's loss gradient is divided by loss_denom (the
  // objective's denominator over the whole batch: its rows under Keras's objective).
  double sharded_step(const T* X, const T* Y, const T* W, const int64_t* index, size_t rows,
                      size_t full_rows, T* pred, double loss_denom);
  // The tree sum of slots [lo, lo + size) of this rank's shards into dst.
  void shard_subtree(size_t lo, size_t size, size_t depth, T* dst);

  Network<T>& net_;
  size_t shard_rows_ = 0;
  Collective* comm_ = nullptr;
  // sharded step state (buffers grown once, reused)
  struct ShardStep {
    const T *X, *Y, *W;
    const int64_t* index;
    size_t rows, shards, first_slot_of_rank;
    double* losses;  // this rank's slots, in slot order
    T* preds;        // this rank's slots' outputs (null: not wanted)
  } st_{};
  std::vector<std::vector<T>> tree_tmp_;
  std::vector<unsigned char> send_, recv_;
  Optimizer<T> opt_;
  GradientReducer<T>* reducer_ = nullptr;
  SmallStep<T> small_;  // the fused step for small Dense chains, planned per chunk
  bool small_on_ = true;
  bool small_used_ = false;
  Objective objective_;
};

}  // namespace fastnn
