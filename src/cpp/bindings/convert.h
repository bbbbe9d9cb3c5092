// Conversions between Python objects and engine types for the bindings: numpy views, configuration
// decoders and range-checked enum casts. Decoders read named fields and take every default from
// the engine's own structs, so a default is written once, in C++.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fastnn/activations.h"
#include "fastnn/common.h"
#include "fastnn/initializers.h"
#include "fastnn/losses.h"
#include "fastnn/optimizers.h"

namespace fastnn_py {

namespace py = pybind11;

template <typename T>
using Arr = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <typename T>
py::array_t<T> new_array(std::initializer_list<size_t> dims) {
  std::vector<py::ssize_t> shape;
  for (size_t d : dims) shape.push_back(py::ssize_t(d));
  return py::array_t<T>(shape);
}

// An int from Python as enum E, refused unless it names one of the `count` kinds.
template <typename E>
E checked_kind(const py::handle& v, size_t count, const char* what) {
  const int64_t k = v.cast<int64_t>();
  if (k < 0 || uint64_t(k) >= count)
    throw fastnn::ValueError(std::string(what) + ": expected a kind in [0, " +
                             std::to_string(count) + "), got " + std::to_string(k));
  return E(int(k));
}

// Layer attribute specs: a dict of named fields, or the positional tuple of the same fields.
fastnn::Activation to_activation(const py::handle& spec);
// The seed is stored beside the initializer (ParamSpec::seed).
fastnn::Initializer to_initializer(const py::handle& spec, uint64_t* seed);
fastnn::Loss to_loss(const py::handle& spec);
fastnn::Schedule to_schedule(const py::dict& d);
fastnn::OptimizerConfig to_optimizer(const py::dict& d);

// Every decoder's fields and defaults, for Python (`_core.defaults()`).
py::dict defaults();

template <typename T>
const T* rows_of(const Arr<T>& a, size_t cols, const char* name, size_t* rows_out) {
  if (a.ndim() != 2 || size_t(a.shape(1)) != cols)
    throw fastnn::ValueError(std::string(name) + ": expected a 2-D array with " +
                             std::to_string(cols) + " columns");
  *rows_out = size_t(a.shape(0));
  return a.data();
}

template <typename T>
const T* optional_rows(const py::object& o, size_t rows, size_t cols, const char* name,
                       Arr<T>& keep) {
  if (o.is_none()) return nullptr;
  keep = o.cast<Arr<T>>();
  if (size_t(keep.size()) != rows * cols)
    throw fastnn::ValueError(std::string(name) + ": expected " + std::to_string(rows) + " x " +
                             std::to_string(cols) + " values, got " + std::to_string(keep.size()));
  return keep.data();
}

}  // namespace fastnn_py
