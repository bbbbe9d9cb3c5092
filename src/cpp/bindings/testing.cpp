// fastnn._testing: entry points only the tests use (the thread's floating-point control word),
// kept out of the production module fastnn._core.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>

#include "bind.h"
#include "fastnn/backend.h"
#include "fastnn/fpmode.h"
#include "fastnn/math/exp_log.h"

namespace fastnn_py {

namespace py = pybind11;
using namespace fastnn;

void bind_testing(py::module_& m) {
  // The calling thread's floating-point control word (native calls must restore it).
  m.def("fp_control", []() { return fp_control(); });
  m.def("set_fp_control", [](uint64_t v) { set_fp_control(v); });
  m.def("fp_flush_bits", []() { return kFlushDenormalBits; });
  // The float32 exp and log(1 + e) of math/exp_log.h, element by element (checked against float64).
  m.def("exp_of", [](py::array_t<float, py::array::c_style | py::array::forcecast> a) {
    py::array_t<float> out(a.size());
    const float* x = a.data();
    float* y = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      for (py::ssize_t i = 0; i < a.size(); ++i) y[i] = math::exp_of(x[i]);
    }
    return out;
  });
  m.def("log1p_unit", [](py::array_t<float, py::array::c_style | py::array::forcecast> a) {
    py::array_t<float> out(a.size());
    const float* x = a.data();
    float* y = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      for (py::ssize_t i = 0; i < a.size(); ++i) y[i] = math::log1p_unit(x[i]);
    }
    return out;
  });
  // The CPU backend's memory seam, end to end: values uploaded into one backend array, copied to a
  // second, downloaded (the path a device backend's arenas take), with the first `zeroed` cleared.
  m.def("cpu_memory_roundtrip", [](py::array_t<double, py::array::c_style | py::array::forcecast> a,
                                   size_t zeroed) {
    const Backend<double>& be = cpu_backend<double>();
    const size_t n = size_t(a.size());
    DeviceArray<double> src(be, n), dst(be, n);
    src.upload(a.data(), n);
    be.copy(dst.data(), src.data(), n * sizeof(double));
    if (zeroed) be.fill_zero(dst.data(), std::min(zeroed, n) * sizeof(double));
    be.synchronize();
    py::array_t<double> out(n);
    dst.download(out.mutable_data(), n);
    return py::make_tuple(out, be.host_memory(),
                          n == 0 || reinterpret_cast<uintptr_t>(src.data()) % 64 == 0);
  });
}

}  // namespace fastnn_py

PYBIND11_MODULE(_testing, m) {
  m.doc() = "fastnn test-only native entry points";
  fastnn_py::bind_testing(m);
}
