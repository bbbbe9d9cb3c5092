// Weight initializers (Keras 3 definitions).
#include "fastnn/initializers.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fastnn/common.h"
#include "fastnn/rng.h"

namespace fastnn {
namespace {

// Normal truncated to [-2, 2] standard deviations, by resampling.
double truncated_normal(Rng& rng) {
  for (;;) {
    double x = rng.normal();
    if (x >= -2.0 && x <= 2.0) return x;
  }
}

// Orthogonal matrix (rows x cols) by modified Gram-Schmidt on a normal matrix, in double.
// Columns (or rows, when rows < cols) are orthonormal; signs fixed so R's diagonal is positive.
void orthogonal(std::vector<double>& q, size_t rows, size_t cols, Rng& rng) {
  const bool flip = rows < cols;
  const size_t m = flip ? cols : rows, n = flip ? rows : cols;  // m >= n, orthonormal columns
  std::vector<double> a(m * n);
  for (auto& v : a) v = rng.normal();
  for (size_t j = 0; j < n; ++j) {
    for (size_t k = 0; k < j; ++k) {
      double d = 0;
      for (size_t i = 0; i < m; ++i) d += a[i * n + k] * a[i * n + j];
      for (size_t i = 0; i < m; ++i) a[i * n + j] -= d * a[i * n + k];
    }
    double nrm = 0;
    for (size_t i = 0; i < m; ++i) nrm += a[i * n + j] * a[i * n + j];
    nrm = std::sqrt(nrm);
    if (nrm == 0) nrm = 1;
    for (size_t i = 0; i < m; ++i) a[i * n + j] /= nrm;
  }
  q.assign(rows * cols, 0.0);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      if (flip)
        q[j * cols + i] = a[i * n + j];
      else
        q[i * cols + j] = a[i * n + j];
    }
}

}  // namespace

template <typename T>
void initialize(const Initializer& init, T* out, size_t rows, size_t cols, uint64_t seed,
                bool one_dim) {
  const size_t n = rows * cols;
  Rng rng(seed);
  switch (init.kind) {
    case InitKind::Zeros: std::fill(out, out + n, T(0)); return;
    case InitKind::Ones: std::fill(out, out + n, T(1)); return;
    case InitKind::Constant: std::fill(out, out + n, T(init.a)); return;
    case InitKind::RandomNormal:
      for (size_t i = 0; i < n; ++i) out[i] = T(init.a + init.b * rng.normal());
      return;
    case InitKind::RandomUniform:
      for (size_t i = 0; i < n; ++i) out[i] = T(init.a + (init.b - init.a) * rng.uniform());
      return;
    case InitKind::TruncatedNormal:
      for (size_t i = 0; i < n; ++i) out[i] = T(init.a + init.b * truncated_normal(rng));
      return;
    case InitKind::VarianceScaling: {
      double fan_in = one_dim ? double(cols) : double(rows);
      double fan_out = double(cols);
      double fan = init.mode == FanMode::FanIn ? fan_in
                   : init.mode == FanMode::FanOut ? fan_out
                                                  : (fan_in + fan_out) / 2.0;
      double scale = init.a / std::max(1.0, fan);
      switch (init.distribution) {
        case Distribution::TruncatedNormal: {
          double sd = std::sqrt(scale) / 0.87962566103423978;
          for (size_t i = 0; i < n; ++i) out[i] = T(sd * truncated_normal(rng));
          return;
        }
        case Distribution::UntruncatedNormal: {
          double sd = std::sqrt(scale);
          for (size_t i = 0; i < n; ++i) out[i] = T(sd * rng.normal());
          return;
        }
        case Distribution::Uniform: {
          double lim = std::sqrt(3.0 * scale);
          for (size_t i = 0; i < n; ++i) out[i] = T(-lim + 2.0 * lim * rng.uniform());
          return;
        }
      }
      return;
    }
    case InitKind::Orthogonal: {
      std::vector<double> q;
      orthogonal(q, rows, cols, rng);
      for (size_t i = 0; i < n; ++i) out[i] = T(init.a * q[i]);
      return;
    }
    case InitKind::Identity:
      std::fill(out, out + n, T(0));
      for (size_t i = 0; i < std::min(rows, cols); ++i) out[i * cols + i] = T(init.a);
      return;
  }
}

template void initialize<float>(const Initializer&, float*, size_t, size_t, uint64_t, bool);
template void initialize<double>(const Initializer&, double*, size_t, size_t, uint64_t, bool);

}  // namespace fastnn
