// Weight initializers with Keras 3 definitions, seeded.
// fan_in / fan_out are those of a Dense kernel (in, out). The "normal" variance-scaling kinds draw
// from a normal truncated at two standard deviations, its stddev corrected as Keras does.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fastnn {

enum class InitKind : int {
  Zeros = 0,
  Ones,
  Constant,         // value
  RandomNormal,     // mean, stddev
  RandomUniform,    // minval, maxval
  TruncatedNormal,  // mean, stddev
  VarianceScaling,  // scale, mode, distribution (glorot/he/lecun are instances)
  Orthogonal,       // gain
  Identity,         // gain
};

enum class FanMode : int { FanIn = 0, FanOut, FanAvg };
enum class Distribution : int { TruncatedNormal = 0, UntruncatedNormal, Uniform };

// Names of the kinds, indexed by the enums' values.
inline constexpr const char* kInitializerNames[] = {"zeros",
                                                    "ones",
                                                    "constant",
                                                    "random_normal",
                                                    "random_uniform",
                                                    "truncated_normal",
                                                    "variance_scaling",
                                                    "orthogonal",
                                                    "identity"};
static_assert(sizeof(kInitializerNames) / sizeof(kInitializerNames[0]) ==
                  size_t(InitKind::Identity) + 1,
              "one name per initializer kind");
inline constexpr const char* kFanModeNames[] = {"fan_in", "fan_out", "fan_avg"};
inline constexpr const char* kDistributionNames[] = {"truncated_normal", "untruncated_normal",
                                                     "uniform"};

struct Initializer {
  InitKind kind = InitKind::Zeros;
  double a = 0.0;  // value | mean | minval | scale | gain
  double b = 0.0;  // stddev | maxval
  FanMode mode = FanMode::FanAvg;
  Distribution distribution = Distribution::Uniform;
};

// Fills out[rows * cols] (row-major). A kernel has fan_in = rows, fan_out = cols; a one-dimensional
// variable (a bias, a scale: one_dim) has fan_in = fan_out = its size, as Keras computes for 1-D
// shapes.
template <typename T>
void initialize(const Initializer& init, T* out, size_t rows, size_t cols, uint64_t seed,
                bool one_dim = false);

}  // namespace fastnn
