// Bindings of the network: one class per dtype owning a Network and its Trainer; every call that
// does native work releases the GIL and takes the network's lock (shared to read, exclusive to
// write) with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <type_traits>

#include "bind.h"
#include "collective.h"
#include "convert.h"
#include "fastnn/fpmode.h"
#include "fastnn/gemm.h"
#include "fastnn/layers.h"
#include "fastnn/network.h"
#include "fastnn/threadpool.h"
#include "fastnn/trainer.h"

namespace fastnn_py {

using namespace fastnn;

namespace {

py::object attr_of(const py::dict& attrs, const std::string& kind, const char* name) {
  if (!attrs.contains(name))
    throw ValueError("add_layer('" + kind + "'): missing attribute '" + name + "'");
  return attrs[name];
}

// Takes a network lock with the GIL released, so a thread waiting for the lock never blocks Python.
template <typename Lock, typename M>
Lock lock_nogil(M& m) {
  py::gil_scoped_release nogil;
  return Lock(m);
}

// --- Network ------------------------------------------------------------------------------------
template <typename T>
class PyNetwork {
 public:
  PyNetwork(size_t input_dim, uint64_t seed) : net_(input_dim, seed), trainer_(net_) {
    net_.set_pool(&ThreadPool::global());
  }
  Network<T>& net() { return net_; }
  Trainer<T>& trainer() { return trainer_; }

  // The one layer factory: kind and named attributes as ModelSpec describes a layer.
  //   dense: units, use_bias, activation, kernel_initializer, bias_initializer,
  //          [kernel_regularizer, bias_regularizer: (l1, l2)]
  //   activation: activation          dropout: rate
  //   batch_normalization: momentum, epsilon, center, scale, initializers (one per variable),
  //          [gamma_regularizer, beta_regularizer]
  //   layer_normalization: epsilon, center, scale, initializers, [gamma_regularizer,
  //   beta_regularizer]
  //   normalization: invert        rescaling: scale, offset        unit_normalization: -
  //   gaussian_noise: stddev       gaussian_dropout, alpha_dropout: rate
  //   prelu: alpha_initializer, [alpha_regularizer]
  void add_layer(const std::string& kind, const py::dict& attrs) {
    auto reg = [&](const char* name, ParamSpec& p) {
      if (!attrs.contains(name) || attrs[name].is_none()) return;
      py::sequence s = attrs[name].cast<py::sequence>();
      if (s.size() != 2) throw ValueError(std::string(name) + ": expected (l1, l2)");
      p.l1 = s[0].cast<double>();
      p.l2 = s[1].cast<double>();
    };
    auto reg_named = [&](Layer<T>& l) {
      for (auto& p : l.params) {
        if (p.name == "gamma") reg("gamma_regularizer", p);
        if (p.name == "beta") reg("beta_regularizer", p);
      }
    };
    if (kind == "dense") {
      const int64_t units = attr_of(attrs, kind, "units").cast<int64_t>();
      if (units < 1)
        throw ValueError("dense: units must be positive, got " + std::to_string(units));
      const bool use_bias = attr_of(attrs, kind, "use_bias").cast<bool>();
      Activation act;
      if (attrs.contains("activation") && !attrs["activation"].is_none())
        act = to_activation(attrs["activation"]);
      auto l = std::make_unique<Dense<T>>(net_.output_dim(), size_t(units), use_bias, act);
      l->params[0].init =
          to_initializer(attr_of(attrs, kind, "kernel_initializer"), &l->params[0].seed);
      reg("kernel_regularizer", l->params[0]);
      if (use_bias) {
        l->params[1].init =
            to_initializer(attr_of(attrs, kind, "bias_initializer"), &l->params[1].seed);
        reg("bias_regularizer", l->params[1]);
      }
      net_.add_layer(std::move(l));
    } else if (kind == "activation") {
      net_.add_layer(std::make_unique<ActivationLayer<T>>(
          net_.output_dim(), to_activation(attr_of(attrs, kind, "activation"))));
    } else if (kind == "dropout") {
      const double rate = attr_of(attrs, kind, "rate").cast<double>();
      if (!(rate >= 0 && rate < 1)) throw ValueError("Dropout rate must be in [0, 1)");
      net_.add_layer(std::make_unique<Dropout<T>>(net_.output_dim(), rate));
    } else if (kind == "batch_normalization") {
      auto l = std::make_unique<BatchNorm<T>>(
          net_.output_dim(), attr_of(attrs, kind, "momentum").cast<double>(),
          attr_of(attrs, kind, "epsilon").cast<double>(),
          attr_of(attrs, kind, "center").cast<bool>(), attr_of(attrs, kind, "scale").cast<bool>());
      apply_inits(*l, attr_of(attrs, kind, "initializers").cast<py::list>());
      reg_named(*l);
      net_.add_layer(std::move(l));
    } else if (kind == "layer_normalization") {
      auto l = std::make_unique<LayerNorm<T>>(
          net_.output_dim(), attr_of(attrs, kind, "epsilon").cast<double>(),
          attr_of(attrs, kind, "center").cast<bool>(), attr_of(attrs, kind, "scale").cast<bool>());
      apply_inits(*l, attr_of(attrs, kind, "initializers").cast<py::list>());
      reg_named(*l);
      net_.add_layer(std::move(l));
    } else if (kind == "normalization") {
      auto l = std::make_unique<Standardize<T>>(net_.output_dim(),
                                                attr_of(attrs, kind, "invert").cast<bool>());
      net_.add_layer(std::move(l));
    } else if (kind == "rescaling") {
      const double scale = attr_of(attrs, kind, "scale").cast<double>();
      const double offset = attr_of(attrs, kind, "offset").cast<double>();
      if (!std::isfinite(scale) || !std::isfinite(offset))
        throw ValueError("rescaling: scale and offset must be finite");
      net_.add_layer(std::make_unique<Rescale<T>>(net_.output_dim(), scale, offset));
    } else if (kind == "gaussian_noise" || kind == "gaussian_dropout" || kind == "alpha_dropout") {
      const char* name = kind == "gaussian_noise" ? "stddev" : "rate";
      const double p = attr_of(attrs, kind, name).cast<double>();
      const bool ok = kind == "gaussian_noise" ? (p >= 0 && std::isfinite(p)) : (p >= 0 && p < 1);
      if (!ok) throw ValueError(kind + ": " + name + " out of range");
      const NoiseKind nk = kind == "gaussian_noise"     ? NoiseKind::GaussianNoise
                           : kind == "gaussian_dropout" ? NoiseKind::GaussianDropout
                                                        : NoiseKind::AlphaDropout;
      net_.add_layer(std::make_unique<Noise<T>>(net_.output_dim(), nk, p));
    } else if (kind == "unit_normalization") {
      net_.add_layer(std::make_unique<UnitNorm<T>>(net_.output_dim()));
    } else if (kind == "prelu") {
      auto l = std::make_unique<PReLU<T>>(net_.output_dim());
      l->params[0].init =
          to_initializer(attr_of(attrs, kind, "alpha_initializer"), &l->params[0].seed);
      reg("alpha_regularizer", l->params[0]);
      net_.add_layer(std::move(l));
    } else {
      throw ValueError(
          "add_layer: kind must be one of 'dense', 'activation', 'dropout', "
          "'batch_normalization', 'layer_normalization', 'normalization', 'rescaling', "
          "'gaussian_noise', 'gaussian_dropout', 'alpha_dropout', 'unit_normalization', "
          "'prelu', got '" +
          kind + "'");
    }
  }

  void build() {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    net_.build();
    trainer_.network_built();
  }

  py::list variables() {
    py::list out;
    size_t v = 0;
    for (size_t li = 0; li < net_.num_layers(); ++li)
      for (auto& p : net_.layer(li).params) {
        out.append(py::make_tuple(li, p.name, p.rows, p.cols, p.trainable, v));
        ++v;
      }
    return out;
  }

  py::array_t<T> get_variable(size_t v, bool grad) {
    auto lk = lock_nogil<std::shared_lock<std::shared_mutex>>(net_.mutex());
    const ParamSpec& p = net_.spec(v);
    py::array_t<T> a = p.rows == 1 ? new_array<T>({p.cols}) : new_array<T>({p.rows, p.cols});
    const T* src = (grad ? net_.grads() : net_.params()).data() + p.offset;
    std::memcpy(a.mutable_data(), src, sizeof(T) * p.size());
    return a;
  }
  void set_variable(size_t v, const Arr<T>& a, bool grad) {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    const ParamSpec& p = net_.spec(v);
    if (size_t(a.size()) != p.size())
      throw ValueError("variable '" + p.name + "': expected " + std::to_string(p.size()) +
                       " values, got " + std::to_string(a.size()));
    std::memcpy((grad ? net_.grads() : net_.params()).data() + p.offset, a.data(),
                sizeof(T) * p.size());
  }
  py::array_t<T> arena(bool grad) {
    auto lk = lock_nogil<std::shared_lock<std::shared_mutex>>(net_.mutex());
    auto& v = grad ? net_.grads() : net_.params();
    py::array_t<T> a(v.size());
    if (a.size() != 0)  // a model without weights has empty arenas (null data)
      std::memcpy(a.mutable_data(), v.data(), sizeof(T) * v.size());
    return a;
  }
  void set_arena(const Arr<T>& a, bool grad) {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    auto& v = grad ? net_.grads() : net_.params();
    if (size_t(a.size()) != v.size())
      throw ValueError(grad ? "gradient arena: size mismatch" : "parameter arena: size mismatch");
    if (a.size() != 0)  // a model without weights has empty arenas (null data)
      std::memcpy(v.data(), a.data(), sizeof(T) * a.size());
  }

  void set_loss(const py::tuple& l) {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    net_.set_loss(to_loss(l));
  }
  // "float32" or "bfloat16": the precision of the Dense layers' matrix products.
  void set_matmul_precision(const std::string& p) {
    if (p != "float32" && p != "bfloat16")
      throw ValueError("matmul precision must be 'float32' or 'bfloat16', got '" + p + "'");
    const bool bf16 = p == "bfloat16";
    if (bf16 && !std::is_same_v<T, float>)
      throw ValueError("bfloat16 matrix products need a float32 network");
    if (bf16 && !gemm_bf16_available()) throw std::runtime_error(gemm_bf16_unavailable_reason());
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    net_.set_bf16_matmul(bf16);
  }
  std::string matmul_precision() const { return net_.bf16_matmul() ? "bfloat16" : "float32"; }

  void set_optimizer(const py::dict& d, bool reset) {
    OptimizerConfig c = to_optimizer(d);
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    trainer_.set_optimizer(c, reset);
  }
  void set_objective(bool per_weight_sum, double loss_scale, double report_scale) {
    if (!(loss_scale > 0) || !std::isfinite(loss_scale))
      throw ValueError("loss_scale: expected a positive finite number, got " +
                       std::to_string(loss_scale));
    if (!std::isfinite(report_scale))
      throw ValueError("report_scale: expected a finite number, got " +
                       std::to_string(report_scale));
    Objective o;
    o.per_weight_sum = per_weight_sum;
    o.loss_scale = loss_scale;
    o.report_scale = report_scale;
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    trainer_.set_objective(o);
  }
  void set_learning_rate_schedule(const py::dict& d) {
    Schedule s = to_schedule(d);
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    trainer_.optimizer().mutable_config().lr = s;
  }
  py::array_t<T> optimizer_state() {
    auto lk = lock_nogil<std::shared_lock<std::shared_mutex>>(net_.mutex());
    auto& s = trainer_.optimizer().state();
    py::array_t<T> a(s.size());
    if (a.size() != 0)  // a model without weights has empty arenas (null data)
      std::memcpy(a.mutable_data(), s.data(), sizeof(T) * s.size());
    return a;
  }
  void set_optimizer_state(const Arr<T>& a, int64_t iterations, double scalar) {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    auto& s = trainer_.optimizer().state();
    if (size_t(a.size()) != s.size())
      throw ValueError("optimizer state: expected " + std::to_string(s.size()) + " values, got " +
                       std::to_string(a.size()));
    if (a.size() != 0)  // a model without weights has empty arenas (null data)
      std::memcpy(s.data(), a.data(), sizeof(T) * s.size());
    trainer_.optimizer().set_iterations(iterations);
    trainer_.optimizer().scalar_state() = scalar;
  }
  py::tuple rng_state() {
    uint64_t s[4];
    net_.rng().get_state(s);
    return py::make_tuple(s[0], s[1], s[2], s[3]);
  }
  void set_rng_state(const py::tuple& t) {
    if (t.size() != 4) throw ValueError("rng state must have 4 words");
    uint64_t s[4];
    for (int i = 0; i < 4; ++i) s[i] = t[i].cast<uint64_t>();
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    net_.rng().set_state(s);
  }

  py::array_t<int64_t> shuffle(size_t n) {
    py::array_t<int64_t> perm(n);
    int64_t* p = perm.mutable_data();
    py::gil_scoped_release nogil;
    std::unique_lock<std::shared_mutex> lk(net_.mutex());
    net_.shuffle(p, n);
    return perm;
  }

  py::tuple train(const Arr<T>& X, const Arr<T>& Y, const py::object& W, const py::object& index,
                  size_t batch_size, size_t first_batch, size_t num_batches, bool want_pred,
                  double loss_sum_start) {
    size_t n;
    const T* x = rows_of(X, net_.input_dim(), "x", &n);
    const size_t yc = net_.loss().label_cols(net_.output_dim());
    if (size_t(Y.size()) != n * yc)
      throw ValueError("y: expected " + std::to_string(n) + " x " + std::to_string(yc) + " values");
    Arr<T> wkeep;
    const T* w = optional_rows<T>(W, n, 1, "sample_weight", wkeep);
    py::array_t<int64_t, py::array::c_style | py::array::forcecast> ikeep;
    const int64_t* idx = nullptr;
    if (!index.is_none()) {
      ikeep = index.cast<py::array_t<int64_t, py::array::c_style | py::array::forcecast>>();
      if (size_t(ikeep.size()) != n) throw ValueError("index: expected one entry per row");
      idx = ikeep.data();
      for (size_t i = 0; i < n; ++i)
        if (idx[i] < 0 || size_t(idx[i]) >= n) throw ValueError("index: entry out of range");
    }
    const size_t start = first_batch * batch_size;
    const size_t rows = start >= n ? 0 : std::min(n - start, num_batches * batch_size);
    py::object pred = py::none();
    T* pout = nullptr;
    if (want_pred) {
      py::array_t<T> p = new_array<T>({rows, net_.output_dim()});
      pout = p.mutable_data();
      pred = p;
    }
    ChunkResult r;
    {
      py::gil_scoped_release nogil;
      std::unique_lock<std::shared_mutex> lk(net_.mutex());
      r = trainer_.train(x, Y.data(), w, n, idx, batch_size, first_batch, num_batches, pout,
                         loss_sum_start);
    }
    return py::make_tuple(r.loss_sum, r.samples, r.batches, r.last_batch_loss, r.nonfinite, pred);
  }

  // Data parallelism: shard_rows 0 turns sharded steps off; comm None: one process.
  void set_sharding(size_t shard_rows, const py::object& comm) {
    std::unique_ptr<PyCollective> c;
    if (!comm.is_none()) c = std::make_unique<PyCollective>(comm);
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    trainer_.set_sharding(shard_rows, c.get());
    std::swap(collective_, c);
    lk.unlock();
  }

  py::array_t<T> predict(const Arr<T>& X) {
    size_t n;
    const T* x = rows_of(X, net_.input_dim(), "x", &n);
    py::array_t<T> out = new_array<T>({n, net_.output_dim()});
    T* o = out.mutable_data();
    py::gil_scoped_release nogil;
    std::shared_lock<std::shared_mutex> lk(net_.mutex());
    net_.predict(x, n, o);
    return out;
  }

  // d sum(output * weights) / d x, inference mode, no parameter gradients.
  py::array_t<T> input_gradient(const Arr<T>& X, const Arr<T>& weights) {
    size_t n;
    const T* x = rows_of(X, net_.input_dim(), "x", &n);
    if (weights.ndim() != 2 || size_t(weights.shape(0)) != n ||
        size_t(weights.shape(1)) != net_.output_dim())
      throw ValueError("output_weights: expected shape (" + std::to_string(n) + ", " +
                       std::to_string(net_.output_dim()) + ")");
    py::array_t<T> out = new_array<T>({n, net_.input_dim()});
    T* o = out.mutable_data();
    const T* w = weights.data();
    py::gil_scoped_release nogil;
    std::shared_lock<std::shared_mutex> lk(net_.mutex());
    net_.input_gradient(x, w, n, o);
    return out;
  }

  py::tuple evaluate(const Arr<T>& X, const Arr<T>& Y, const py::object& W, bool want_pred) {
    size_t n;
    const T* x = rows_of(X, net_.input_dim(), "x", &n);
    const size_t yc = net_.loss().label_cols(net_.output_dim());
    if (size_t(Y.size()) != n * yc)
      throw ValueError("y: expected " + std::to_string(n) + " x " + std::to_string(yc) + " values");
    Arr<T> wkeep;
    const T* w = optional_rows<T>(W, n, 1, "sample_weight", wkeep);
    py::object pred = py::none();
    T* pout = nullptr;
    if (want_pred) {
      py::array_t<T> p = new_array<T>({n, net_.output_dim()});
      pout = p.mutable_data();
      pred = p;
    }
    py::array_t<T> per = new_array<T>({n});
    T* pp = per.mutable_data();
    double s;
    {
      py::gil_scoped_release nogil;
      std::shared_lock<std::shared_mutex> lk(net_.mutex());
      s = net_.evaluate(x, Y.data(), w, n, pout, pp);
    }
    return py::make_tuple(s, pred, per);
  }

  double regularization_loss() {
    auto lk = lock_nogil<std::shared_lock<std::shared_mutex>>(net_.mutex());
    return net_.regularization_loss();
  }

  py::array_t<T> forward_cached(const Arr<T>& X, bool training) {
    size_t n;
    const T* x = rows_of(X, net_.input_dim(), "x", &n);
    py::array_t<T> out = new_array<T>({n, net_.output_dim()});
    T* o = out.mutable_data();
    py::gil_scoped_release nogil;
    std::unique_lock<std::shared_mutex> lk(net_.mutex());
    const T* r = net_.forward_cached(x, n, training);
    std::memcpy(o, r, sizeof(T) * n * net_.output_dim());
    return out;
  }
  double loss_cached(const py::tuple& loss, const Arr<T>& Y, const py::object& W, bool fuse) {
    Loss l = to_loss(loss);
    const size_t n = net_.cached_rows();
    if (size_t(Y.size()) != n * l.label_cols(net_.output_dim()))
      throw ValueError("y: size does not match the cached forward pass");
    Arr<T> wkeep;
    const T* w = optional_rows<T>(W, n, 1, "sample_weight", wkeep);
    py::gil_scoped_release nogil;
    std::unique_lock<std::shared_mutex> lk(net_.mutex());
    return net_.loss_cached(l, Y.data(), w, fuse);
  }
  void backward_cached(const py::object& dout, bool accumulate) {
    Arr<T> keep;
    const T* d = optional_rows<T>(dout, net_.cached_rows(), net_.output_dim(), "grad", keep);
    py::gil_scoped_release nogil;
    std::unique_lock<std::shared_mutex> lk(net_.mutex());
    net_.backward_cached(d, accumulate);
  }
  void zero_grad() {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    net_.zero_grad();
  }
  void apply_gradients() {
    py::gil_scoped_release nogil;
    std::unique_lock<std::shared_mutex> lk(net_.mutex());
    trainer_.apply_gradients();
  }

 private:
  void apply_inits(Layer<T>& l, py::list inits) {
    if (inits.size() != l.params.size()) throw ValueError("expected one initializer per variable");
    for (size_t i = 0; i < l.params.size(); ++i)
      l.params[i].init = to_initializer(inits[i].cast<py::tuple>(), &l.params[i].seed);
  }
  Network<T> net_;
  Trainer<T> trainer_;
  std::unique_ptr<PyCollective> collective_;
};

template <typename T>
void bind_network(py::module_& m, const char* name) {
  using N = PyNetwork<T>;
  py::class_<N>(m, name)
      .def(py::init<size_t, uint64_t>(), py::arg("input_dim"), py::arg("seed") = 0)
      .def("add_layer", &N::add_layer, py::arg("kind"), py::arg("attrs"))
      .def("build", &N::build)
      .def("set_layer_trainable",
           [](N& n, size_t i, bool t) {
             auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(n.net().mutex());
             n.net().set_layer_trainable(i, t);
           })
      .def_property_readonly("input_dim", [](N& n) { return n.net().input_dim(); })
      .def_property_readonly("output_dim", [](N& n) { return n.net().output_dim(); })
      .def_property_readonly("flops_per_row", [](N& n) { return n.net().flops_per_row(); })
      .def("variables", &N::variables)
      .def("get_variable", &N::get_variable, py::arg("index"), py::arg("grad") = false)
      .def("set_variable", &N::set_variable, py::arg("index"), py::arg("value"),
           py::arg("grad") = false)
      .def("arena", &N::arena, py::arg("grad") = false)
      .def("set_arena", &N::set_arena, py::arg("value"), py::arg("grad") = false)
      .def("set_loss", &N::set_loss)
      .def("set_optimizer", &N::set_optimizer, py::arg("config"), py::arg("reset"))
      .def("set_matmul_precision", &N::set_matmul_precision)
      .def("matmul_precision", &N::matmul_precision)
      .def("set_learning_rate_schedule", &N::set_learning_rate_schedule)
      .def("set_objective", &N::set_objective, py::arg("per_weight_sum") = false,
           py::arg("loss_scale") = 1.0, py::arg("report_scale") = 1.0)
      .def("optimizer_state", &N::optimizer_state)
      .def("set_optimizer_state", &N::set_optimizer_state)
      .def_property(
          "iterations", [](N& n) { return n.trainer().optimizer().iterations(); },
          [](N& n, int64_t it) { n.trainer().optimizer().set_iterations(it); })
      .def_property(
          "small_step", [](N& n) { return n.trainer().small_step(); },
          [](N& n, bool on) { n.trainer().set_small_step(on); })
      .def_property_readonly("small_step_used",
                             [](N& n) { return n.trainer().small_step_used(); })
      .def_property_readonly("optimizer_scalar",
                             [](N& n) { return n.trainer().optimizer().scalar_state(); })
      .def("current_learning_rate",
           [](N& n) { return n.trainer().optimizer().current_learning_rate(); })
      .def("rng_state", &N::rng_state)
      .def("set_rng_state", &N::set_rng_state)
      .def("shuffle", &N::shuffle)
      .def("train", &N::train, py::arg("x"), py::arg("y"), py::arg("sample_weight"),
           py::arg("index"), py::arg("batch_size"), py::arg("first_batch"), py::arg("num_batches"),
           py::arg("want_pred"), py::arg("loss_sum_start") = 0.0)
      .def("reset_after_fork", [](N& n) { n.net().reset_locks_after_fork(); })
      .def("predict", &N::predict)
      .def("evaluate", &N::evaluate)
      .def("input_gradient", &N::input_gradient, py::arg("x"), py::arg("output_weights"))
      .def("regularization_loss", &N::regularization_loss)
      .def("forward_cached", &N::forward_cached)
      .def_property_readonly("cached_rows", [](N& n) { return n.net().cached_rows(); })
      .def("loss_cached", &N::loss_cached)
      .def("backward_cached", &N::backward_cached)
      .def("zero_grad", &N::zero_grad)
      .def("apply_gradients", &N::apply_gradients)
      .def("set_sharding", &N::set_sharding, py::arg("shard_rows"), py::arg("comm"))
      .def_static("shard_layout", [](size_t rows, size_t full_rows, size_t shard_rows,
                                     size_t ranks) {
        ShardLayout l = Trainer<T>::shard_layout(rows, full_rows, shard_rows, ranks);
        return py::make_tuple(l.shards, l.slots, l.blocks, l.block_slots, l.blocks_per_rank);
      });
}

}  // namespace

void bind_networks(py::module_& m) {
  bind_network<float>(m, "NetworkF32");
  bind_network<double>(m, "NetworkF64");
}

}  // namespace fastnn_py
