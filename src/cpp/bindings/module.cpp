// Python bindings of the fastnn engine: numpy <-> engine views, GIL release, exceptions.
// This is the only file that includes pybind11; the engine itself never sees Python.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <type_traits>

#include "fastnn/activations.h"
#include "fastnn/common.h"
#include "fastnn/gemm.h"
#include "fastnn/initializers.h"
#include "fastnn/layers.h"
#include "fastnn/losses.h"
#include "fastnn/network.h"
#include "fastnn/optimizers.h"
#include "fastnn/threadpool.h"

namespace py = pybind11;
using namespace fastnn;

namespace {

template <typename T>
using Arr = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <typename T>
py::array_t<T> new_array(std::initializer_list<size_t> dims) {
  std::vector<py::ssize_t> shape;
  for (size_t d : dims) shape.push_back(py::ssize_t(d));
  return py::array_t<T>(shape);
}

// --- configuration from Python tuples / dicts -------------------------------------------------
Activation to_activation(const py::tuple& t) {
  if (t.size() != 4) throw ValueError("activation spec must be (kind, alpha, max_value, threshold)");
  Activation a;
  a.kind = ActKind(t[0].cast<int>());
  a.alpha = t[1].cast<double>();
  a.max_value = t[2].cast<double>();
  a.threshold = t[3].cast<double>();
  return a;
}

Initializer to_initializer(const py::tuple& t, uint64_t* seed) {
  if (t.size() != 6) throw ValueError("initializer spec must be (kind, a, b, mode, distribution, seed)");
  Initializer i;
  i.kind = InitKind(t[0].cast<int>());
  i.a = t[1].cast<double>();
  i.b = t[2].cast<double>();
  i.mode = FanMode(t[3].cast<int>());
  i.distribution = Distribution(t[4].cast<int>());
  *seed = t[5].cast<uint64_t>();
  return i;
}

Loss to_loss(const py::tuple& t) {
  if (t.size() != 4) throw ValueError("loss spec must be (kind, from_logits, label_smoothing, delta)");
  Loss l;
  l.kind = LossKind(t[0].cast<int>());
  l.from_logits = t[1].cast<bool>();
  l.label_smoothing = t[2].cast<double>();
  l.delta = t[3].cast<double>();
  return l;
}

template <typename V>
V get_or(const py::dict& d, const char* k, V dflt) {
  return d.contains(k) && !d[k].is_none() ? d[k].cast<V>() : dflt;
}

Schedule to_schedule(const py::dict& d) {
  Schedule s;
  s.kind = ScheduleKind(get_or<int>(d, "kind", 0));
  s.initial = get_or<double>(d, "initial", 0.001);
  s.decay_steps = get_or<double>(d, "decay_steps", 1.0);
  s.decay_rate = get_or<double>(d, "decay_rate", 0.0);
  s.staircase = get_or<bool>(d, "staircase", false);
  s.end = get_or<double>(d, "end", 0.0001);
  s.power = get_or<double>(d, "power", 1.0);
  s.cycle = get_or<bool>(d, "cycle", false);
  s.alpha = get_or<double>(d, "alpha", 0.0);
  s.warmup_target = get_or<double>(d, "warmup_target", -1.0);
  s.warmup_steps = get_or<double>(d, "warmup_steps", 0.0);
  s.t_mul = get_or<double>(d, "t_mul", 2.0);
  s.m_mul = get_or<double>(d, "m_mul", 1.0);
  s.boundaries = get_or<std::vector<double>>(d, "boundaries", {});
  s.values = get_or<std::vector<double>>(d, "values", {});
  if (s.kind == ScheduleKind::PiecewiseConstantDecay && s.values.size() != s.boundaries.size() + 1)
    throw ValueError("PiecewiseConstantDecay: values must have one more entry than boundaries");
  if (s.decay_steps <= 0) throw ValueError("decay_steps must be positive");
  return s;
}

OptimizerConfig to_optimizer(const py::dict& d) {
  OptimizerConfig c;
  c.kind = OptKind(get_or<int>(d, "kind", 1));
  c.lr = to_schedule(d["schedule"].cast<py::dict>());
  c.beta_1 = get_or<double>(d, "beta_1", 0.9);
  c.beta_2 = get_or<double>(d, "beta_2", 0.999);
  c.epsilon = get_or<double>(d, "epsilon", 1e-7);
  c.amsgrad = get_or<bool>(d, "amsgrad", false);
  c.momentum = get_or<double>(d, "momentum", 0.0);
  c.nesterov = get_or<bool>(d, "nesterov", false);
  c.rho = get_or<double>(d, "rho", 0.9);
  c.centered = get_or<bool>(d, "centered", false);
  c.initial_accumulator_value = get_or<double>(d, "initial_accumulator_value", 0.1);
  c.weight_decay = get_or<double>(d, "weight_decay", 0.0);
  c.clipnorm = get_or<double>(d, "clipnorm", 0.0);
  c.clipvalue = get_or<double>(d, "clipvalue", 0.0);
  c.global_clipnorm = get_or<double>(d, "global_clipnorm", 0.0);
  return c;
}

// --- array checks -------------------------------------------------------------------------------
template <typename T>
const T* rows_of(const Arr<T>& a, size_t cols, const char* name, size_t* rows_out) {
  if (a.ndim() != 2 || size_t(a.shape(1)) != cols)
    throw ValueError(std::string(name) + ": expected a 2-D array with " + std::to_string(cols) +
                     " columns");
  *rows_out = size_t(a.shape(0));
  return a.data();
}

template <typename T>
const T* optional_rows(const py::object& o, size_t rows, size_t cols, const char* name, Arr<T>& keep) {
  if (o.is_none()) return nullptr;
  keep = o.cast<Arr<T>>();
  if (size_t(keep.size()) != rows * cols)
    throw ValueError(std::string(name) + ": expected " + std::to_string(rows) + " x " +
                     std::to_string(cols) + " values, got " + std::to_string(keep.size()));
  return keep.data();
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
  PyNetwork(size_t input_dim, uint64_t seed) : net_(input_dim, seed) {
    net_.set_pool(&ThreadPool::global());
  }
  Network<T>& net() { return net_; }

  void add_dense(size_t units, bool use_bias, const py::tuple& act, const py::tuple& kinit,
                 const py::tuple& binit, double kl1, double kl2, double bl1, double bl2) {
    auto l = std::make_unique<Dense<T>>(net_.output_dim(), units, use_bias, to_activation(act));
    l->params[0].init = to_initializer(kinit, &l->params[0].seed);
    l->params[0].l1 = kl1;
    l->params[0].l2 = kl2;
    if (use_bias) {
      l->params[1].init = to_initializer(binit, &l->params[1].seed);
      l->params[1].l1 = bl1;
      l->params[1].l2 = bl2;
    }
    net_.add_layer(std::move(l));
  }
  void add_activation(const py::tuple& act) {
    net_.add_layer(std::make_unique<ActivationLayer<T>>(net_.output_dim(), to_activation(act)));
  }
  void add_dropout(double rate) {
    if (!(rate >= 0 && rate < 1)) throw ValueError("Dropout rate must be in [0, 1)");
    net_.add_layer(std::make_unique<Dropout<T>>(net_.output_dim(), rate));
  }
  void add_batchnorm(double momentum, double eps, bool center, bool scale, py::list inits,
                     double gl1, double gl2, double bl1, double bl2) {
    auto l = std::make_unique<BatchNorm<T>>(net_.output_dim(), momentum, eps, center, scale);
    apply_inits(*l, inits);
    for (auto& p : l->params) {
      if (p.name == "gamma") p.l1 = gl1, p.l2 = gl2;
      if (p.name == "beta") p.l1 = bl1, p.l2 = bl2;
    }
    net_.add_layer(std::move(l));
  }
  void add_layernorm(double eps, bool center, bool scale, py::list inits, double gl1, double gl2,
                     double bl1, double bl2) {
    auto l = std::make_unique<LayerNorm<T>>(net_.output_dim(), eps, center, scale);
    apply_inits(*l, inits);
    for (auto& p : l->params) {
      if (p.name == "gamma") p.l1 = gl1, p.l2 = gl2;
      if (p.name == "beta") p.l1 = bl1, p.l2 = bl2;
    }
    net_.add_layer(std::move(l));
  }
  void build() {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    net_.build();
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
  void set_arena(const Arr<T>& a) {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    if (size_t(a.size()) != net_.params().size())
      throw ValueError("parameter arena: size mismatch");
    if (a.size() != 0)  // a model without weights has empty arenas (null data)
      std::memcpy(net_.params().data(), a.data(), sizeof(T) * a.size());
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
    net_.set_bf16_matmul(bf16);
  }
  std::string matmul_precision() const { return net_.bf16_matmul() ? "bfloat16" : "float32"; }

  void set_optimizer(const py::dict& d, bool reset) {
    OptimizerConfig c = to_optimizer(d);
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    net_.set_optimizer(c, reset);
  }
  void set_learning_rate_schedule(const py::dict& d) {
    Schedule s = to_schedule(d);
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    net_.optimizer().mutable_config().lr = s;
  }
  py::array_t<T> optimizer_state() {
    auto lk = lock_nogil<std::shared_lock<std::shared_mutex>>(net_.mutex());
    auto& s = net_.optimizer().state();
    py::array_t<T> a(s.size());
    if (a.size() != 0)  // a model without weights has empty arenas (null data)
      std::memcpy(a.mutable_data(), s.data(), sizeof(T) * s.size());
    return a;
  }
  void set_optimizer_state(const Arr<T>& a, int64_t iterations, double scalar) {
    auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(net_.mutex());
    auto& s = net_.optimizer().state();
    if (size_t(a.size()) != s.size())
      throw ValueError("optimizer state: expected " + std::to_string(s.size()) + " values, got " +
                       std::to_string(a.size()));
    if (a.size() != 0)  // a model without weights has empty arenas (null data)
      std::memcpy(s.data(), a.data(), sizeof(T) * s.size());
    net_.optimizer().set_iterations(iterations);
    net_.optimizer().scalar_state() = scalar;
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
      r = net_.train(x, Y.data(), w, n, idx, batch_size, first_batch, num_batches, pout,
                     loss_sum_start);
    }
    return py::make_tuple(r.loss_sum, r.samples, r.batches, r.last_batch_loss, r.nonfinite, pred);
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
    net_.apply_gradients();
  }

 private:
  void apply_inits(Layer<T>& l, py::list inits) {
    if (inits.size() != l.params.size())
      throw ValueError("expected one initializer per variable");
    for (size_t i = 0; i < l.params.size(); ++i)
      l.params[i].init = to_initializer(inits[i].cast<py::tuple>(), &l.params[i].seed);
  }
  Network<T> net_;
};

template <typename T>
void bind_network(py::module_& m, const char* name) {
  using N = PyNetwork<T>;
  py::class_<N>(m, name)
      .def(py::init<size_t, uint64_t>(), py::arg("input_dim"), py::arg("seed") = 0)
      .def("add_dense", &N::add_dense)
      .def("add_activation", &N::add_activation)
      .def("add_dropout", &N::add_dropout)
      .def("add_batchnorm", &N::add_batchnorm)
      .def("add_layernorm", &N::add_layernorm)
      .def("build", &N::build)
      .def("set_layer_trainable",
           [](N& n, size_t i, bool t) {
             auto lk = lock_nogil<std::unique_lock<std::shared_mutex>>(n.net().mutex());
             n.net().set_layer_trainable(i, t);
           })
      .def_property_readonly("input_dim", [](N& n) { return n.net().input_dim(); })
      .def_property_readonly("output_dim", [](N& n) { return n.net().output_dim(); })
      .def_property_readonly("num_layers", [](N& n) { return n.net().num_layers(); })
      .def_property_readonly("fused_loss", [](N& n) { return n.net().fused_loss(); })
      .def_property_readonly("flops_per_row", [](N& n) { return n.net().flops_per_row(); })
      .def("variables", &N::variables)
      .def("get_variable", &N::get_variable, py::arg("index"), py::arg("grad") = false)
      .def("set_variable", &N::set_variable, py::arg("index"), py::arg("value"),
           py::arg("grad") = false)
      .def("arena", &N::arena, py::arg("grad") = false)
      .def("set_arena", &N::set_arena)
      .def("set_loss", &N::set_loss)
      .def("set_optimizer", &N::set_optimizer, py::arg("config"), py::arg("reset"))
      .def("set_matmul_precision", &N::set_matmul_precision)
      .def("matmul_precision", &N::matmul_precision)
      .def("set_learning_rate_schedule", &N::set_learning_rate_schedule)
      .def("optimizer_state", &N::optimizer_state)
      .def("set_optimizer_state", &N::set_optimizer_state)
      .def_property(
          "iterations", [](N& n) { return n.net().optimizer().iterations(); },
          [](N& n, int64_t it) { n.net().optimizer().set_iterations(it); })
      .def_property_readonly("optimizer_scalar",
                             [](N& n) { return n.net().optimizer().scalar_state(); })
      .def("current_learning_rate", [](N& n) { return n.net().optimizer().current_learning_rate(); })
      .def("rng_state", &N::rng_state)
      .def("set_rng_state", &N::set_rng_state)
      .def("shuffle", &N::shuffle)
      .def("train", &N::train, py::arg("x"), py::arg("y"), py::arg("sample_weight"),
           py::arg("index"), py::arg("batch_size"), py::arg("first_batch"), py::arg("num_batches"),
           py::arg("want_pred"), py::arg("loss_sum_start") = 0.0)
      .def("reset_after_fork", [](N& n) { n.net().reset_locks_after_fork(); })
      .def("predict", &N::predict)
      .def("evaluate", &N::evaluate)
      .def("regularization_loss", &N::regularization_loss)
      .def("forward_cached", &N::forward_cached)
      .def_property_readonly("cached_rows", [](N& n) { return n.net().cached_rows(); })
      .def("loss_cached", &N::loss_cached)
      .def("backward_cached", &N::backward_cached)
      .def("zero_grad", &N::zero_grad)
      .def("apply_gradients", &N::apply_gradients);
}

// --- standalone optimizer (tests and the manual loop over user arrays) --------------------------
template <typename T>
class PyOptimizer {
 public:
  PyOptimizer(const py::dict& cfg, size_t n) : n_(n) { opt_.configure(to_optimizer(cfg), n, true); }
  void step(py::array_t<T, py::array::c_style> params, Arr<T> grads) {
    if (size_t(params.size()) != n_ || size_t(grads.size()) != n_)
      throw ValueError("params and grads must each have " + std::to_string(n_) + " values");
    std::vector<T> g(grads.data(), grads.data() + n_);
    std::vector<Segment> segs{Segment{0, n_, true}};
    opt_.step(params.mutable_data(), g.data(), segs);
  }
  Optimizer<T> opt_;
  size_t n_;
};

template <typename T>
void bind_optimizer(py::module_& m, const char* name) {
  using O = PyOptimizer<T>;
  py::class_<O>(m, name)
      .def(py::init<const py::dict&, size_t>())
      .def("step", &O::step)
      .def_property_readonly("iterations", [](O& o) { return o.opt_.iterations(); })
      .def("current_learning_rate", [](O& o) { return o.opt_.current_learning_rate(); });
}

// --- free functions (tests and the Python-side loss objects) ------------------------------------
template <typename T>
py::array_t<T> py_activation_forward(const py::tuple& act, const Arr<T>& z) {
  Activation a = to_activation(act);
  size_t rows = z.ndim() == 2 ? size_t(z.shape(0)) : 1;
  size_t cols = z.ndim() == 2 ? size_t(z.shape(1)) : size_t(z.size());
  py::array_t<T> out(std::vector<py::ssize_t>(z.shape(), z.shape() + z.ndim()));
  activation_forward(a, z.data(), cols, out.mutable_data(), cols, rows, cols);
  return out;
}

template <typename T>
py::array_t<T> py_activation_backward(const py::tuple& act, const Arr<T>& z, const Arr<T>& da) {
  Activation a = to_activation(act);
  if (z.size() != da.size()) throw ValueError("z and da must have the same shape");
  size_t rows = z.ndim() == 2 ? size_t(z.shape(0)) : 1;
  size_t cols = z.ndim() == 2 ? size_t(z.shape(1)) : size_t(z.size());
  std::vector<T> y(z.size());
  activation_forward(a, z.data(), cols, y.data(), cols, rows, cols);
  py::array_t<T> out(std::vector<py::ssize_t>(z.shape(), z.shape() + z.ndim()));
  activation_backward(a, z.data(), y.data(), da.data(), out.mutable_data(), rows, cols, cols);
  return out;
}

template <typename T>
py::tuple py_loss(const py::tuple& spec, const Arr<T>& pred, const Arr<T>& y, const py::object& W) {
  Loss l = to_loss(spec);
  if (pred.ndim() != 2) throw ValueError("y_pred: expected a 2-D array");
  size_t rows = size_t(pred.shape(0)), cols = size_t(pred.shape(1));
  if (size_t(y.size()) != rows * l.label_cols(cols))
    throw ValueError("y_true: expected " + std::to_string(rows * l.label_cols(cols)) + " values, got " +
                     std::to_string(y.size()));
  Arr<T> wkeep;
  const T* w = optional_rows<T>(W, rows, 1, "sample_weight", wkeep);
  py::array_t<T> grad = new_array<T>({rows, cols});
  py::array_t<T> per = new_array<T>({rows});
  double s = loss_forward_backward(l, pred.data(), y.data(), w, rows, cols, double(rows ? rows : 1),
                                   grad.mutable_data(), per.mutable_data());
  return py::make_tuple(s, grad, per);
}

template <typename T>
py::array_t<T> py_gemm(const Arr<T>& a, const Arr<T>& b, bool ta, bool tb, const py::object& bias,
                       bool relu, double beta, const py::object& c, bool bf16 = false) {
  if (a.ndim() != 2 || b.ndim() != 2) throw ValueError("gemm: a and b must be 2-D");
  size_t M = ta ? a.shape(1) : a.shape(0), K = ta ? a.shape(0) : a.shape(1);
  size_t Kb = tb ? b.shape(1) : b.shape(0), N = tb ? b.shape(0) : b.shape(1);
  if (K != Kb) throw ValueError("gemm: inner dimensions differ");
  py::array_t<T> out = new_array<T>({M, N});
  if (!c.is_none()) {
    Arr<T> cc = c.cast<Arr<T>>();
    if (size_t(cc.size()) != M * N) throw ValueError("gemm: c has the wrong size");
    std::memcpy(out.mutable_data(), cc.data(), sizeof(T) * M * N);
  } else {
    beta = 0.0;  // no c: every element is written and none is read
  }
  Arr<T> bkeep;
  Epilogue<T> ep;
  Activation relu_act;
  relu_act.kind = ActKind::Relu;
  if (!bias.is_none()) {
    bkeep = bias.cast<Arr<T>>();
    if (size_t(bkeep.size()) != N) throw ValueError("gemm: bias must have N values");
    ep.bias = bkeep.data();
  }
  if (relu) {
    ep.relu = true;
    ep.ctx = &relu_act;
    ep.fn = [](const void* p, T* cc, size_t ldc, size_t, size_t, size_t m, size_t n) {
      activation_forward(*static_cast<const Activation*>(p), cc, ldc, cc, ldc, m, n);
    };
  }
  T* o = out.mutable_data();
  const T* ad = a.data();
  const T* bd = b.data();
  size_t lda = a.shape(1), ldb = b.shape(1);
  {
    py::gil_scoped_release nogil;
    if constexpr (std::is_same_v<T, float>) {
      if (bf16) {
        gemm_bf16(ta, tb, M, N, K, ad, lda, bd, ldb, T(beta), o, N, &ep, &ThreadPool::global());
        return out;
      }
    }
    gemm<T>(ta, tb, M, N, K, ad, lda, bd, ldb, T(beta), o, N, &ep, &ThreadPool::global());
  }
  return out;
}

template <typename T>
py::array_t<T> py_initialize(const py::tuple& spec, size_t rows, size_t cols, bool one_dim) {
  uint64_t seed;
  Initializer i = to_initializer(spec, &seed);
  py::array_t<T> out = new_array<T>({rows, cols});
  initialize(i, out.mutable_data(), rows, cols, seed, one_dim);
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastnn native engine";
  py::register_exception<Interrupted>(m, "Interrupted", PyExc_KeyboardInterrupt);

  bind_network<float>(m, "NetworkF32");
  bind_network<double>(m, "NetworkF64");
  bind_optimizer<float>(m, "OptimizerF32");
  bind_optimizer<double>(m, "OptimizerF64");

  m.def("activation_forward", &py_activation_forward<float>);
  m.def("activation_forward", &py_activation_forward<double>);
  m.def("activation_backward", &py_activation_backward<float>);
  m.def("activation_backward", &py_activation_backward<double>);
  m.def("loss_f32", &py_loss<float>);
  m.def("loss_f64", &py_loss<double>);
  m.def("gemm", [](py::array a, py::array b, bool ta, bool tb, py::object bias, bool relu,
                   double beta, py::object c, const std::string& precision) -> py::object {
        if (precision != "float32" && precision != "bfloat16")
          throw ValueError("gemm: precision must be 'float32' or 'bfloat16', got '" + precision +
                           "'");
        const bool bf16 = precision == "bfloat16";
        if (bf16 && !gemm_bf16_available())
          throw std::runtime_error(std::string("gemm: ") + gemm_bf16_unavailable_reason());
        if (!bf16 && a.dtype().is(py::dtype::of<double>()))
          return py_gemm<double>(a.cast<Arr<double>>(), b.cast<Arr<double>>(), ta, tb, bias, relu, beta, c);
        return py_gemm<float>(a.cast<Arr<float>>(), b.cast<Arr<float>>(), ta, tb, bias, relu, beta, c,
                              bf16);
      },
      py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
      py::arg("bias") = py::none(), py::arg("relu") = false, py::arg("beta") = 0.0,
      py::arg("c") = py::none(), py::arg("precision") = "float32");
  m.def("bf16_available", []() { return gemm_bf16_available(); });
  m.def("bf16_unavailable_reason", []() { return std::string(gemm_bf16_unavailable_reason()); });
  m.def("initialize_f32", &py_initialize<float>, py::arg("spec"), py::arg("rows"), py::arg("cols"),
        py::arg("one_dim") = false);
  m.def("initialize_f64", &py_initialize<double>, py::arg("spec"), py::arg("rows"), py::arg("cols"),
        py::arg("one_dim") = false);
  m.def("schedule_value", [](const py::dict& d, int64_t step) { return to_schedule(d)(step); });
  m.def("kernel_name", []() { return std::string(gemm_kernel_name()); });
  m.def("set_num_threads", [](int n) {
    if (n < 1 || n > 1024)
      throw ValueError("set_num_threads: expected an int in [1, 1024], got " + std::to_string(n));
    py::gil_scoped_release nogil;
    ThreadPool::global().set_num_threads(n);
  });
  m.def("get_num_threads", []() { return ThreadPool::global().num_threads(); });
  m.def("physical_cores", &physical_cores);
}
