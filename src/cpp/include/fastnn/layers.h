// Layers of the engine. A layer holds its configuration and the offsets of its variables inside the
// network's arenas; it owns no weights and no per-batch memory (the network's Workspace does).
//
// Per batch of `rows` samples (row-major, C-contiguous):
//   forward : x (rows x in) -> out (rows x out); `aux` (rows x aux_cols()) keeps what backward
//   needs backward: dout = dL/d(out) (rows x out, may be overwritten) -> parameter gradients (when
//   the
//             layer is trainable and LayerCtx::param_grads) and dx = dL/dx (rows x in; null when
//             no input gradient is wanted)
// The arithmetic goes through LayerCtx::backend (see backend.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fastnn/activations.h"
#include "fastnn/gemm.h"
#include "fastnn/initializers.h"
#include "fastnn/optimizers.h"
#include "fastnn/rng.h"

namespace fastnn {

class ThreadPool;

struct ParamSpec {
  std::string name;  // "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"
  size_t rows = 1, cols = 1;
  bool trainable = true;  // false for moving statistics
  Initializer init;
  uint64_t seed = 0;
  double l1 = 0, l2 = 0;  // regularizer
  size_t offset = 0;      // in the arenas, set by Network::build
  size_t size() const { return rows * cols; }
};

template <typename T>
class Backend;

template <typename T>
struct LayerCtx {
  T* params = nullptr;
  T* grads = nullptr;
  ThreadPool* pool = nullptr;
  Rng* rng = nullptr;  // dropout masks (training only)
  const Backend<T>* backend = nullptr;
  bool bf16 = false;  // float networks: Dense products through gemm_bf16 (mixed precision)
  // backward only: write parameter gradients (off for input gradients); `training` is the mode of
  // the forward pass being differentiated (BatchNorm: batch or moving statistics).
  bool param_grads = true;
  bool training = true;
  // Sharded (data-parallel) steps: dropout draws row r's mask from its own stream, seeded by
  // (row_key, row0 + r), so a row's mask depends on its place in the global batch, never on the
  // rank or shard that computes it. Off: masks come from `rng`, element after element.
  bool row_streams = false;
  uint64_t row_key = 0;
  size_t row0 = 0;
};

// Context of the epilogue that turns dL/da into dL/dz inside the GEMM producing dL/da.
template <typename T>
struct GradEpilogueCtx {
  const Activation* act = nullptr;
  const T* z = nullptr;
  const T* a = nullptr;
  size_t ld = 0;
};

template <typename T>
class Layer {
 public:
  Layer(size_t in, size_t out) : in_(in), out_(out) {}
  virtual ~Layer() = default;
  virtual const char* kind() const = 0;
  size_t in_dim() const { return in_; }
  size_t out_dim() const { return out_; }

  std::vector<ParamSpec> params;
  bool trainable = true;  // a frozen layer's variables are not updated

  virtual size_t aux_cols() const { return 0; }
  virtual void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
                       bool training) = 0;
  // dout_is_preact: dout already holds dL/dz (the activation's derivative was applied by the layer
  // above in its GEMM epilogue, or the loss was computed from the logits). dx_ep: epilogue the
  // layer below asks to run on dx. accumulate: add parameter gradients instead of overwriting.
  virtual void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                        bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                        bool accumulate) = 0;

  // Offer an epilogue that converts dL/d(out) into dL/dz on blocks (see GradEpilogueCtx).
  virtual bool grad_epilogue(const T* /*out*/, const T* /*aux*/, Epilogue<T>& /*ep*/,
                             GradEpilogueCtx<T>& /*ctx*/) const {
    return false;
  }
  // The final activation, when the layer has one (fused losses look at it).
  virtual const Activation* activation() const { return nullptr; }
  // Keep the pre-activation values (logits) for a fused loss; preactivation() then returns them.
  virtual void set_keep_preactivation(bool) {}
  virtual const T* preactivation(const T* /*x*/, const T* /*aux*/) const { return nullptr; }

 protected:
  size_t in_, out_;
};

template <typename T>
class Dense final : public Layer<T> {
 public:
  Dense(size_t in, size_t out, bool use_bias, const Activation& act);
  const char* kind() const override { return "Dense"; }
  size_t aux_cols() const override { return keep_z_ ? this->out_ : 0; }
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;
  bool grad_epilogue(const T* out, const T* aux, Epilogue<T>& ep,
                     GradEpilogueCtx<T>& ctx) const override;
  const Activation* activation() const override { return &act_; }
  void set_keep_preactivation(bool k) override;
  const T* preactivation(const T*, const T* aux) const override { return keep_z_ ? aux : nullptr; }
  bool use_bias() const { return use_bias_; }

 private:
  bool use_bias_;
  Activation act_;
  bool keep_z_;
  bool force_keep_z_ = false;
};

template <typename T>
class ActivationLayer final : public Layer<T> {
 public:
  ActivationLayer(size_t dim, const Activation& act) : Layer<T>(dim, dim), act_(act) {}
  const char* kind() const override { return "Activation"; }
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;
  const Activation* activation() const override { return &act_; }
  const T* preactivation(const T* x, const T*) const override { return x; }

 private:
  Activation act_;
};

template <typename T>
class Dropout final : public Layer<T> {
 public:
  Dropout(size_t dim, double rate) : Layer<T>(dim, dim), rate_(rate) {}
  const char* kind() const override { return "Dropout"; }
  size_t aux_cols() const override { return this->out_; }  // the mask, already scaled
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;

 private:
  double rate_;
};

// Keras BatchNormalization over the feature axis: batch statistics while training (and trainable),
// moving statistics otherwise; moving = moving * momentum + batch * (1 - momentum).
template <typename T>
class BatchNorm final : public Layer<T> {
 public:
  BatchNorm(size_t dim, double momentum, double epsilon, bool center, bool scale);
  const char* kind() const override { return "BatchNormalization"; }
  size_t aux_cols() const override { return this->out_; }  // x_hat
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;

 private:
  double momentum_, eps_;
  bool center_, scale_;
  int gamma_ = -1, beta_ = -1, mean_ = -1, var_ = -1;  // indices into params
  std::vector<double> inv_std_;                        // of the last training batch
  std::vector<double> s0_, s1_;                        // per-feature scratch (training only)
  bool last_used_batch_stats_ = false;
};

// Keras LayerNormalization over the feature axis of each sample.
template <typename T>
class LayerNorm final : public Layer<T> {
 public:
  LayerNorm(size_t dim, double epsilon, bool center, bool scale);
  const char* kind() const override { return "LayerNormalization"; }
  size_t aux_cols() const override { return this->out_ + 1; }  // x_hat, then 1 / std
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;

 private:
  double eps_;
  bool center_, scale_;
  int gamma_ = -1, beta_ = -1;
};

// Keras Normalization over the features: (x - mean) / max(sqrt(variance), 1e-7), or, inverted,
// mean + x * max(sqrt(variance), 1e-7). mean, variance and count (the samples adapt() saw) are
// non-trainable variables; nothing is learned, the layer only passes gradients through.
template <typename T>
class Standardize final : public Layer<T> {
 public:
  Standardize(size_t dim, bool invert);
  const char* kind() const override { return "Normalization"; }
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;

 private:
  T factor(const LayerCtx<T>& c, size_t j) const;  // d out / d x of feature j
  bool invert_;
};

// Keras Rescaling: x * scale + offset (scalars; no variables).
template <typename T>
class Rescale final : public Layer<T> {
 public:
  Rescale(size_t dim, double scale, double offset)
      : Layer<T>(dim, dim), scale_(scale), offset_(offset) {}
  const char* kind() const override { return "Rescaling"; }
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;

 private:
  double scale_, offset_;
};

// Keras's training-only noise layers, drawn from the network's generator; the identity in
// inference. GaussianNoise: x + stddev * N(0, 1). GaussianDropout: x * N(1, rate / (1 - rate)).
// AlphaDropout: a * (kept ? x : alpha') + b with Keras's SELU constants, so that SELU activations
// keep their mean and variance. `aux` keeps d out / d x per element.
enum class NoiseKind { GaussianNoise, GaussianDropout, AlphaDropout };

template <typename T>
class Noise final : public Layer<T> {
 public:
  Noise(size_t dim, NoiseKind kind, double amount) : Layer<T>(dim, dim), kind_(kind), p_(amount) {}
  const char* kind() const override { return "Noise"; }
  size_t aux_cols() const override { return kind_ == NoiseKind::GaussianNoise ? 0 : this->out_; }
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;

 private:
  NoiseKind kind_;
  double p_;  // stddev (GaussianNoise) or rate
  bool last_training_ = false;
};

// Keras UnitNormalization over each sample's features: x * min(1 / ||x||, 1e12).
template <typename T>
class UnitNorm final : public Layer<T> {
 public:
  explicit UnitNorm(size_t dim) : Layer<T>(dim, dim) {}
  const char* kind() const override { return "UnitNormalization"; }
  size_t aux_cols() const override { return 2; }  // 1 / ||x|| (clamped), 1 when clamped
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;
};

// Keras PReLU: x if x > 0 else alpha * x, alpha a learned per-feature variable.
template <typename T>
class PReLU final : public Layer<T> {
 public:
  explicit PReLU(size_t dim);
  const char* kind() const override { return "PReLU"; }
  void forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
               bool training) override;
  void backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                bool accumulate) override;
};

}  // namespace fastnn
