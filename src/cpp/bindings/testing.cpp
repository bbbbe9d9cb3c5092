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
#include "convert.h"
#include "fastnn/device/fused_mlp.h"
#include "fastnn/device/stream_plan.h"
#include "fastnn/optimizers.h"
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
  // The fused small-network step emulated on the CPU (fastnn/device/fused_mlp.h): the phases the
  // CUDA kernel runs between barriers, over `threads` thread indices in turn. layers: (in, out,
  // use_bias, activation spec); the optimizer starts from `state` (None: the engine's initial
  // state) at step `iterations`. Returns (params, state, grads, batch loss sums, bad label,
  // outputs) or the reason the fused step does not apply.
  m.def("fused_emulate", [](const py::list& layers, const py::handle& loss_spec, const py::dict& opt,
                            py::array_t<float, py::array::c_style | py::array::forcecast> params,
                            py::array_t<float, py::array::c_style | py::array::forcecast> X,
                            py::array_t<float, py::array::c_style | py::array::forcecast> Y,
                            const py::object& W, const py::object& index, size_t batch, size_t steps,
                            int threads, int64_t iterations, const py::object& state,
                            size_t max_shared) -> py::object {
    std::vector<device::FusedDense> ds;
    for (const py::handle& it : layers) {
      py::tuple t = it.cast<py::tuple>();
      device::FusedDense d;
      d.in = t[0].cast<size_t>();
      d.out = t[1].cast<size_t>();
      d.bias = t[2].cast<bool>();
      if (!t[3].is_none()) d.act = to_activation(t[3]);
      ds.push_back(d);
    }
    const Loss loss = to_loss(loss_spec);
    const OptimizerConfig c = to_optimizer(opt);
    device::FusedPlan plan;
    const std::string why = device::plan_fused(ds, loss, c, batch, max_shared, &plan);
    if (!why.empty()) return py::str(why);
    if (size_t(params.size()) != plan.arena) throw py::value_error("params: wrong size");
    if (threads < 1) throw py::value_error("threads: expected a positive count");
    const size_t n = size_t(X.shape(0));
    if (X.ndim() != 2 || size_t(X.shape(1)) != size_t(plan.din)) throw py::value_error("x: wrong shape");
    if (size_t(Y.size()) != n * size_t(plan.yc)) throw py::value_error("y: wrong size");
    Optimizer<float> o;
    o.configure(c, plan.arena, true);
    o.set_iterations(iterations);
    std::vector<float> st = o.state();
    if (!state.is_none()) {
      auto a = state.cast<py::array_t<float, py::array::c_style | py::array::forcecast>>();
      if (size_t(a.size()) != st.size()) throw py::value_error("state: wrong size");
      std::copy(a.data(), a.data() + a.size(), st.begin());
    }
    py::array_t<float, py::array::c_style | py::array::forcecast> w, idx_f;
    py::array_t<int64_t, py::array::c_style | py::array::forcecast> idx;
    if (!W.is_none()) w = W.cast<decltype(w)>();
    if (!index.is_none()) {
      idx = index.cast<decltype(idx)>();
      if (size_t(idx.size()) != n) throw py::value_error("index: expected one entry per row");
      for (py::ssize_t i = 0; i < idx.size(); ++i)
        if (idx.data()[i] < 0 || size_t(idx.data()[i]) >= n) throw py::value_error("index: out of range");
    }
    const size_t nb = std::min(steps, (n + batch - 1) / batch);
    std::vector<StepScalars<float>> ks(nb);
    for (size_t b = 0; b < nb; ++b) ks[b] = o.advance_step();
    std::vector<float> p(params.data(), params.data() + params.size()), g(plan.arena, 0.0f);
    std::vector<double> losses(nb, 0.0);
    std::vector<float> pred(n * size_t(plan.dout), 0.0f);
    int bad = 0;
    device::FusedArgs a;
    a.X = X.data();
    a.Y = Y.data();
    a.W = W.is_none() ? nullptr : w.data();
    a.index = index.is_none() ? nullptr : idx.data();
    a.pos0 = 0;
    a.pos_end = n;
    a.nb = nb;
    a.params = p.data();
    a.grads = g.data();
    a.state = st.data();
    a.ks = ks.data();
    a.batch_loss = losses.data();
    a.pred = pred.data();
    a.bad_label = &bad;
    device::fused_emulate(plan, a, threads);
    auto arr = [](const std::vector<float>& v) {
      py::array_t<float> out(v.size());
      std::copy(v.begin(), v.end(), out.mutable_data());
      return out;
    };
    py::array_t<double> l(nb);
    std::copy(losses.begin(), losses.end(), l.mutable_data());
    py::array_t<float> pr = arr(pred);
    pr.resize({py::ssize_t(n), py::ssize_t(plan.dout)});
    return py::make_tuple(arr(p), arr(st), arr(g), l, bool(bad), pr, plan.shared_bytes);
  }, py::arg("layers"), py::arg("loss"), py::arg("optimizer"), py::arg("params"), py::arg("x"), py::arg("y"),
     py::arg("sample_weight") = py::none(), py::arg("index") = py::none(), py::arg("batch_size") = 32,
     py::arg("steps") = 1, py::arg("threads") = device::kFusedThreads, py::arg("iterations") = 0,
     py::arg("state") = py::none(), py::arg("max_shared") = size_t(227) << 10);
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
