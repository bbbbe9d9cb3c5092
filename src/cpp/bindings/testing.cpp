// fastnn._testing: entry points only the tests use (the thread's floating-point control word),
// kept out of the production module fastnn._core.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>

#include <stdexcept>
#include <string>
#include <vector>

#include "bind.h"
#include "fastnn/backend.h"
#include "fastnn/device/stream_plan.h"
#include "fastnn/fpmode.h"

namespace fastnn_py {

namespace py = pybind11;
using namespace fastnn;

void bind_testing(py::module_& m) {
  // The calling thread's floating-point control word (native calls must restore it).
  m.def("fp_control", []() { return fp_control(); });
  m.def("set_fp_control", [](uint64_t v) { set_fp_control(v); });
  m.def("fp_flush_bits", []() { return kFlushDenormalBits; });
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
  // The CUDA backend's streaming plan (fastnn/device/stream_plan.h), host-only code.
  m.def("stream_plan", [](size_t n, size_t batch_size, size_t first, size_t count, size_t chunk_rows_max) {
    py::list out;
    for (const device::StreamChunk& c : device::plan_chunks(n, batch_size, first, count, chunk_rows_max))
      out.append(py::make_tuple(c.first_batch, c.batches, c.first_row, c.rows));
    return out;
  });
  m.def("stream_chunk_rows", &device::chunk_rows_for);
  m.def("stream_data_budget", [](size_t free_bytes, const py::object& spec) {
    const std::string s = spec.is_none() ? std::string() : spec.cast<std::string>();
    try {
      return device::data_budget(free_bytes, spec.is_none() ? nullptr : s.c_str());
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
  });
  m.def("stream_data_budget_env", []() { return std::string(device::kDataBudgetEnv); });
  m.def("stream_gather", [](py::array_t<float, py::array::c_style | py::array::forcecast> src,
                            const py::object& index, size_t first_row, size_t rows) {
    if (src.ndim() != 2) throw py::value_error("src: expected a 2-d array");
    const size_t n = size_t(src.shape(0)), width = size_t(src.shape(1));
    py::array_t<int64_t, py::array::c_style | py::array::forcecast> idx;
    const int64_t* ip = nullptr;
    if (!index.is_none()) {
      idx = index.cast<py::array_t<int64_t, py::array::c_style | py::array::forcecast>>();
      if (size_t(idx.size()) < first_row + rows) throw py::value_error("index: too short");
      ip = idx.data();
      for (size_t r = 0; r < rows; ++r)
        if (ip[first_row + r] < 0 || size_t(ip[first_row + r]) >= n) throw py::value_error("index: out of range");
    } else if (first_row + rows > n) {
      throw py::value_error("rows: beyond the data");
    }
    py::array_t<float> out(std::vector<py::ssize_t>{py::ssize_t(rows), py::ssize_t(width)});
    device::gather_rows(src.data(), width, ip, first_row, rows, out.mutable_data());
    return out;
  });
}

}  // namespace fastnn_py

PYBIND11_MODULE(_testing, m) {
  m.doc() = "fastnn test-only native entry points";
  fastnn_py::bind_testing(m);
}
