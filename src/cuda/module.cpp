// fastnn._cuda: the CUDA backend's Python module. Importing it never needs a GPU or a driver (the
// runtime is linked statically and loads libcuda.so.1 on first use); status() says what is there.
// DeviceNet wraps the device trainer; fastnn/_engine.py is its only user.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cuda_runtime.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "convert.h"
#include "cuda_backend.h"
#include "device_trainer.h"

namespace py = pybind11;
using namespace fastnn;
using fastnn_py::Arr;

namespace {

py::dict status() {
  py::dict d;
  const std::string why = cuda::unavailable_reason();
  d["available"] = why.empty();
  d["reason"] = why;
  int rt = 0, drv = 0;
  cudaRuntimeGetVersion(&rt);
  d["runtime_version"] = rt;
  py::list devices;
  if (why.empty()) {
    cudaDriverGetVersion(&drv);
    for (int i = 0, n = cuda::device_count(); i < n; ++i) devices.append(cuda::device_name(i));
  }
  d["driver_version"] = drv;
  d["devices"] = devices;
  d["cublaslt_version"] = size_t(cublasLtGetVersion());
  return d;
}

std::pair<double, double> regularizer(const py::dict& attrs, const char* name) {
  if (!attrs.contains(name) || attrs[name].is_none()) return {0.0, 0.0};
  py::sequence s = attrs[name].cast<py::sequence>();
  if (s.size() != 2) throw ValueError(std::string(name) + ": expected (l1, l2)");
  return {s[0].cast<double>(), s[1].cast<double>()};
}

class PyDeviceNet {
 public:
  // layers: the native (kind, attrs) descriptions the CPU network was built from; trainable: one
  // flag per variable in the engine's order.
  PyDeviceNet(size_t input_dim, const py::list& layers, const std::vector<bool>& trainable,
              const py::handle& loss, const py::dict& optimizer, uint64_t seed, int device) {
    std::vector<cuda::DeviceLayer> ls;
    std::vector<cuda::DeviceVariable> vars;
    size_t width = input_dim;
    for (const py::handle& item : layers) {
      py::tuple t = item.cast<py::tuple>();
      const std::string kind = t[0].cast<std::string>();
      py::dict attrs = t[1].cast<py::dict>();
      cuda::DeviceLayer l;
      l.in = width;
      if (kind == "dense") {
        l.kind = cuda::DeviceLayer::Dense;
        const int64_t units = attrs["units"].cast<int64_t>();
        if (units < 1) throw ValueError("dense: units must be positive");
        l.out = size_t(units);
        l.use_bias = attrs["use_bias"].cast<bool>();
        if (attrs.contains("activation") && !attrs["activation"].is_none())
          l.act = fastnn_py::to_activation(attrs["activation"]);
        auto kr = regularizer(attrs, "kernel_regularizer");
        vars.push_back({0, l.in * l.out, true, kr.first, kr.second});
        if (l.use_bias) {
          auto br = regularizer(attrs, "bias_regularizer");
          vars.push_back({0, l.out, true, br.first, br.second});
        }
      } else if (kind == "activation") {
        l.kind = cuda::DeviceLayer::Act;
        l.out = width;
        l.act = fastnn_py::to_activation(attrs["activation"]);
      } else if (kind == "dropout") {
        l.kind = cuda::DeviceLayer::Dropout;
        l.out = width;
        l.rate = attrs["rate"].cast<double>();
      } else {
        throw ValueError("device='cuda' runs Dense, Activation and Dropout layers; this model has a '" +
                         kind + "' layer (use device='cpu')");
      }
      width = l.out;
      ls.push_back(l);
    }
    if (trainable.size() != vars.size())
      throw ValueError("trainable: expected one flag per variable (" + std::to_string(vars.size()) +
                       "), got " + std::to_string(trainable.size()));
    for (size_t i = 0; i < vars.size(); ++i) vars[i].trainable = trainable[i];
    const Loss l = fastnn_py::to_loss(loss);
    const OptimizerConfig c = fastnn_py::to_optimizer(optimizer);
    py::gil_scoped_release nogil;
    t_ = std::make_unique<cuda::DeviceTrainer>(device, input_dim, std::move(ls), std::move(vars), l,
                                               c, seed);
  }

  size_t arena_size() const { return t_->arena_size(); }

  void set_params(const Arr<float>& a) {
    if (size_t(a.size()) != t_->arena_size())
      throw ValueError("params: expected " + std::to_string(t_->arena_size()) + " values, got " +
                       std::to_string(a.size()));
    py::gil_scoped_release nogil;
    t_->set_params(a.data());
  }
  py::array_t<float> params() {
    py::array_t<float> a(t_->arena_size());
    float* p = a.mutable_data();
    py::gil_scoped_release nogil;
    t_->get_params(p);
    return a;
  }
  void set_optimizer_state(const Arr<float>& a, int64_t iterations, double scalar) {
    const size_t want = size_t(t_->optimizer_slots()) * t_->arena_size();
    if (size_t(a.size()) != want)
      throw ValueError("optimizer state: expected " + std::to_string(want) + " values, got " +
                       std::to_string(a.size()));
    py::gil_scoped_release nogil;
    t_->set_optimizer_state(a.data(), iterations, scalar);
  }
  py::tuple optimizer_state() {
    py::array_t<float> a(size_t(t_->optimizer_slots()) * t_->arena_size());
    int64_t it = 0;
    double sc = 1.0;
    float* p = a.mutable_data();
    {
      py::gil_scoped_release nogil;
      t_->get_optimizer_state(p, &it, &sc);
    }
    return py::make_tuple(a, it, sc);
  }

  // budget: bytes for the data set on the device (negative: FASTNN_CUDA_DATA_BUDGET or the
  // default fraction of free memory); above it the data are streamed from these arrays, which
  // stay referenced here until the next set_data.
  void set_data(const Arr<float>& X, const Arr<float>& Y, const py::object& W, int64_t budget) {
    size_t n;
    const float* x = fastnn_py::rows_of(X, t_->input_dim(), "x", &n);
    const size_t yc = t_->loss().label_cols(t_->output_dim());
    if (size_t(Y.size()) != n * yc)
      throw ValueError("y: expected " + std::to_string(n) + " x " + std::to_string(yc) + " values");
    Arr<float> wkeep;
    const float* w = fastnn_py::optional_rows<float>(W, n, 1, "sample_weight", wkeep);
    data_ = py::make_tuple(X, Y, wkeep);
    py::gil_scoped_release nogil;
    t_->set_data(x, Y.data(), w, n, budget < 0 ? SIZE_MAX : size_t(budget));
  }
  bool streaming() const { return t_->streaming(); }
  std::string fused_reason() const { return t_->fused_reason(); }
  void set_index(const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& idx) {
    py::gil_scoped_release nogil;
    t_->set_index(idx.data(), size_t(idx.size()));
  }

  py::tuple train(size_t batch_size, size_t first, size_t count, bool in_order, bool want_pred,
                  double loss_sum_start) {
    const size_t n = t_->data_rows(), start = first * batch_size;
    const size_t rows = start >= n ? 0 : std::min(n - start, count * batch_size);
    py::object pred = py::none();
    float* pout = nullptr;
    if (want_pred) {
      py::array_t<float> p(std::vector<py::ssize_t>{py::ssize_t(rows), py::ssize_t(t_->output_dim())});
      pout = p.mutable_data();
      pred = p;
    }
    cuda::DeviceChunk r;
    {
      py::gil_scoped_release nogil;
      r = t_->train(batch_size, first, count, in_order, pout, loss_sum_start);
    }
    return py::make_tuple(r.loss_sum, r.samples, r.batches, r.last_batch_loss, r.nonfinite, pred);
  }

  py::array_t<float> predict(const Arr<float>& X) {
    size_t n;
    const float* x = fastnn_py::rows_of(X, t_->input_dim(), "x", &n);
    py::array_t<float> out(std::vector<py::ssize_t>{py::ssize_t(n), py::ssize_t(t_->output_dim())});
    float* o = out.mutable_data();
    py::gil_scoped_release nogil;
    t_->predict(x, n, o);
    return out;
  }

  py::tuple evaluate(const Arr<float>& X, const Arr<float>& Y, const py::object& W, bool want_pred) {
    size_t n;
    const float* x = fastnn_py::rows_of(X, t_->input_dim(), "x", &n);
    const size_t yc = t_->loss().label_cols(t_->output_dim());
    if (size_t(Y.size()) != n * yc)
      throw ValueError("y: expected " + std::to_string(n) + " x " + std::to_string(yc) + " values");
    Arr<float> wkeep;
    const float* w = fastnn_py::optional_rows<float>(W, n, 1, "sample_weight", wkeep);
    py::object pred = py::none();
    float* pout = nullptr;
    if (want_pred) {
      py::array_t<float> p(std::vector<py::ssize_t>{py::ssize_t(n), py::ssize_t(t_->output_dim())});
      pout = p.mutable_data();
      pred = p;
    }
    py::array_t<float> per(n);
    float* pp = per.mutable_data();
    double s;
    {
      py::gil_scoped_release nogil;
      s = t_->evaluate(x, Y.data(), w, n, pout, pp);
    }
    return py::make_tuple(s, pred, per);
  }

  // The manual loop (the engine's forward_cached / loss_cached / backward_cached / apply_gradients).
  py::array_t<float> forward(const Arr<float>& X, bool training) {
    size_t n;
    const float* x = fastnn_py::rows_of(X, t_->input_dim(), "x", &n);
    py::array_t<float> out(std::vector<py::ssize_t>{py::ssize_t(n), py::ssize_t(t_->output_dim())});
    float* o = out.mutable_data();
    py::gil_scoped_release nogil;
    t_->manual_forward(x, n, training, o);
    return out;
  }
  double loss(const py::handle& loss, const Arr<float>& Y, const py::object& W) {
    const Loss l = fastnn_py::to_loss(loss);
    const size_t n = t_->manual_rows();
    if (size_t(Y.size()) != n * l.label_cols(t_->output_dim()))
      throw ValueError("y: size does not match the cached forward pass");
    Arr<float> wkeep;
    const float* w = fastnn_py::optional_rows<float>(W, n, 1, "sample_weight", wkeep);
    py::gil_scoped_release nogil;
    return t_->manual_loss(l, Y.data(), w);
  }
  void backward(const py::object& dout, bool accumulate) {
    Arr<float> keep;
    const float* d = fastnn_py::optional_rows<float>(dout, t_->manual_rows(), t_->output_dim(), "grad", keep);
    py::gil_scoped_release nogil;
    t_->manual_backward(d, accumulate);
  }
  void apply_gradients() {
    py::gil_scoped_release nogil;
    t_->apply_gradients();
  }
  void zero_grad() {
    py::gil_scoped_release nogil;
    t_->zero_grad();
  }
  py::array_t<float> grads() {
    py::array_t<float> a(t_->arena_size());
    float* p = a.mutable_data();
    py::gil_scoped_release nogil;
    t_->get_grads(p);
    return a;
  }
  void set_grads(const Arr<float>& a) {
    if (size_t(a.size()) != t_->arena_size())
      throw ValueError("grads: expected " + std::to_string(t_->arena_size()) + " values, got " +
                       std::to_string(a.size()));
    py::gil_scoped_release nogil;
    t_->set_grads(a.data());
  }
  py::array_t<float> input_gradient(const Arr<float>& X, const Arr<float>& weights) {
    size_t n;
    const float* x = fastnn_py::rows_of(X, t_->input_dim(), "x", &n);
    if (weights.ndim() != 2 || size_t(weights.shape(0)) != n || size_t(weights.shape(1)) != t_->output_dim())
      throw ValueError("output_weights: expected shape (" + std::to_string(n) + ", " +
                       std::to_string(t_->output_dim()) + ")");
    py::array_t<float> out(std::vector<py::ssize_t>{py::ssize_t(n), py::ssize_t(t_->input_dim())});
    float* o = out.mutable_data();
    const float* w = weights.data();
    py::gil_scoped_release nogil;
    t_->input_gradient(x, w, n, o);
    return out;
  }

 private:
  std::unique_ptr<cuda::DeviceTrainer> t_;
  py::object data_;  // the arrays set_data last saw (a streamed data set is read from them)
};

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "fastnn's CUDA backend (loads without a GPU; status() says what is there)";
  m.def("status", &status, "Whether a GPU can be used, why not, and the devices, runtime and driver versions");
  py::class_<PyDeviceNet>(m, "DeviceNet")
      .def(py::init<size_t, const py::list&, const std::vector<bool>&, const py::handle&,
                    const py::dict&, uint64_t, int>(),
           py::arg("input_dim"), py::arg("layers"), py::arg("trainable"), py::arg("loss"),
           py::arg("optimizer"), py::arg("seed"), py::arg("device") = 0)
      .def_property_readonly("arena_size", &PyDeviceNet::arena_size)
      .def("set_params", &PyDeviceNet::set_params)
      .def("params", &PyDeviceNet::params)
      .def("set_optimizer_state", &PyDeviceNet::set_optimizer_state)
      .def("optimizer_state", &PyDeviceNet::optimizer_state)
      .def("set_data", &PyDeviceNet::set_data, py::arg("x"), py::arg("y"), py::arg("sample_weight"),
           py::arg("budget") = -1)
      .def_property_readonly("streaming", &PyDeviceNet::streaming)
      .def_property_readonly("fused_reason", &PyDeviceNet::fused_reason)
      .def("set_index", &PyDeviceNet::set_index)
      .def("train", &PyDeviceNet::train)
      .def("predict", &PyDeviceNet::predict)
      .def("evaluate", &PyDeviceNet::evaluate)
      .def("forward", &PyDeviceNet::forward, py::arg("x"), py::arg("training"))
      .def("loss", &PyDeviceNet::loss, py::arg("loss"), py::arg("y"), py::arg("sample_weight"))
      .def("backward", &PyDeviceNet::backward, py::arg("grad"), py::arg("accumulate") = true)
      .def("apply_gradients", &PyDeviceNet::apply_gradients)
      .def("zero_grad", &PyDeviceNet::zero_grad)
      .def("grads", &PyDeviceNet::grads)
      .def("set_grads", &PyDeviceNet::set_grads)
      .def("input_gradient", &PyDeviceNet::input_gradient, py::arg("x"), py::arg("output_weights"));
}
