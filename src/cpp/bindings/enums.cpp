// The engine's kinds as Python enums (member names are the Python-side names; values are the C++
// enum values), and the decoders' defaults: Python builds its tables from these, so a kind or a
// default is written once, in the engine.
#include <pybind11/pybind11.h>

#include "bind.h"
#include "convert.h"

namespace fastnn_py {

using namespace fastnn;

namespace {

template <typename E, size_t N>
void bind_kind(py::module_& m, const char* name, const char* const (&names)[N], const char* doc) {
  py::enum_<E> e(m, name, doc);
  for (size_t i = 0; i < N; ++i) e.value(names[i], E(int(i)));
}

}  // namespace

void bind_enums(py::module_& m) {
  bind_kind<ActKind>(m, "ActKind", kActivationNames, "Activation kinds (activations.h).");
  bind_kind<LossKind>(m, "LossKind", kLossNames, "Loss kinds (losses.h).");
  bind_kind<OptKind>(m, "OptKind", kOptimizerNames, "Optimizer kinds (optimizers.h).");
  bind_kind<ScheduleKind>(m, "ScheduleKind", kScheduleNames,
                          "Learning-rate schedules (optimizers.h).");
  bind_kind<InitKind>(m, "InitKind", kInitializerNames, "Initializer kinds (initializers.h).");
  bind_kind<FanMode>(m, "FanMode", kFanModeNames, "Variance-scaling fan modes (initializers.h).");
  bind_kind<Distribution>(m, "Distribution", kDistributionNames,
                          "Variance-scaling distributions (initializers.h).");
  m.def("defaults", &defaults,
        "The fields of every native config (activation, initializer, loss, schedule, optimizer) "
        "with the engine's defaults.");
}

}  // namespace fastnn_py
