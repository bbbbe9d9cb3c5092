// Launchers of the CUDA backend's kernels. Each runs the engine's per-element formulas (math/) on
// device memory, queued on `s`; none synchronises. Shapes and layouts as in the CPU engine
// (row-major, rows x cols). Reductions run in a fixed order inside one block, so a sum never
// depends on timing.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "fastnn/activations.h"
#include "fastnn/losses.h"
#include "fastnn/optimizers.h"

namespace fastnn {
namespace cuda {

// a = f(z) (a may alias z); row-wise kinds act on whole rows.
void activation_forward(const Activation& f, const float* z, float* a, size_t rows, size_t cols,
                        cudaStream_t s);
// dz = da * f'(z) (z may be null for kinds whose derivative needs only a; dz may alias da).
void activation_backward(const Activation& f, const float* z, const float* a, const float* da,
                         float* dz, size_t rows, size_t cols, cudaStream_t s);
// out[j] = sum over rows of m[r, j] (bias gradients), rows summed in order; accumulate: out[j] +=.
void column_sums(const float* m, size_t rows, size_t cols, float* out, cudaStream_t s,
                 bool accumulate = false);
// Batch rows by index from a device-resident data set: x[r] = X[index[r]], likewise y and w.
void gather(const float* X, const float* Y, const float* W, size_t din, size_t yc,
            const int64_t* index, size_t rows, float* x, float* y, float* w, cudaStream_t s);
// Dropout in training: mask = (u >= rate) / (1 - rate) from a counter-based hash of
// (seed, step, element); out = x * mask.
void dropout_forward(const float* x, float* out, float* mask, size_t n, float rate, uint64_t seed,
                     uint64_t step, cudaStream_t s);
// c = a * b element-wise.
void multiply(const float* a, const float* b, float* c, size_t n, cudaStream_t s);

// The loss of one batch (the contract of losses.h): row_loss[r] = w_r * loss_r (double), grad (may
// be null) = d(sum_r w_r loss_r / denominator) / d pred, then *sum_out = sum of row_loss in a fixed
// order. Invalid sparse labels set *bad_label to 1 (their rows contribute 0).
void loss(const Loss& L, const float* pred, const float* y, const float* w, size_t rows,
          size_t cols, double denominator, float* grad, double* row_loss, double* sum_out,
          int* hinge01_scratch, int* bad_label, cudaStream_t s);
// per_sample[r] = float(row_loss[r]).
void to_float(const double* v, float* out, size_t n, cudaStream_t s);
// Sum of n doubles in a fixed order into *out (the metric and loss sums).
void sum(const double* v, size_t n, double* out, cudaStream_t s);

// Regularizers on one variable: grad += l1 sign(w) + 2 l2 w, and *penalty += l1 |w| + l2 w^2.
void regularizer_grad(const float* w, float* g, size_t n, float l1, float l2x2, cudaStream_t s);
void regularizer_penalty(const float* w, size_t n, double l1, double l2, double* penalty,
                         cudaStream_t s);
// Clipping by norm: one variable (clipnorm) or all of them together (global_clipnorm).
void clip_norm(float* g, size_t n, double max_norm, cudaStream_t s);
// segs: device array of (offset, size) pairs of the trainable variables.
void clip_global_norm(float* grads, const uint64_t* segs, size_t nsegs, double max_norm,
                      cudaStream_t s);
// One optimizer step on elements [offset, offset + n) of the arenas: clipping by value, decoupled
// weight decay and the update of `c.kind`, fused in one pass. state: the slots, each `arena` long.
// k: the step's scalars on the device.
void optimizer_update(const OptimizerConfig& c, float* params, float* grads, float* state,
                      size_t arena, int slots, size_t offset, size_t n,
                      const StepScalars<float>* k, cudaStream_t s);

}  // namespace cuda
}  // namespace fastnn
