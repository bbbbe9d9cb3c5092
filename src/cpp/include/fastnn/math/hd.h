// FASTNN_HD marks the per-element formulas of math/ as callable from host and device code: under
// nvcc they are __host__ __device__, in plain C++ they are ordinary inline functions. The formulas
// use only arithmetic and <cmath>, never allocate, throw or touch global state, so the CPU engine
// and a GPU backend run the same expression for every element.
#pragma once
#include <cmath>

#if defined(__CUDACC__)
#define FASTNN_HD __host__ __device__ inline
#else
#define FASTNN_HD inline
#endif

namespace fastnn {
namespace math {

// std::max / std::min without <algorithm> (not device code): the same comparisons, so the same
// result for NaN and signed zeros.
template <typename T>
FASTNN_HD T max_of(T a, T b) {
  return a < b ? b : a;
}
template <typename T>
FASTNN_HD T min_of(T a, T b) {
  return b < a ? b : a;
}
template <typename T>
FASTNN_HD T sign_of(T x) {
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
}

}  // namespace math
}  // namespace fastnn
