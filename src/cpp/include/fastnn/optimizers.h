// Optimizers and learning-rate schedules with Keras 3 update formulas and defaults.
//
// Parameters, gradients and optimizer state each live in one contiguous arena owned by the network;
// a step is one pass over it. A Segment is one variable (a kernel, a bias, ...) inside the arenas.
// Order of a step (as Keras): clip gradients (clipnorm per variable, or global_clipnorm, or
// clipvalue) -> learning rate from the schedule at `iterations` -> decoupled weight decay
// p -= p * weight_decay * lr -> the update -> iterations += 1.
// Differences from PyTorch are noted in the Python docstrings (optimizers.py).
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "fastnn/math/optimizer_fn.h"  // StepScalars

namespace fastnn {

class ThreadPool;

enum class OptKind : int { SGD = 0, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion };

enum class ScheduleKind : int {
  Constant = 0,
  ExponentialDecay,
  PiecewiseConstantDecay,
  PolynomialDecay,
  InverseTimeDecay,
  CosineDecay,
  CosineDecayRestarts,
};

// Names of the kinds, indexed by the enums' values (Keras's class names).
inline constexpr const char* kOptimizerNames[] = {
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"};
static_assert(sizeof(kOptimizerNames) / sizeof(kOptimizerNames[0]) == size_t(OptKind::Lion) + 1,
              "one name per optimizer kind");
inline constexpr const char* kScheduleNames[] = {
    "Constant",         "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
    "InverseTimeDecay", "CosineDecay",      "CosineDecayRestarts"};
static_assert(sizeof(kScheduleNames) / sizeof(kScheduleNames[0]) ==
                  size_t(ScheduleKind::CosineDecayRestarts) + 1,
              "one name per schedule kind");

struct Schedule {
  ScheduleKind kind = ScheduleKind::Constant;
  double initial = 0.001;   // initial_learning_rate (or the constant rate)
  double decay_steps = 1;   // decay_steps / first_decay_steps
  double decay_rate = 0.0;  // Exponential/InverseTime
  bool staircase = false;
  double end = 0.0001;                     // Polynomial end_learning_rate
  double power = 1.0;                      // Polynomial
  bool cycle = false;                      // Polynomial
  double alpha = 0.0;                      // Cosine*
  double warmup_target = -1;               // Cosine: < 0 means none
  double warmup_steps = 0;                 // Cosine
  double t_mul = 2.0, m_mul = 1.0;         // CosineDecayRestarts
  std::vector<double> boundaries, values;  // PiecewiseConstantDecay
  double operator()(int64_t step) const;
};

struct OptimizerConfig {
  OptKind kind = OptKind::Adam;
  Schedule lr;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
  bool amsgrad = false;
  // Adam / AdamW: the moments as scikit-learn (and the Adam paper) write them, m = beta_1 * m +
  // (1 - beta_1) * g (v likewise with g^2), instead of Keras's m += (g - m) * (1 - beta_1): the same
  // value, other rounding; scikit-learn's MLPs need its bits.
  bool sklearn_moments = false;
  double momentum = 0.0;
  bool nesterov = false;
  double rho = 0.9;
  bool centered = false;
  double initial_accumulator_value = 0.1;
  double weight_decay = 0.0;     // decoupled, as Keras (0 = none)
  double clipnorm = 0.0;         // 0 = none
  double clipvalue = 0.0;        // 0 = none
  double global_clipnorm = 0.0;  // 0 = none
};

struct Segment {
  size_t offset = 0, size = 0;
  bool trainable = true;
};

// Number of state slots (each the size of the parameter arena) a kind keeps.
int optimizer_slots(const OptimizerConfig& c);

template <typename T>
class Optimizer {
 public:
  Optimizer() = default;
  // Sets the configuration; resets the state when the kind or slot count changes (or when `reset`).
  void configure(const OptimizerConfig& c, size_t nparams, bool reset);
  const OptimizerConfig& config() const { return cfg_; }
  OptimizerConfig& mutable_config() { return cfg_; }

  // One step over all trainable segments; grads may be modified (clipping).
  void step(T* params, T* grads, const std::vector<Segment>& segs);

  // For a backend that runs the element-wise update itself (a device keeps the state): the next
  // step's scalars, then the step count advanced exactly as step() does. Clipping by norm and the
  // update are the caller's; clipping by value and weight decay use k.clip and k.wd.
  StepScalars<T> advance_step() {
    begin_step();
    const StepScalars<T> k = k_;
    end_step();
    return k;
  }

  double current_learning_rate() const { return cfg_.lr(iterations_); }
  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t it) { iterations_ = it; }
  std::vector<T>& state() { return state_; }
  double& scalar_state() { return u_product_; }  // Nadam's running product (1 otherwise)
  void reset_state();
  void set_pool(ThreadPool* pool) { pool_ = pool; }

 private:
  // The step's scalars (learning rate from the schedule, bias corrections), then the clipping by
  // value, weight decay and update of elements [offset, offset + n): ranges may run on any thread
  // in any order with the same result. end_step advances the iteration count.
  void begin_step();
  void update_range(T* params, T* grads, size_t offset, size_t n);
  void end_step();

  ThreadPool* pool_ = nullptr;
  std::vector<std::pair<size_t, size_t>> pieces_;
  OptimizerConfig cfg_;
  std::vector<T> state_;
  size_t n_ = 0;
  int64_t iterations_ = 0;
  double u_product_ = 1.0;
  double next_u_product_ = 1.0;
  StepScalars<T> k_;
};

}  // namespace fastnn
