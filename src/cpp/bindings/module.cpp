// fastnn._core: the production extension module. The pieces live one concern per file (bind.h);
// this is the only file that defines the module.
#include <pybind11/pybind11.h>

#include "bind.h"
#include "fastnn/common.h"

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "fastnn native engine";
  py::register_exception<fastnn::Interrupted>(m, "Interrupted", PyExc_KeyboardInterrupt);
  fastnn_py::bind_enums(m);
  fastnn_py::bind_ops(m);
  fastnn_py::bind_networks(m);
}
