// Native functions over user arrays that the Python face uses: activations (forward and
// derivative) and losses on numpy arrays, initializers, schedules, a standalone optimizer, the
// GEMM (also timed by the benchmarks), the thread count.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "bind.h"
#include "convert.h"
#include "fastnn/fpmode.h"
#include "fastnn/gemm.h"
#include "fastnn/optimizers.h"
#include "fastnn/threadpool.h"

namespace fastnn_py {

using namespace fastnn;

namespace {

template <typename T>
py::array_t<T> py_activation_forward(const py::object& act, const Arr<T>& z) {
  Activation a = to_activation(act);
  size_t rows = z.ndim() == 2 ? size_t(z.shape(0)) : 1;
  size_t cols = z.ndim() == 2 ? size_t(z.shape(1)) : size_t(z.size());
  py::array_t<T> out(std::vector<py::ssize_t>(z.shape(), z.shape() + z.ndim()));
  FlushDenormals fp_mode;
  activation_forward(a, z.data(), cols, out.mutable_data(), cols, rows, cols);
  return out;
}

template <typename T>
py::tuple py_loss(const py::object& spec, const Arr<T>& pred, const Arr<T>& y,
                  const py::object& W) {
  Loss l = to_loss(spec);
  if (pred.ndim() != 2) throw ValueError("y_pred: expected a 2-D array");
  size_t rows = size_t(pred.shape(0)), cols = size_t(pred.shape(1));
  if (size_t(y.size()) != rows * l.label_cols(cols))
    throw ValueError("y_true: expected " + std::to_string(rows * l.label_cols(cols)) +
                     " values, got " + std::to_string(y.size()));
  Arr<T> wkeep;
  const T* w = optional_rows<T>(W, rows, 1, "sample_weight", wkeep);
  py::array_t<T> grad = new_array<T>({rows, cols});
  py::array_t<T> per = new_array<T>({rows});
  FlushDenormals fp_mode;
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
    FlushDenormals fp_mode;
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
py::array_t<T> py_initialize(const py::object& spec, size_t rows, size_t cols, bool one_dim) {
  uint64_t seed;
  Initializer i = to_initializer(spec, &seed);
  py::array_t<T> out = new_array<T>({rows, cols});
  initialize(i, out.mutable_data(), rows, cols, seed, one_dim);
  return out;
}

template <typename T>
py::array_t<T> py_activation_backward(const py::object& act, const Arr<T>& z, const Arr<T>& da) {
  Activation a = to_activation(act);
  if (z.size() != da.size()) throw ValueError("z and da must have the same shape");
  size_t rows = z.ndim() == 2 ? size_t(z.shape(0)) : 1;
  size_t cols = z.ndim() == 2 ? size_t(z.shape(1)) : size_t(z.size());
  std::vector<T> y(z.size());
  FlushDenormals fp_mode;
  activation_forward(a, z.data(), cols, y.data(), cols, rows, cols);
  py::array_t<T> out(std::vector<py::ssize_t>(z.shape(), z.shape() + z.ndim()));
  activation_backward(a, z.data(), y.data(), da.data(), out.mutable_data(), rows, cols, cols);
  return out;
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
    FlushDenormals fp_mode;
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

}  // namespace

void bind_ops(py::module_& m) {
  m.def("activation_forward", &py_activation_forward<float>);
  m.def("activation_forward", &py_activation_forward<double>);
  m.def("activation_backward", &py_activation_backward<float>);
  m.def("activation_backward", &py_activation_backward<double>);
  bind_optimizer<float>(m, "OptimizerF32");
  bind_optimizer<double>(m, "OptimizerF64");
  m.def("loss_f32", &py_loss<float>);
  m.def("loss_f64", &py_loss<double>);
  m.def(
      "gemm",
      [](py::array a, py::array b, bool ta, bool tb, py::object bias, bool relu, double beta,
         py::object c, const std::string& precision) -> py::object {
        if (precision != "float32" && precision != "bfloat16")
          throw ValueError("gemm: precision must be 'float32' or 'bfloat16', got '" + precision +
                           "'");
        const bool bf16 = precision == "bfloat16";
        if (bf16 && !gemm_bf16_available())
          throw std::runtime_error(std::string("gemm: ") + gemm_bf16_unavailable_reason());
        if (!bf16 && a.dtype().is(py::dtype::of<double>()))
          return py_gemm<double>(a.cast<Arr<double>>(), b.cast<Arr<double>>(), ta, tb, bias, relu,
                                 beta, c);
        return py_gemm<float>(a.cast<Arr<float>>(), b.cast<Arr<float>>(), ta, tb, bias, relu, beta,
                              c, bf16);
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

}  // namespace fastnn_py
