// Layers: Dense (GEMM with fused bias and activation), Activation, Dropout, BatchNormalization,
// LayerNormalization, and Keras's per-feature layers (Normalization, Rescaling, the noise layers,
// UnitNormalization, PReLU). See layers.h for the contract.
#include "fastnn/layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fastnn/backend.h"
#include "fastnn/common.h"
#include "fastnn/threadpool.h"

namespace fastnn {
namespace {

template <typename T>
struct ForwardEpCtx {
  const Activation* act;
  T* dst;  // where the activation's output goes (may be the block itself)
  size_t ld;
};

template <typename T>
void forward_epilogue(const void* p, T* c, size_t ldc, size_t r0, size_t c0, size_t m, size_t n) {
  const auto* ctx = static_cast<const ForwardEpCtx<T>*>(p);
  T* dst = ctx->dst ? ctx->dst + r0 * ctx->ld + c0 : c;
  activation_forward(*ctx->act, c, ldc, dst, ctx->dst ? ctx->ld : ldc, m, n);
}

template <typename T>
void grad_epilogue_fn(const void* p, T* c, size_t ldc, size_t r0, size_t c0, size_t m, size_t n) {
  const auto* ctx = static_cast<const GradEpilogueCtx<T>*>(p);
  if (ldc != ctx->ld) throw ValueError("internal: gradient epilogue leading dimension mismatch");
  const size_t o = r0 * ctx->ld + c0;
  activation_backward(*ctx->act, ctx->z ? ctx->z + o : nullptr, ctx->a ? ctx->a + o : nullptr, c, c,
                      m, n, ctx->ld);
}

// Runs a lower layer's gradient epilogue on a whole dx matrix (for layers whose dx is not a GEMM).
template <typename T>
void apply_dx_epilogue(const Epilogue<T>* ep, T* dx, size_t rows, size_t cols) {
  if (ep && ep->fn && rows) ep->fn(ep->ctx, dx, cols, 0, 0, rows, cols);
}

}  // namespace

// ---------------------------------------------------------------------------------------- Dense
template <typename T>
Dense<T>::Dense(size_t in, size_t out, bool use_bias, const Activation& act)
    : Layer<T>(in, out), use_bias_(use_bias), act_(act) {
  keep_z_ = !act_.derivative_from_output();
  ParamSpec k;
  k.name = "kernel";
  k.rows = in;
  k.cols = out;
  this->params.push_back(k);
  if (use_bias) {
    ParamSpec b;
    b.name = "bias";
    b.rows = 1;
    b.cols = out;
    this->params.push_back(b);
  }
}

template <typename T>
void Dense<T>::set_keep_preactivation(bool k) {
  force_keep_z_ = k;
  keep_z_ = k || !act_.derivative_from_output();
}

// A Dense product: float32 with bfloat16 inputs where the context asks for mixed precision.
template <typename T>
void dense_gemm(const LayerCtx<T>& c, bool ta, bool tb, size_t M, size_t N, size_t K, const T* A,
                size_t lda, const T* B, size_t ldb, T beta, T* C, size_t ldc,
                const Epilogue<T>* ep) {
  if (c.bf16) return c.backend->gemm_bf16(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, ep, c.pool);
  c.backend->gemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, ep, c.pool);
}

template <typename T>
void Dense<T>::forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux, bool) {
  if (rows == 0) return;
  const size_t in = this->in_, n = this->out_;
  const T* W = c.params + this->params[0].offset;
  Epilogue<T> ep;
  ep.bias = use_bias_ ? c.params + this->params[1].offset : nullptr;
  ForwardEpCtx<T> ectx{&act_, nullptr, n};
  const bool elementwise = !act_.is_identity() && !act_.rowwise();
  if (elementwise) {
    ep.fn = &forward_epilogue<T>;
    ep.ctx = &ectx;
    ep.relu = act_.is_plain_relu() && !keep_z_;
  }
  if (keep_z_) {
    ectx.dst = out;
    dense_gemm(c, false, false, rows, n, in, x, in, W, n, T(0), aux, n, &ep);
    if (act_.is_identity())
      std::memcpy(out, aux, sizeof(T) * rows * n);
    else if (act_.rowwise())
      c.backend->activation_forward(act_, aux, n, out, n, rows, n);
  } else {
    dense_gemm(c, false, false, rows, n, in, x, in, W, n, T(0), out, n, &ep);
    if (act_.rowwise()) c.backend->activation_forward(act_, out, n, out, n, rows, n);
  }
}

template <typename T>
void Dense<T>::backward(const LayerCtx<T>& c, const T* x, const T* out, const T* aux, T* dout,
                        bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                        bool accumulate) {
  const size_t in = this->in_, n = this->out_;
  if (!dout_is_preact && !act_.is_identity())
    c.backend->activation_backward(act_, keep_z_ ? aux : nullptr, out, dout, dout, rows, n, n);
  const T* dz = dout;
  if (this->trainable && c.param_grads) {
    T* dW = c.grads + this->params[0].offset;
    if (rows == 0) {
      if (!accumulate) std::fill(dW, dW + in * n, T(0));
    } else {
      dense_gemm(c, true, false, in, n, rows, x, in, dz, n, accumulate ? T(1) : T(0), dW, n,
                 static_cast<const Epilogue<T>*>(nullptr));
    }
    if (use_bias_)
      c.backend->column_sums(dz, rows, n, c.grads + this->params[1].offset, accumulate);
  }
  if (dx && rows) {
    const T* W = c.params + this->params[0].offset;
    dense_gemm(c, false, true, rows, in, n, dz, n, W, n, T(0), dx, in, dx_ep);
  }
}

template <typename T>
bool Dense<T>::grad_epilogue(const T* out, const T* aux, Epilogue<T>& ep,
                             GradEpilogueCtx<T>& ctx) const {
  if (act_.is_identity() || act_.rowwise()) return false;
  ctx.act = &act_;
  ctx.z = keep_z_ ? aux : nullptr;
  ctx.a = out;
  ctx.ld = this->out_;
  ep.bias = nullptr;
  ep.fn = &grad_epilogue_fn<T>;
  ep.ctx = &ctx;
  ep.relu = false;
  return true;
}

// ----------------------------------------------------------------------------------- Activation
template <typename T>
void ActivationLayer<T>::forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T*, bool) {
  c.backend->activation_forward(act_, x, this->in_, out, this->out_, rows, this->out_);
}

template <typename T>
void ActivationLayer<T>::backward(const LayerCtx<T>& c, const T* x, const T* out, const T*, T* dout,
                                  bool dout_is_preact, T* dx, const Epilogue<T>* dx_ep, size_t rows,
                                  bool) {
  if (!dx) return;
  const size_t n = this->out_;
  if (dout_is_preact)
    std::memcpy(dx, dout, sizeof(T) * rows * n);
  else
    c.backend->activation_backward(act_, x, out, dout, dx, rows, n, n);
  apply_dx_epilogue(dx_ep, dx, rows, n);
}

// -------------------------------------------------------------------------------------- Dropout
template <typename T>
void Dropout<T>::forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
                         bool training) {
  const size_t n = rows * this->out_;
  if (!training || rate_ <= 0.0) {
    std::memcpy(out, x, sizeof(T) * n);
    if (aux) std::fill(aux, aux + n, T(1));
    return;
  }
  const T scale = T(1.0 / (1.0 - rate_));
  if (c.row_streams) {
    const size_t d = this->out_;
    for (size_t r = 0; r < rows; ++r) {
      Rng g(c.row_key ^ (0x9E3779B97F4A7C15ull * uint64_t(c.row0 + r + 1)));
      for (size_t j = r * d; j < (r + 1) * d; ++j) {
        T m = g.uniform() >= rate_ ? scale : T(0);
        aux[j] = m;
        out[j] = x[j] * m;
      }
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    T m = c.rng->uniform() >= rate_ ? scale : T(0);
    aux[i] = m;
    out[i] = x[i] * m;
  }
}

template <typename T>
void Dropout<T>::backward(const LayerCtx<T>&, const T*, const T*, const T* aux, T* dout, bool,
                          T* dx, const Epilogue<T>* dx_ep, size_t rows, bool) {
  if (!dx) return;
  const size_t n = rows * this->out_;
  for (size_t i = 0; i < n; ++i) dx[i] = dout[i] * aux[i];
  apply_dx_epilogue(dx_ep, dx, rows, this->out_);
}

// --------------------------------------------------------------------------- BatchNormalization
namespace {
void add_param(std::vector<ParamSpec>& ps, const char* name, size_t n, bool trainable,
               InitKind init) {
  ParamSpec p;
  p.name = name;
  p.rows = 1;
  p.cols = n;
  p.trainable = trainable;
  p.init.kind = init;
  ps.push_back(p);
}
}  // namespace

template <typename T>
BatchNorm<T>::BatchNorm(size_t dim, double momentum, double epsilon, bool center, bool scale)
    : Layer<T>(dim, dim), momentum_(momentum), eps_(epsilon), center_(center), scale_(scale) {
  if (scale) {
    gamma_ = int(this->params.size());
    add_param(this->params, "gamma", dim, true, InitKind::Ones);
  }
  if (center) {
    beta_ = int(this->params.size());
    add_param(this->params, "beta", dim, true, InitKind::Zeros);
  }
  mean_ = int(this->params.size());
  add_param(this->params, "moving_mean", dim, false, InitKind::Zeros);
  var_ = int(this->params.size());
  add_param(this->params, "moving_variance", dim, false, InitKind::Ones);
  inv_std_.assign(dim, 0.0);
}

template <typename T>
void BatchNorm<T>::forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
                           bool training) {
  const size_t d = this->out_;
  const T* gamma = gamma_ >= 0 ? c.params + this->params[gamma_].offset : nullptr;
  const T* beta = beta_ >= 0 ? c.params + this->params[beta_].offset : nullptr;
  T* mm = c.params + this->params[mean_].offset;
  T* mv = c.params + this->params[var_].offset;
  const bool batch_stats = training && this->trainable && rows > 0;
  if (training) last_used_batch_stats_ = batch_stats;
  if (batch_stats) {
    s0_.assign(d, 0.0);
    s1_.assign(d, 0.0);
    std::vector<double>& mean = s0_;
    std::vector<double>& var = s1_;
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < d; ++j) mean[j] += double(x[r * d + j]);
    for (size_t j = 0; j < d; ++j) mean[j] /= double(rows);
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < d; ++j) {
        double e = double(x[r * d + j]) - mean[j];
        var[j] += e * e;
      }
    for (size_t j = 0; j < d; ++j) {
      var[j] /= double(rows);
      inv_std_[j] = 1.0 / std::sqrt(var[j] + eps_);
      mm[j] = T(double(mm[j]) * momentum_ + mean[j] * (1.0 - momentum_));
      mv[j] = T(double(mv[j]) * momentum_ + var[j] * (1.0 - momentum_));
    }
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < d; ++j) {
        T xh = T((double(x[r * d + j]) - mean[j]) * inv_std_[j]);
        if (aux) aux[r * d + j] = xh;
        out[r * d + j] = (gamma ? gamma[j] * xh : xh) + (beta ? beta[j] : T(0));
      }
    return;
  }
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < d; ++j) {
      T inv = T(1.0 / std::sqrt(double(mv[j]) + eps_));
      T xh = (x[r * d + j] - mm[j]) * inv;
      if (aux) aux[r * d + j] = xh;
      out[r * d + j] = (gamma ? gamma[j] * xh : xh) + (beta ? beta[j] : T(0));
    }
}

template <typename T>
void BatchNorm<T>::backward(const LayerCtx<T>& c, const T*, const T*, const T* aux, T* dout, bool,
                            T* dx, const Epilogue<T>* dx_ep, size_t rows, bool accumulate) {
  const size_t d = this->out_;
  const T* gamma = gamma_ >= 0 ? c.params + this->params[gamma_].offset : nullptr;
  // Differentiating an inference-mode pass uses the moving statistics, whatever the last training
  // batch did.
  const bool batch_stats = c.training && last_used_batch_stats_;
  const bool param_grads = this->trainable && c.param_grads;
  if (!param_grads && !batch_stats) {
    // Input gradient only (attributions): no per-feature sums, so no shared scratch is written and
    // several of these may run at once on one network.
    if (!dx) return;
    const T* mv = c.params + this->params[var_].offset;
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < d; ++j) {
        T inv = T(1.0 / std::sqrt(double(mv[j]) + eps_));
        dx[r * d + j] = dout[r * d + j] * (gamma ? gamma[j] : T(1)) * inv;
      }
    apply_dx_epilogue(dx_ep, dx, rows, d);
    return;
  }
  s0_.assign(d, 0.0);
  s1_.assign(d, 0.0);
  std::vector<double>& sum_dy = s0_;
  std::vector<double>& sum_dy_xh = s1_;
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < d; ++j) {
      double g = double(dout[r * d + j]);
      sum_dy[j] += g;
      sum_dy_xh[j] += g * double(aux[r * d + j]);
    }
  if (param_grads) {
    if (gamma_ >= 0) {
      T* dg = c.grads + this->params[gamma_].offset;
      for (size_t j = 0; j < d; ++j) dg[j] = (accumulate ? dg[j] : T(0)) + T(sum_dy_xh[j]);
    }
    if (beta_ >= 0) {
      T* db = c.grads + this->params[beta_].offset;
      for (size_t j = 0; j < d; ++j) db[j] = (accumulate ? db[j] : T(0)) + T(sum_dy[j]);
    }
  }
  if (!dx) return;
  if (batch_stats) {
    const double n = double(rows);
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < d; ++j) {
        double gj = gamma ? double(gamma[j]) : 1.0;
        double dxh = double(dout[r * d + j]) * gj;
        double v = inv_std_[j] / n *
                   (n * dxh - sum_dy[j] * gj - double(aux[r * d + j]) * sum_dy_xh[j] * gj);
        dx[r * d + j] = T(v);
      }
  } else {
    const T* mv = c.params + this->params[var_].offset;
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < d; ++j) {
        T inv = T(1.0 / std::sqrt(double(mv[j]) + eps_));
        dx[r * d + j] = dout[r * d + j] * (gamma ? gamma[j] : T(1)) * inv;
      }
  }
  apply_dx_epilogue(dx_ep, dx, rows, d);
}

// --------------------------------------------------------------------------- LayerNormalization
template <typename T>
LayerNorm<T>::LayerNorm(size_t dim, double epsilon, bool center, bool scale)
    : Layer<T>(dim, dim), eps_(epsilon), center_(center), scale_(scale) {
  if (scale) {
    gamma_ = int(this->params.size());
    add_param(this->params, "gamma", dim, true, InitKind::Ones);
  }
  if (center) {
    beta_ = int(this->params.size());
    add_param(this->params, "beta", dim, true, InitKind::Zeros);
  }
}

template <typename T>
void LayerNorm<T>::forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux, bool) {
  const size_t d = this->out_, la = d + 1;
  const T* gamma = gamma_ >= 0 ? c.params + this->params[gamma_].offset : nullptr;
  const T* beta = beta_ >= 0 ? c.params + this->params[beta_].offset : nullptr;
  for (size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * d;
    double mean = 0, var = 0;
    for (size_t j = 0; j < d; ++j) mean += double(xr[j]);
    mean /= double(d);
    for (size_t j = 0; j < d; ++j) var += (double(xr[j]) - mean) * (double(xr[j]) - mean);
    var /= double(d);
    const double inv = 1.0 / std::sqrt(var + eps_);
    for (size_t j = 0; j < d; ++j) {
      T xh = T((double(xr[j]) - mean) * inv);
      if (aux) aux[r * la + j] = xh;
      out[r * d + j] = (gamma ? gamma[j] * xh : xh) + (beta ? beta[j] : T(0));
    }
    if (aux) aux[r * la + d] = T(inv);
  }
}

template <typename T>
void LayerNorm<T>::backward(const LayerCtx<T>& c, const T*, const T*, const T* aux, T* dout, bool,
                            T* dx, const Epilogue<T>* dx_ep, size_t rows, bool accumulate) {
  const size_t d = this->out_, la = d + 1;
  const T* gamma = gamma_ >= 0 ? c.params + this->params[gamma_].offset : nullptr;
  if (this->trainable && c.param_grads) {
    if (gamma_ >= 0) {
      T* dg = c.grads + this->params[gamma_].offset;
      if (!accumulate) std::fill(dg, dg + d, T(0));
      for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < d; ++j) dg[j] += dout[r * d + j] * aux[r * la + j];
    }
    if (beta_ >= 0)
      c.backend->column_sums(dout, rows, d, c.grads + this->params[beta_].offset, accumulate);
  }
  if (!dx) return;
  for (size_t r = 0; r < rows; ++r) {
    const T* g = dout + r * d;
    const T* xh = aux + r * la;
    const double inv = double(xh[d]);
    double m1 = 0, m2 = 0;
    for (size_t j = 0; j < d; ++j) {
      double dxh = double(g[j]) * (gamma ? double(gamma[j]) : 1.0);
      m1 += dxh;
      m2 += dxh * double(xh[j]);
    }
    m1 /= double(d);
    m2 /= double(d);
    for (size_t j = 0; j < d; ++j) {
      double dxh = double(g[j]) * (gamma ? double(gamma[j]) : 1.0);
      dx[r * d + j] = T(inv * (dxh - m1 - double(xh[j]) * m2));
    }
  }
  apply_dx_epilogue(dx_ep, dx, rows, d);
}

// -------------------------------------------------------------------------------- Normalization
template <typename T>
Standardize<T>::Standardize(size_t dim, bool invert) : Layer<T>(dim, dim), invert_(invert) {
  add_param(this->params, "mean", dim, false, InitKind::Zeros);
  add_param(this->params, "variance", dim, false, InitKind::Ones);
  add_param(this->params, "count", 1, false, InitKind::Zeros);
}

template <typename T>
T Standardize<T>::factor(const LayerCtx<T>& c, size_t j) const {
  const T* var = c.params + this->params[1].offset;
  const double sd = std::max(std::sqrt(double(var[j])), 1e-7);  // Keras's backend.epsilon()
  return T(invert_ ? sd : 1.0 / sd);
}

template <typename T>
void Standardize<T>::forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T*, bool) {
  const size_t d = this->out_;
  const T* mean = c.params + this->params[0].offset;
  for (size_t j = 0; j < d; ++j) {
    const T f = factor(c, j), m = mean[j];
    for (size_t r = 0; r < rows; ++r)
      out[r * d + j] = invert_ ? m + x[r * d + j] * f : (x[r * d + j] - m) * f;
  }
}

template <typename T>
void Standardize<T>::backward(const LayerCtx<T>& c, const T*, const T*, const T*, T* dout, bool,
                              T* dx, const Epilogue<T>* dx_ep, size_t rows, bool) {
  if (!dx) return;
  const size_t d = this->out_;
  for (size_t j = 0; j < d; ++j) {
    const T f = factor(c, j);
    for (size_t r = 0; r < rows; ++r) dx[r * d + j] = dout[r * d + j] * f;
  }
  apply_dx_epilogue(dx_ep, dx, rows, d);
}

// ------------------------------------------------------------------------------------ Rescaling
template <typename T>
void Rescale<T>::forward(const LayerCtx<T>&, const T* x, size_t rows, T* out, T*, bool) {
  const T s = T(scale_), o = T(offset_);
  const size_t n = rows * this->out_;
  for (size_t i = 0; i < n; ++i) out[i] = x[i] * s + o;
}

template <typename T>
void Rescale<T>::backward(const LayerCtx<T>&, const T*, const T*, const T*, T* dout, bool, T* dx,
                          const Epilogue<T>* dx_ep, size_t rows, bool) {
  if (!dx) return;
  const T s = T(scale_);
  const size_t n = rows * this->out_;
  for (size_t i = 0; i < n; ++i) dx[i] = dout[i] * s;
  apply_dx_epilogue(dx_ep, dx, rows, this->out_);
}

// --------------------------------------------------------------------------------- noise layers
template <typename T>
void Noise<T>::forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T* aux,
                       bool training) {
  const size_t n = rows * this->out_;
  last_training_ = training && p_ > 0;
  if (!last_training_) {
    std::memcpy(out, x, sizeof(T) * n);
    if (aux) std::fill(aux, aux + n, T(1));
    return;
  }
  switch (kind_) {
    case NoiseKind::GaussianNoise:
      for (size_t i = 0; i < n; ++i) out[i] = x[i] + T(p_ * c.rng->normal());
      break;
    case NoiseKind::GaussianDropout: {
      const double sd = std::sqrt(p_ / (1.0 - p_));
      for (size_t i = 0; i < n; ++i) {
        const T m = T(1.0 + sd * c.rng->normal());
        aux[i] = m;
        out[i] = x[i] * m;
      }
      break;
    }
    case NoiseKind::AlphaDropout: {
      const double alpha = 1.6732632423543772848170429916717;
      const double scale = 1.0507009873554804934193349852946;
      const double alpha_p = -alpha * scale;
      const double a = 1.0 / std::sqrt((1.0 - p_) * (1.0 + p_ * alpha_p * alpha_p));
      const double b = -a * alpha_p * p_;
      const T ta = T(a), tb = T(b), dropped = T(a * alpha_p + b);
      for (size_t i = 0; i < n; ++i) {
        const bool kept = c.rng->uniform() >= p_;
        aux[i] = kept ? ta : T(0);
        out[i] = kept ? ta * x[i] + tb : dropped;
      }
      break;
    }
  }
}

template <typename T>
void Noise<T>::backward(const LayerCtx<T>&, const T*, const T*, const T* aux, T* dout, bool,
                        T* dx, const Epilogue<T>* dx_ep, size_t rows, bool) {
  if (!dx) return;
  const size_t n = rows * this->out_;
  if (kind_ == NoiseKind::GaussianNoise || !aux)
    std::memcpy(dx, dout, sizeof(T) * n);
  else
    for (size_t i = 0; i < n; ++i) dx[i] = dout[i] * aux[i];
  apply_dx_epilogue(dx_ep, dx, rows, this->out_);
}

// ---------------------------------------------------------------------------- UnitNormalization
template <typename T>
void UnitNorm<T>::forward(const LayerCtx<T>&, const T* x, size_t rows, T* out, T* aux, bool) {
  const size_t d = this->out_;
  for (size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * d;
    double ss = 0;
    for (size_t j = 0; j < d; ++j) ss += double(xr[j]) * double(xr[j]);
    // Keras: min(rsqrt(sum of squares), 1 / epsilon) with epsilon 1e-12.
    const bool clamped = !(ss > 1e-24);
    const double inv = clamped ? 1e12 : 1.0 / std::sqrt(ss);
    for (size_t j = 0; j < d; ++j) out[r * d + j] = T(double(xr[j]) * inv);
    if (aux) {
      aux[2 * r] = T(inv);
      aux[2 * r + 1] = T(clamped ? 1 : 0);
    }
  }
}

template <typename T>
void UnitNorm<T>::backward(const LayerCtx<T>&, const T*, const T* out, const T* aux, T* dout,
                           bool, T* dx, const Epilogue<T>* dx_ep, size_t rows, bool) {
  if (!dx) return;
  const size_t d = this->out_;
  for (size_t r = 0; r < rows; ++r) {
    const T* g = dout + r * d;
    const T* y = out + r * d;
    const double inv = double(aux[2 * r]);
    double gy = 0;
    if (aux[2 * r + 1] == T(0))
      for (size_t j = 0; j < d; ++j) gy += double(g[j]) * double(y[j]);
    for (size_t j = 0; j < d; ++j) dx[r * d + j] = T(inv * (double(g[j]) - double(y[j]) * gy));
  }
  apply_dx_epilogue(dx_ep, dx, rows, d);
}

// ---------------------------------------------------------------------------------------- PReLU
template <typename T>
PReLU<T>::PReLU(size_t dim) : Layer<T>(dim, dim) {
  add_param(this->params, "alpha", dim, true, InitKind::Zeros);
}

template <typename T>
void PReLU<T>::forward(const LayerCtx<T>& c, const T* x, size_t rows, T* out, T*, bool) {
  const size_t d = this->out_;
  const T* alpha = c.params + this->params[0].offset;
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < d; ++j) {
      const T v = x[r * d + j];
      out[r * d + j] = v > T(0) ? v : alpha[j] * v;
    }
}

template <typename T>
void PReLU<T>::backward(const LayerCtx<T>& c, const T* x, const T*, const T*, T* dout, bool,
                        T* dx, const Epilogue<T>* dx_ep, size_t rows, bool accumulate) {
  const size_t d = this->out_;
  const T* alpha = c.params + this->params[0].offset;
  if (this->trainable && c.param_grads) {
    T* da = c.grads + this->params[0].offset;
    if (!accumulate) std::fill(da, da + d, T(0));
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < d; ++j) {
        const T v = x[r * d + j];
        if (v < T(0)) da[j] += dout[r * d + j] * v;
      }
  }
  if (!dx) return;
  // The derivative at exactly 0 is 0 on both sides (relu(x) - alpha * relu(-x), as Keras writes it).
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < d; ++j) {
      const T v = x[r * d + j];
      dx[r * d + j] = v > T(0) ? dout[r * d + j] : v < T(0) ? alpha[j] * dout[r * d + j] : T(0);
    }
  apply_dx_epilogue(dx_ep, dx, rows, d);
}

template class Standardize<float>;
template class Standardize<double>;
template class Rescale<float>;
template class Rescale<double>;
template class Noise<float>;
template class Noise<double>;
template class UnitNorm<float>;
template class UnitNorm<double>;
template class PReLU<float>;
template class PReLU<double>;
template class Dense<float>;
template class Dense<double>;
template class ActivationLayer<float>;
template class ActivationLayer<double>;
template class Dropout<float>;
template class Dropout<double>;
template class BatchNorm<float>;
template class BatchNorm<double>;
template class LayerNorm<float>;
template class LayerNorm<double>;

}  // namespace fastnn
