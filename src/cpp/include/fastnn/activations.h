// Activation functions, forward and derivative, with Keras 3 definitions.
//
// Elementwise kinds act on any block of a matrix (they run inside the GEMM epilogue); Softmax and
// LogSoftmax act on whole rows (max-subtracted).
// Backward: dz = da * f'(z). Kinds whose derivative is a function of the output alone
// (derivative_from_output) keep no copy of z: the layer stores only a = f(z).
#pragma once
#include <cstddef>
#include <limits>

namespace fastnn {

enum class ActKind : int {
  Linear = 0,
  Relu,       // Keras relu(x, negative_slope, max_value, threshold)
  LeakyRelu,  // alpha = negative_slope (Keras default 0.2)
  Relu6,
  Elu,  // alpha
  Selu,
  Gelu,      // exact, with erf
  GeluTanh,  // tanh approximation
  Silu,      // also "swish"
  Mish,
  Softplus,
  Softsign,
  Sigmoid,
  HardSigmoid,  // Keras 3: clip(x / 6 + 0.5, 0, 1)
  HardSilu,     // x * hard_sigmoid(x), also "hard_swish"
  Tanh,
  Exponential,
  Softmax,     // row-wise
  LogSoftmax,  // row-wise
};

// Names of the kinds, indexed by the enum's value (the Python tables are built from these).
inline constexpr const char* kActivationNames[] = {
    "linear",    "relu", "leaky_relu",  "relu6",    "elu",        "selu",    "gelu",
    "gelu_tanh", "silu", "mish",        "softplus", "softsign",   "sigmoid", "hard_sigmoid",
    "hard_silu", "tanh", "exponential", "softmax",  "log_softmax"};
static_assert(sizeof(kActivationNames) / sizeof(kActivationNames[0]) ==
                  size_t(ActKind::LogSoftmax) + 1,
              "one name per activation kind");

struct Activation {
  ActKind kind = ActKind::Linear;
  double alpha = 0.0;  // relu: negative_slope; leaky_relu, elu: alpha
  double max_value = std::numeric_limits<double>::infinity();  // relu only
  double threshold = 0.0;                                      // relu only

  bool rowwise() const { return kind == ActKind::Softmax || kind == ActKind::LogSoftmax; }
  bool is_identity() const { return kind == ActKind::Linear; }
  // True when f'(z) can be computed from a = f(z) alone.
  bool derivative_from_output() const;
  // True when this is exactly max(z, 0).
  bool is_plain_relu() const {
    return kind == ActKind::Relu && alpha == 0.0 && threshold == 0.0 &&
           max_value == std::numeric_limits<double>::infinity();
  }
};

// a[r*lda + c] = f(z[r*ldz + c]) for a rows x cols block (a may alias z). For row-wise kinds, cols
// must be the whole row.
template <typename T>
void activation_forward(const Activation& f, const T* z, size_t ldz, T* a, size_t lda, size_t rows,
                        size_t cols);

// dz = da * f'(z) for a rows x cols block. z may be null when f.derivative_from_output(); a may be
// null when it is not needed. dz may alias da. All matrices share the leading dimension ld.
template <typename T>
void activation_backward(const Activation& f, const T* z, const T* a, const T* da, T* dz,
                         size_t rows, size_t cols, size_t ld);

}  // namespace fastnn
