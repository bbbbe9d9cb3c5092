// fastnn._testing: entry points only the tests use (the derivative of an activation on its own,
// a standalone optimizer over a user array, the thread's floating-point control word), kept out
// of the production module fastnn._core.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "bind.h"
#include "convert.h"
#include "fastnn/activations.h"
#include "fastnn/fpmode.h"
#include "fastnn/optimizers.h"

namespace fastnn_py {

using namespace fastnn;

namespace {

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

void bind_testing(py::module_& m) {
  m.def("activation_backward", &py_activation_backward<float>);
  m.def("activation_backward", &py_activation_backward<double>);
  bind_optimizer<float>(m, "OptimizerF32");
  bind_optimizer<double>(m, "OptimizerF64");
  // The calling thread's floating-point control word (native calls must restore it).
  m.def("fp_control", []() { return fp_control(); });
  m.def("set_fp_control", [](uint64_t v) { set_fp_control(v); });
  m.def("fp_flush_bits", []() { return kFlushDenormalBits; });
}

}  // namespace fastnn_py

PYBIND11_MODULE(_testing, m) {
  m.doc() = "fastnn test-only native entry points";
  fastnn_py::bind_testing(m);
}
