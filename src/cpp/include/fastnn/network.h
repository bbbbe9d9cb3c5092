// A sequential network: the plan. It owns its layers and the parameter / gradient arenas, and runs
// forward and backward passes (backward with flags: the input gradient, parameter gradients) with
// no allocation per batch and no call back into the caller. Training chunks, the optimizer and the
// gradient-reduce hook live in the Trainer beside it (trainer.h). The arithmetic goes through a
// Backend (backend.h; the CPU one by default).
//
// Threading: the network itself is not locked; callers that share one network between threads take
// mutex() (shared for predict/evaluate/input_gradient, exclusive for anything that writes).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "fastnn/backend.h"
#include "fastnn/layers.h"
#include "fastnn/losses.h"
#include "fastnn/rng.h"

namespace fastnn {

class ThreadPool;

// Per-batch buffers for a given row capacity; allocated when a larger batch is first seen.
template <typename T>
struct Workspace {
  size_t cap = 0;
  bool training = false;                 // inference workspaces hold no gradient or batch buffers
  std::vector<std::vector<T>> out, aux;  // per layer
  std::vector<T> x, y, w;                // gathered batch
  std::vector<T> g0, g1;                 // ping-pong gradient buffers
};

// What a backward pass computes besides propagating the gradient through the layers.
struct BackwardFlags {
  bool input_grad = false;  // dL/dx for the network's input (returned by backward)
  bool param_grads = true;  // parameter gradients into grads() (trainable variables only)
  bool accumulate = false;  // add parameter gradients to grads() instead of overwriting them
  bool training = true;     // the mode of the forward pass being differentiated
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
  Rng& rng() { return rng_; }
  // Mixed precision: Dense layers' matrix products with bfloat16 inputs and float32 accumulation
  // (gemm_bf16); parameters, gradients, optimizer state and the loss stay in T.
  void set_bf16_matmul(bool on) { bf16_ = on; }
  bool bf16_matmul() const { return bf16_; }
  void set_pool(ThreadPool* pool) { pool_ = pool; }
  ThreadPool* pool() const { return pool_; }
  const Backend<T>& backend() const { return *backend_; }

  // Fisher-Yates permutation of [0, n) from the network's generator.
  void shuffle(int64_t* perm, size_t n);

  // Inference on n rows into out (n x output_dim). Rows are independent: the result for a row does
  // not depend on the other rows or on the thread count.
  void predict(const T* X, size_t n, T* out);
  // Returns sum_i w_i * loss_i over the n rows (inference mode); pred_out (n x output_dim) and
  // per_sample_out (n: each w_i * loss_i) may be null.
  double evaluate(const T* X, const T* Y, const T* W, size_t n, T* pred_out,
                  T* per_sample_out = nullptr);
  // Sum of the regularizers' penalties at the current weights, divided by `divisor` (1 for Keras;
  // scikit-learn's MLPs divide by the batch's weight sum, see Trainer's Objective).
  double regularization_loss(double divisor = 1.0) const;
  // Adds the regularizers' gradients, divided by `divisor`, to grads() (trainable variables only).
  void add_regularization_grads(double divisor = 1.0);

  // The gradient of sum(output * weights) with respect to the input, for n rows (inference mode,
  // no parameter gradients written): out is n x input_dim, weights n x output_dim. Rows are
  // independent, as for predict.
  void input_gradient(const T* X, const T* weights, size_t n, T* out);

  // The step in pieces (the manual training loop): forward with the inputs cached, the loss and its
  // gradient on the cached outputs, backward accumulating into grads(), then the optimizer step.
  const T* forward_cached(const T* X, size_t n, bool training);
  size_t cached_rows() const { return cached_rows_; }
  double loss_cached(const Loss& loss, const T* Y, const T* W, bool use_fusion);
  void backward_cached(const T* dout, bool accumulate);  // dout null: the gradient of loss_cached
  void zero_grad();
  void invalidate_cache() { cached_rows_ = 0; }

  // The passes, for the Trainer: the training workspace sized for `rows`; forward on it; the loss's
  // input (the logits when the loss is fused, else the outputs); backward from ws.g0, which holds
  // dL/d(output) (dL/dz of the last layer when `preact`). backward returns the input gradient
  // (inside ws) when flags.input_grad, else null.
  Workspace<T>& train_workspace(size_t rows);
  const T* forward(Workspace<T>& ws, const T* x, size_t rows, bool training, ThreadPool* pool);
  // grads_out (null: grads()) receives the parameter gradients instead of the arena.
  const T* backward(Workspace<T>& ws, const T* x, size_t rows, bool preact, const BackwardFlags& f,
                    ThreadPool* pool, T* grads_out = nullptr);
  // Dropout masks per global row for the following forward passes (see LayerCtx::row_streams).
  void set_row_streams(bool on, uint64_t key = 0, size_t row0 = 0) {
    row_streams_ = on;
    row_key_ = key;
    row0_ = row0;
  }
  const T* loss_input(const Workspace<T>& ws, const T* x) const;
  Loss effective_loss(const Loss& l, bool use_fusion) const;

  std::shared_mutex& mutex() const { return mu_; }
  void reset_locks_after_fork();

 private:
  void ensure(Workspace<T>& ws, size_t rows, bool training = true) const;
  // Inference workspaces are reused across calls (no allocation per predict in steady state).
  std::unique_ptr<Workspace<T>> acquire_workspace();
  void release_workspace(std::unique_ptr<Workspace<T>> ws);
  template <typename F>
  void for_row_blocks(size_t n, size_t block, bool training_buffers, F&& f);
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
  Rng rng_;
  bool row_streams_ = false;
  uint64_t row_key_ = 0;
  size_t row0_ = 0;
  bool bf16_ = false;
  ThreadPool* pool_ = nullptr;
  const Backend<T>* backend_ = &cpu_backend<T>();
  Workspace<T> ws_;  // training / manual loop
  size_t cached_rows_ = 0;
  bool cached_fused_ = false;
  bool cached_training_ = false;
  mutable std::shared_mutex mu_;
  std::mutex ws_pool_mu_;
  std::vector<std::unique_ptr<Workspace<T>>> ws_pool_;
};

}  // namespace fastnn
