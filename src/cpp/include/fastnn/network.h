// A sequential network: owns its layers, the parameter / gradient arenas and the optimizer, and runs
// whole chunks of training natively (gather, forward, loss, backward, optimizer step) with no
// allocation per batch and no call back into the caller.
//
// Threading: the network itself is not locked; callers that share one network between threads take
// mutex() (shared for predict/evaluate, exclusive for anything that writes).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "fastnn/layers.h"
#include "fastnn/losses.h"
#include "fastnn/optimizers.h"
#include "fastnn/rng.h"

namespace fastnn {

class ThreadPool;

// Per-batch buffers for a given row capacity; allocated when a larger batch is first seen.
template <typename T>
struct Workspace {
  size_t cap = 0;
  bool training = false;  // inference workspaces hold no gradient or batch buffers
  std::vector<std::vector<T>> out, aux;  // per layer
  std::vector<T> x, y, w;                // gathered batch
  std::vector<T> g0, g1;                 // ping-pong gradient buffers
};

struct ChunkResult {
  double loss_sum = 0;   // sum over batches of (batch loss * batch rows)
  size_t samples = 0;
  size_t batches = 0;
  double last_batch_loss = 0;
  bool nonfinite = false;  // some batch had a NaN or infinite loss
};

template <typename T>
class Network {
 public:
  explicit Network(size_t input_dim, uint64_t seed = 0);

  size_t input_dim() const { return input_dim_; }
  size_t output_dim() const { return layers_.empty() ? input_dim_ : layers_.back()->out_dim(); }
  size_t num_layers() const { return layers_.size(); }
  Layer<T>& layer(size_t i) { return *layers_.at(i); }

  // Appends a layer; its input width must equal the current output width. Only before build().
  void add_layer(std::unique_ptr<Layer<T>> layer);
  // Lays out the arenas and runs every variable's initializer.
  void build();
  bool built() const { return built_; }

  std::vector<T>& params() { return params_; }
  std::vector<T>& grads() { return grads_; }
  // One entry per variable (layer order, then each layer's params order).
  const std::vector<Segment>& segments() const { return segments_; }
  const ParamSpec& spec(size_t var) const;
  void set_layer_trainable(size_t i, bool trainable);

  void set_loss(const Loss& loss);
  const Loss& loss() const { return loss_; }
  // True when the loss is computed from the last layer's logits (sigmoid + binary cross-entropy,
  // softmax + categorical / sparse categorical cross-entropy).
  bool fused_loss() const { return fused_; }
  // Estimated forward cost per sample (flop), for sizing work between returns to the caller.
  double flops_per_row() const { return flops_per_row_; }
  Optimizer<T>& optimizer() { return opt_; }
  void set_optimizer(const OptimizerConfig& c, bool reset) { opt_.configure(c, params_.size(), reset); }
  Rng& rng() { return rng_; }
  void set_pool(ThreadPool* pool) {
    pool_ = pool;
    opt_.set_pool(pool);
  }

  // Fisher-Yates permutation of [0, n) from the network's generator.
  void shuffle(int64_t* perm, size_t n);

  // Trains on batches [first_batch, first_batch + num_batches) of the row order `index` (null: rows
  // in order). Batch b holds rows index[b*bs ... min(n, (b+1)*bs)). Y has loss().label_cols(out)
  // columns; W (per-sample weights) may be null. pred_out, if set, receives each batch's outputs
  // (before its update) in batch order. The returned loss_sum continues from loss_sum_start, so an
  // epoch's running sum is the same sequence of additions however the epoch is cut into chunks.
  ChunkResult train(const T* X, const T* Y, const T* W, size_t n, const int64_t* index,
                    size_t batch_size, size_t first_batch, size_t num_batches, T* pred_out,
                    double loss_sum_start = 0.0);

  // Inference on n rows into out (n x output_dim). Rows are independent: the result for a row does
  // not depend on the other rows or on the thread count.
  void predict(const T* X, size_t n, T* out);
  // Returns sum_i w_i * loss_i over the n rows (inference mode); pred_out (n x output_dim) and
  // per_sample_out (n: each w_i * loss_i) may be null.
  double evaluate(const T* X, const T* Y, const T* W, size_t n, T* pred_out,
                  T* per_sample_out = nullptr);
  // Sum of the regularizers' penalties at the current weights.
  double regularization_loss() const;

  // The step in pieces (the manual training loop): forward with the inputs cached, the loss and its
  // gradient on the cached outputs, backward accumulating into grads(), then the optimizer step.
  const T* forward_cached(const T* X, size_t n, bool training);
  size_t cached_rows() const { return cached_rows_; }
  double loss_cached(const Loss& loss, const T* Y, const T* W, bool use_fusion);
  void backward_cached(const T* dout, bool accumulate);  // dout null: the gradient of loss_cached
  void zero_grad();
  void apply_gradients();  // regularizer gradients + one optimizer step

  std::shared_mutex& mutex() const { return mu_; }
  void reset_locks_after_fork();

 private:
  void ensure(Workspace<T>& ws, size_t rows, bool training = true) const;
  // Inference workspaces are reused across calls (no allocation per predict in steady state).
  std::unique_ptr<Workspace<T>> acquire_workspace();
  void release_workspace(std::unique_ptr<Workspace<T>> ws);
  template <typename F>
  void for_row_blocks(size_t n, size_t block, F&& f);
  const T* forward(Workspace<T>& ws, const T* x, size_t rows, bool training, ThreadPool* pool);
  void backward(Workspace<T>& ws, const T* x, size_t rows, bool preact, bool accumulate);
  const T* loss_input(const Workspace<T>& ws, const T* x) const;
  void add_regularization_grads();
  Loss effective_loss(const Loss& l, bool use_fusion) const;
  bool fusable(const Loss& l) const;

  size_t input_dim_;
  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<ParamSpec*> specs_;
  std::vector<Segment> segments_;
  std::vector<T> params_, grads_;
  bool built_ = false;
  bool has_regularizers_ = false;
  double flops_per_row_ = 0;  // forward cost estimate, to decide when threads pay off
  Loss loss_;
  bool fused_ = false;
  Optimizer<T> opt_;
  Rng rng_;
  ThreadPool* pool_ = nullptr;
  Workspace<T> ws_;         // training / manual loop
  size_t cached_rows_ = 0;
  bool cached_fused_ = false;
  mutable std::shared_mutex mu_;
  std::mutex ws_pool_mu_;
  std::vector<std::unique_ptr<Workspace<T>>> ws_pool_;
};

}  // namespace fastnn
