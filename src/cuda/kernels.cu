// The CUDA backend's kernels: loops over the engine's math/ formulas (the CPU engine runs the same
// functions), one element or one row per thread. See kernels.cuh.
#include "kernels.cuh"

#include "cuda_backend.h"
#include "fastnn/math/activation_fn.h"
#include "fastnn/math/loss_fn.h"
#include "fastnn/math/optimizer_fn.h"

namespace fastnn {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kReduceThreads = 512;  // fixed: the order of a block reduction depends on it

unsigned blocks_for(size_t n) {
  size_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 65535 * 16 ? (b ? b : 1) : 65535 * 16);
}

void launched(const char* what) { check(cudaGetLastError(), what); }

// Thread t sums v[t], v[t + B], ... in order, then a fixed tree: the same bits on every run.
template <typename Load>
__device__ double block_sum(size_t n, Load load) {
  __shared__ double part[kReduceThreads];
  double acc = 0;
  for (size_t i = threadIdx.x; i < n; i += blockDim.x) acc += load(i);
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int h = blockDim.x / 2; h > 0; h /= 2) {
    if (int(threadIdx.x) < h) part[threadIdx.x] += part[threadIdx.x + h];
    __syncthreads();
  }
  return part[0];
}

template <typename F>
__global__ void act_fwd_kernel(F f, const float* z, float* a, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    a[i] = f.fwd(z[i]);
}

template <typename F>
__global__ void act_bwd_kernel(F f, const float* z, const float* a, const float* da, float* dz,
                               size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const float zi = z ? z[i] : 0.0f, ai = a ? a[i] : 0.0f;
    dz[i] = da[i] * f.grad(zi, ai);
  }
}

__global__ void softmax_fwd_kernel(const float* z, float* a, size_t rows, size_t cols, bool log) {
  const size_t r = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (r < rows) math::softmax_row(z + r * cols, a + r * cols, cols, log);
}

__global__ void softmax_bwd_kernel(const float* a, const float* da, float* dz, size_t rows,
                                   size_t cols, bool log) {
  const size_t r = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (r >= rows) return;
  if (log)
    math::log_softmax_row_backward(a + r * cols, da + r * cols, dz + r * cols, cols);
  else
    math::softmax_row_backward(a + r * cols, da + r * cols, dz + r * cols, cols);
}

__global__ void column_sums_kernel(const float* m, size_t rows, size_t cols, float* out, bool accumulate) {
  const size_t j = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (j >= cols) return;
  float acc = 0;
  for (size_t r = 0; r < rows; ++r) acc += m[r * cols + j];  // rows in order, as the CPU
  out[j] = accumulate ? out[j] + acc : acc;
}

__global__ void gather_kernel(const float* X, const float* Y, const float* W, size_t din, size_t yc,
                              const int64_t* index, size_t rows, float* x, float* y, float* w) {
  const size_t width = din + yc + (W ? 1 : 0);
  const size_t n = rows * width;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const size_t r = i / width, j = i % width;
    const size_t src = size_t(index[r]);
    if (j < din)
      x[r * din + j] = X[src * din + j];
    else if (j < din + yc)
      y[r * yc + (j - din)] = Y[src * yc + (j - din)];
    else
      w[r] = W[src];
  }
}

__device__ uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

__global__ void dropout_kernel(const float* x, float* out, float* mask, size_t n, float rate,
                               uint64_t seed, uint64_t step) {
  const float scale = 1.0f / (1.0f - rate);
  const uint64_t base = mix64(seed ^ mix64(step));
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const double u = double(mix64(base + i) >> 11) * (1.0 / 9007199254740992.0);
    const float m = u >= double(rate) ? scale : 0.0f;
    mask[i] = m;
    out[i] = x[i] * m;
  }
}

__global__ void multiply_kernel(const float* a, const float* b, float* c, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    c[i] = a[i] * b[i];
}

// Keras maps hinge labels to -1/1 when every label of the batch is 0 or 1.
__global__ void hinge01_kernel(const float* y, size_t n, int* flag) {
  __shared__ int bad;
  if (threadIdx.x == 0) bad = 0;
  __syncthreads();
  for (size_t i = threadIdx.x; i < n; i += blockDim.x)
    if (!(y[i] == 0.0f || y[i] == 1.0f)) bad = 1;
  __syncthreads();
  if (threadIdx.x == 0) *flag = bad ? 0 : 1;
}

__global__ void loss_kernel(Loss L, const float* pred, const float* y, const float* w, size_t rows,
                            size_t cols, double inv_n, float* grad, double* row_loss,
                            const int* hinge01, int* bad_label) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= rows) return;
  const size_t yc = L.kind == LossKind::SparseCategoricalCrossentropy ? 1 : cols;
  const float* p = pred + i * cols;
  const float* t = y + i * yc;
  float* g = grad ? grad + i * cols : nullptr;
  const double wi = w ? double(w[i]) : 1.0;
  const float sc = float(wi * inv_n);
  double v;
  if (L.kind == LossKind::SparseCategoricalCrossentropy) {
    const double lf = double(t[0]);
    if (!(lf >= 0 && lf < double(cols)) || lf != floor(lf)) {
      *bad_label = 1;
      if (g)
        for (size_t j = 0; j < cols; ++j) g[j] = 0.0f;
      row_loss[i] = 0;
      return;
    }
    v = math::sparse_ce_row(L, p, size_t(lf), cols, g, sc);
  } else {
    v = math::loss_row(L, p, t, cols, g, sc, hinge01 ? *hinge01 != 0 : false);
  }
  row_loss[i] = v * wi;
}

__global__ void to_float_kernel(const double* v, float* out, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    out[i] = float(v[i]);
}

__global__ void sum_kernel(const double* v, size_t n, double* out) {
  const double s = block_sum(n, [&](size_t i) { return v[i]; });
  if (threadIdx.x == 0) *out = s;
}

__global__ void reg_grad_kernel(const float* w, float* g, size_t n, float l1, float l2x2) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    float gi = g[i];
    math::regularizer_grad(gi, w[i], l1, l2x2);
    g[i] = gi;
  }
}

__global__ void reg_penalty_kernel(const float* w, size_t n, double l1, double l2, double* penalty) {
  const double a = block_sum(n, [&](size_t i) { return fabs(double(w[i])); });
  __syncthreads();
  const double q = block_sum(n, [&](size_t i) { return double(w[i]) * double(w[i]); });
  if (threadIdx.x == 0) *penalty += l1 * a + l2 * q;
}

__global__ void clip_norm_kernel(float* g, size_t n, double max_norm) {
  const double ss = block_sum(n, [&](size_t i) { return double(g[i]) * double(g[i]); });
  const double norm = sqrt(ss);
  if (!(norm > max_norm)) return;
  const float f = float(max_norm / norm);
  for (size_t i = threadIdx.x; i < n; i += blockDim.x) g[i] *= f;
}

__global__ void clip_global_kernel(float* grads, const uint64_t* segs, size_t nsegs, double max_norm) {
  double ss = 0;
  for (size_t s = 0; s < nsegs; ++s) {
    const float* g = grads + segs[2 * s];
    ss += block_sum(size_t(segs[2 * s + 1]), [&](size_t i) { return double(g[i]) * double(g[i]); });
    __syncthreads();
  }
  const double norm = sqrt(ss);
  if (!(norm > max_norm)) return;
  const float f = float(max_norm / norm);
  for (size_t s = 0; s < nsegs; ++s) {
    float* g = grads + segs[2 * s];
    for (size_t i = threadIdx.x; i < size_t(segs[2 * s + 1]); i += blockDim.x) g[i] *= f;
  }
}

// The fused optimizer pass, one kernel per kind (U: the element update, given p, g and the slots).
template <typename U>
__global__ void opt_kernel(U u, float* p, float* g, float* s0, float* s1, float* s2, size_t n,
                           const StepScalars<float>* ks, bool clip, bool decay) {
  const StepScalars<float> k = *ks;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    float gi = g[i], pi = p[i];
    if (clip) math::clip_value(gi, k.clip);
    if (decay) math::weight_decay(pi, k.wd);
    float z = 0.0f;
    u(pi, gi, s0 ? s0[i] : z, s1 ? s1[i] : z, s2 ? s2[i] : z, k);
    p[i] = pi;
    g[i] = gi;
  }
}

struct SgdU {
  __device__ void operator()(float& p, float g, float&, float&, float&, const StepScalars<float>& k) const {
    math::sgd_update(p, g, k);
  }
};
template <bool N>
struct SgdMomU {
  __device__ void operator()(float& p, float g, float& s0, float&, float&, const StepScalars<float>& k) const {
    math::sgd_momentum_update<float, N>(p, g, s0, k);
  }
};
struct AdamU {
  __device__ void operator()(float& p, float g, float& m, float& v, float&, const StepScalars<float>& k) const {
    math::adam_update(p, g, m, v, k);
  }
};
struct AmsgradU {
  __device__ void operator()(float& p, float g, float& m, float& v, float& vm, const StepScalars<float>& k) const {
    math::amsgrad_update(p, g, m, v, vm, k);
  }
};
// RMSprop's slots: velocity, then the momentum buffer (if any), then the average gradient (if
// centred), as the CPU engine lays them out.
template <bool M, bool C>
struct RmsU {
  __device__ void operator()(float& p, float g, float& s0, float& s1, float& s2, const StepScalars<float>& k) const {
    float unused = 0.0f;
    math::rmsprop_update<float, M, C>(p, g, s0, M ? s1 : unused, C ? (M ? s2 : s1) : unused, k);
  }
};
struct AdagradU {
  __device__ void operator()(float& p, float g, float& s0, float&, float&, const StepScalars<float>& k) const {
    math::adagrad_update(p, g, s0, k);
  }
};
struct AdadeltaU {
  __device__ void operator()(float& p, float g, float& s0, float& s1, float&, const StepScalars<float>& k) const {
    math::adadelta_update(p, g, s0, s1, k);
  }
};
struct AdamaxU {
  __device__ void operator()(float& p, float g, float& s0, float& s1, float&, const StepScalars<float>& k) const {
    math::adamax_update(p, g, s0, s1, k);
  }
};
struct NadamU {
  __device__ void operator()(float& p, float g, float& s0, float& s1, float&, const StepScalars<float>& k) const {
    math::nadam_update(p, g, s0, s1, k);
  }
};
struct LionU {
  __device__ void operator()(float& p, float g, float& s0, float&, float&, const StepScalars<float>& k) const {
    math::lion_update(p, g, s0, k);
  }
};

}  // namespace

void activation_forward(const Activation& f, const float* z, float* a, size_t rows, size_t cols,
                        cudaStream_t s) {
  const size_t n = rows * cols;
  if (n == 0) return;
  if (f.rowwise()) {
    softmax_fwd_kernel<<<unsigned((rows + kThreads - 1) / kThreads), kThreads, 0, s>>>(
        z, a, rows, cols, f.kind == ActKind::LogSoftmax);
  } else {
    math::visit_elementwise<float>(f, [&](auto fn) {
      act_fwd_kernel<<<blocks_for(n), kThreads, 0, s>>>(fn, z, a, n);
    });
  }
  launched("activation forward");
}

void activation_backward(const Activation& f, const float* z, const float* a, const float* da,
                         float* dz, size_t rows, size_t cols, cudaStream_t s) {
  const size_t n = rows * cols;
  if (n == 0) return;
  if (f.rowwise()) {
    softmax_bwd_kernel<<<unsigned((rows + kThreads - 1) / kThreads), kThreads, 0, s>>>(
        a, da, dz, rows, cols, f.kind == ActKind::LogSoftmax);
  } else {
    math::visit_elementwise<float>(f, [&](auto fn) {
      act_bwd_kernel<<<blocks_for(n), kThreads, 0, s>>>(fn, z, a, da, dz, n);
    });
  }
  launched("activation backward");
}

void column_sums(const float* m, size_t rows, size_t cols, float* out, cudaStream_t s, bool accumulate) {
  if (cols == 0) return;
  column_sums_kernel<<<unsigned((cols + kThreads - 1) / kThreads), kThreads, 0, s>>>(m, rows, cols, out,
                                                                                     accumulate);
  launched("column sums");
}

void gather(const float* X, const float* Y, const float* W, size_t din, size_t yc,
            const int64_t* index, size_t rows, float* x, float* y, float* w, cudaStream_t s) {
  const size_t n = rows * (din + yc + (W ? 1 : 0));
  if (n == 0) return;
  gather_kernel<<<blocks_for(n), kThreads, 0, s>>>(X, Y, W, din, yc, index, rows, x, y, w);
  launched("gather");
}

void dropout_forward(const float* x, float* out, float* mask, size_t n, float rate, uint64_t seed,
                     uint64_t step, cudaStream_t s) {
  if (n == 0) return;
  dropout_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, out, mask, n, rate, seed, step);
  launched("dropout");
}

void multiply(const float* a, const float* b, float* c, size_t n, cudaStream_t s) {
  if (n == 0) return;
  multiply_kernel<<<blocks_for(n), kThreads, 0, s>>>(a, b, c, n);
  launched("multiply");
}

void loss(const Loss& L, const float* pred, const float* y, const float* w, size_t rows,
          size_t cols, double denominator, float* grad, double* row_loss, double* sum_out,
          int* hinge01_scratch, int* bad_label, cudaStream_t s) {
  if (rows == 0) {
    check(cudaMemsetAsync(sum_out, 0, sizeof(double), s), "loss");
    return;
  }
  const int* hinge01 = nullptr;
  if (L.kind == LossKind::Hinge || L.kind == LossKind::SquaredHinge) {
    hinge01_kernel<<<1, kReduceThreads, 0, s>>>(y, rows * L.label_cols(cols), hinge01_scratch);
    hinge01 = hinge01_scratch;
  }
  loss_kernel<<<unsigned((rows + kThreads - 1) / kThreads), kThreads, 0, s>>>(
      L, pred, y, w, rows, cols, 1.0 / denominator, grad, row_loss, hinge01, bad_label);
  sum_kernel<<<1, kReduceThreads, 0, s>>>(row_loss, rows, sum_out);
  launched("loss");
}

void to_float(const double* v, float* out, size_t n, cudaStream_t s) {
  if (n == 0) return;
  to_float_kernel<<<blocks_for(n), kThreads, 0, s>>>(v, out, n);
  launched("to_float");
}

void sum(const double* v, size_t n, double* out, cudaStream_t s) {
  sum_kernel<<<1, kReduceThreads, 0, s>>>(v, n, out);
  launched("sum");
}

void regularizer_grad(const float* w, float* g, size_t n, float l1, float l2x2, cudaStream_t s) {
  if (n == 0) return;
  reg_grad_kernel<<<blocks_for(n), kThreads, 0, s>>>(w, g, n, l1, l2x2);
  launched("regularizer gradient");
}

void regularizer_penalty(const float* w, size_t n, double l1, double l2, double* penalty,
                         cudaStream_t s) {
  reg_penalty_kernel<<<1, kReduceThreads, 0, s>>>(w, n, l1, l2, penalty);
  launched("regularizer penalty");
}

void clip_norm(float* g, size_t n, double max_norm, cudaStream_t s) {
  clip_norm_kernel<<<1, kReduceThreads, 0, s>>>(g, n, max_norm);
  launched("clipnorm");
}

void clip_global_norm(float* grads, const uint64_t* segs, size_t nsegs, double max_norm,
                      cudaStream_t s) {
  clip_global_kernel<<<1, kReduceThreads, 0, s>>>(grads, segs, nsegs, max_norm);
  launched("global_clipnorm");
}

void optimizer_update(const OptimizerConfig& c, float* params, float* grads, float* state,
                      size_t arena, int slots, size_t offset, size_t n,
                      const StepScalars<float>* k, cudaStream_t s) {
  if (n == 0) return;
  float* p = params + offset;
  float* g = grads + offset;
  auto slot = [&](int i) { return i < slots ? state + size_t(i) * arena + offset : nullptr; };
  float *s0 = slot(0), *s1 = slot(1), *s2 = slot(2);
  const bool clip = c.clipvalue > 0 && !(c.clipnorm > 0) && !(c.global_clipnorm > 0);
  const bool decay = c.weight_decay > 0;
  const unsigned b = blocks_for(n);
  auto go = [&](auto u) { opt_kernel<<<b, kThreads, 0, s>>>(u, p, g, s0, s1, s2, n, k, clip, decay); };
  switch (c.kind) {
    case OptKind::SGD:
      if (c.momentum > 0) {
        if (c.nesterov)
          go(SgdMomU<true>{});
        else
          go(SgdMomU<false>{});
      } else {
        go(SgdU{});
      }
      break;
    case OptKind::Adam:
    case OptKind::AdamW:
      if (c.amsgrad)
        go(AmsgradU{});
      else
        go(AdamU{});
      break;
    case OptKind::RMSprop:
      if (c.centered) {
        if (c.momentum > 0)
          go(RmsU<true, true>{});
        else
          go(RmsU<false, true>{});
      } else {
        if (c.momentum > 0)
          go(RmsU<true, false>{});
        else
          go(RmsU<false, false>{});
      }
      break;
    case OptKind::Adagrad: go(AdagradU{}); break;
    case OptKind::Adadelta: go(AdadeltaU{}); break;
    case OptKind::Adamax: go(AdamaxU{}); break;
    case OptKind::Nadam: go(NadamU{}); break;
    case OptKind::Lion: go(LionU{}); break;
  }
  launched("optimizer update");
}

}  // namespace cuda
}  // namespace fastnn
