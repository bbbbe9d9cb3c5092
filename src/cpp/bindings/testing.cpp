// fastnn._testing: entry points only the tests use (the thread's floating-point control word),
// kept out of the production module fastnn._core.
#include <pybind11/pybind11.h>

#include "bind.h"
#include "fastnn/fpmode.h"

namespace fastnn_py {

namespace py = pybind11;
using namespace fastnn;

void bind_testing(py::module_& m) {
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
