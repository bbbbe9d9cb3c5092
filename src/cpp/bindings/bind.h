// The pieces of the extension modules, one per concern: fastnn._core (production) is made of
// bind_enums, bind_ops and bind_networks; fastnn._testing (test-only entry points) of bind_testing.
#pragma once
#include <pybind11/pybind11.h>

namespace fastnn_py {

void bind_enums(pybind11::module_& m);  // enums.cpp: kinds, their names and the decoders' defaults
void bind_ops(pybind11::module_& m);    // ops.cpp: functions over user arrays
void bind_networks(pybind11::module_& m);  // network.cpp: NetworkF32 / NetworkF64
void bind_testing(pybind11::module_& m);   // testing.cpp: entry points only the tests use

}  // namespace fastnn_py
