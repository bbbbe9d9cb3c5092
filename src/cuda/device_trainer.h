// A network trained and run on one GPU: the device counterpart of the engine's Network + Trainer
// for Dense, Activation and Dropout layers in float32. Parameters, gradients, optimizer state, the
// workspaces and the data set live in device memory (through the memory seam); a chunk of steps
// is queued without a host synchronisation, and the host waits once at the chunk's end for the
// batch losses.
//
// A data set larger than its budget (fastnn/device/stream_plan.h: by default half the free device
// memory, FASTNN_CUDA_DATA_BUDGET overrides) stays on the host: each chunk of whole batches is
// gathered there by the shuffled index into pinned memory and copied on a second stream into one
// of two device buffers while the device trains on the other.
//
// Each step follows the engine's Trainer: gather by the shuffled index -> forward (cuBLASLt with
// the bias / ReLU epilogue, other activations by a kernel over math/) -> loss and dL/d(output)
// (from the logits for sigmoid + binary cross-entropy and softmax + categorical cross-entropy) ->
// backward -> regularizer gradients -> clipping -> the optimizer's fused pass. The arena layout,
// the step scalars and the update formulas are the engine's, so weights and optimizer state move
// between this and a CPU network unchanged.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cuda_backend.h"
#include "fastnn/device/fused_mlp.h"
#include <string>
#include "fastnn/activations.h"
#include "fastnn/losses.h"
#include "fastnn/optimizers.h"

namespace fastnn {
namespace cuda {

struct DeviceLayer {
  enum Kind { Dense, Act, Dropout } kind = Dense;
  size_t in = 0, out = 0;
  bool use_bias = true;
  Activation act;
  double rate = 0;                      // dropout
  size_t kernel_off = 0, bias_off = 0;  // in the arena (set by DeviceTrainer)
};

// One variable of the arena: as the engine's Segment, with its regularizer.
struct DeviceVariable {
  size_t offset = 0, size = 0;
  bool trainable = true;
  double l1 = 0, l2 = 0;
};

struct DeviceChunk {
  double loss_sum = 0;
  size_t samples = 0, batches = 0;
  double last_batch_loss = 0;
  bool nonfinite = false;
};

class DeviceTrainer {
 public:
  // layers: in order, their in/out widths consistent with input_dim; variables: per variable of the
  // arena in the engine's order (kernel, then bias, per Dense), trainable flags and regularizers.
  DeviceTrainer(int device, size_t input_dim, std::vector<DeviceLayer> layers,
                std::vector<DeviceVariable> variables, const Loss& loss,
                const OptimizerConfig& opt, uint64_t seed);

  size_t arena_size() const { return arena_; }
  size_t input_dim() const { return input_dim_; }
  size_t output_dim() const { return layers_.empty() ? input_dim_ : layers_.back().out; }
  int optimizer_slots() const { return slots_; }
  const Loss& loss() const { return loss_; }

  // Host <-> device copies of the parameters and the optimizer's state (slots x arena, the CPU
  // engine's layout), its step count and Nadam's running product.
  void set_params(const float* host);
  void get_params(float* host);
  void set_optimizer_state(const float* host, int64_t iterations, double scalar);
  void get_optimizer_state(float* host, int64_t* iterations, double* scalar);

  ~DeviceTrainer();

  // The training data on the device (uploaded once; kept until the next call). W may be null.
  // Above the budget (bytes; SIZE_MAX: from FASTNN_CUDA_DATA_BUDGET or the default fraction of
  // free memory) the arrays are streamed instead and must outlive the training calls.
  void set_data(const float* X, const float* Y, const float* W, size_t n,
                size_t budget = SIZE_MAX);
  size_t data_rows() const { return n_; }
  bool streaming() const { return stream_; }
  // Why the last train() did not use the fused small-network kernel ("" when it did).
  const std::string& fused_reason() const { return fused_why_; }
  // The row order of the epoch (n entries, each in [0, n)), uploaded once per epoch.
  void set_index(const int64_t* index, size_t n);

  // Batches [first, first + count) of the row order set by set_index (or rows in order when
  // in_order). pred_out (host, rows x output_dim) receives each batch's outputs before its
  // update. One host synchronisation, at the end.
  DeviceChunk train(size_t batch_size, size_t first, size_t count, bool in_order, float* pred_out,
                    double loss_sum_start);

  // Inference on host rows (copied in blocks): outputs, and for evaluate the sum of w_i loss_i
  // with the per-sample values.
  void predict(const float* X, size_t n, float* out);
  double evaluate(const float* X, const float* Y, const float* W, size_t n, float* pred_out,
                  float* per_sample);

  // The manual loop (model(x), a loss, backward(), optimizer.step()) on the device, the engine's
  // forward_cached / loss_cached / backward_cached / apply_gradients: its own workspace holds the
  // cached pass, so predict and evaluate in between leave it alone. Gradients accumulate in the
  // device's gradient arena (get_grads / set_grads copy it).
  void manual_forward(const float* X, size_t n, bool training, float* out);
  size_t manual_rows() const { return mrows_; }
  // The mean loss of the cached pass (sum of w_i loss_i / rows); its gradient stays for backward.
  double manual_loss(const Loss& L, const float* Y, const float* W);
  // dout (host, rows x output_dim) or null: the gradient the last manual_loss left.
  void manual_backward(const float* dout, bool accumulate);
  void apply_gradients();
  void zero_grad();
  void get_grads(float* host);
  void set_grads(const float* host);
  // d sum(output * output_weights) / dX in inference mode; no parameter gradient changes.
  void input_gradient(const float* X, const float* output_weights, size_t n, float* out);

 private:
  struct Buffers {
    size_t cap = 0;
    std::vector<DeviceArray<float>> z, a, mask;  // per layer: pre-activation, output, dropout mask
    DeviceArray<float> x, y, w, g0, g1;
    DeviceArray<double> row_loss;
  };
  void ensure(size_t rows);
  static void ensure(Buffers& b, size_t rows, const DeviceTrainer& t);
  const float* forward(const float* x, size_t rows, bool training, uint64_t step) {
    return forward(ws_, outs_, x, rows, training, step);
  }
  const float* forward(Buffers& b, std::vector<const float*>& outs, const float* x, size_t rows,
                       bool training, uint64_t step);
  const float* loss_input(const float* x) const { return loss_input(ws_, outs_, x); }
  const float* loss_input(const Buffers& b, const std::vector<const float*>& outs, const float* x) const;
  void backward(const float* x, size_t rows, bool preact) {
    backward(ws_, outs_, x, rows, preact, true, false, true, nullptr);
  }
  // From the output gradient in b.g0: parameter gradients (param_grads; accumulated into the arena
  // or overwriting it) and, where dx is not null, the input gradient (device, rows x input_dim).
  void backward(Buffers& b, const std::vector<const float*>& outs, const float* x, size_t rows,
                bool preact, bool training, bool accumulate, bool param_grads, float* dx);
  bool fusable(const Loss& L) const;
  void update(size_t step_in_chunk);
  bool fusable() const;
  // One training step on a batch already on the device (rows in order).
  void step(size_t bi, uint64_t step_id, const float* x, const float* y, const float* w,
            size_t rows, float* pred, bool any_reg);
  void ensure_staging(size_t rows);
  // Plans the fused small-network step for batches of `batch` rows (fused_why_: "" when it applies).
  void plan_fused_step(size_t batch);

  std::unique_ptr<CudaBackend> be_;
  size_t input_dim_;
  std::vector<DeviceLayer> layers_;
  std::vector<DeviceVariable> vars_;
  Loss loss_, eff_;
  bool fused_ = false;
  Optimizer<float> opt_;  // host side: configuration, step count, step scalars
  int slots_ = 0;
  size_t arena_ = 0, maxw_ = 0;
  uint64_t seed_;
  DeviceArray<float> params_, grads_, state_;
  DeviceArray<StepScalars<float>> scalars_;
  DeviceArray<uint64_t> trainable_segs_;
  size_t n_trainable_segs_ = 0;
  DeviceArray<float> X_, Y_, W_;
  DeviceArray<int64_t> index_, order_;
  size_t n_ = 0;
  bool has_w_ = false;
  // Streaming (stream_): the host arrays, the epoch's order on the host, and two upload buffers
  // (pinned host and device, X then Y then W per buffer) with their events.
  bool stream_ = false;
  const float *hX_ = nullptr, *hY_ = nullptr, *hW_ = nullptr;
  std::vector<int64_t> hindex_;
  size_t stream_rows_ = 0, staging_cap_ = 0;
  float* pinned_[2] = {nullptr, nullptr};
  DeviceArray<float> staged_[2];
  cudaStream_t copy_stream_ = nullptr;
  cudaEvent_t copied_[2] = {nullptr, nullptr}, consumed_[2] = {nullptr, nullptr};
  // The fused small-network step (FASTNN_CUDA_FUSED=0 turns it off).
  device::FusedPlan fplan_;
  size_t fused_batch_ = 0;
  std::string fused_why_ = "not planned yet";
  DeviceArray<double> batch_loss_, batch_penalty_;
  DeviceArray<int> flags_;  // [0]: hinge 0/1 labels (scratch), [1]: an invalid sparse label
  DeviceArray<float> pred_;
  Buffers ws_;
  std::vector<const float*> outs_;  // each layer's output in the last forward pass
  // The manual loop's cached pass.
  Buffers mws_;
  std::vector<const float*> mouts_;
  size_t mrows_ = 0;
  bool mtraining_ = false, mfused_ = false, mloss_ = false;
  uint64_t mstep_ = 0;
  DeviceArray<double> msum_;
};

}  // namespace cuda
}  // namespace fastnn
