// The engine's Collective (trainer.h) over a Python communicator (fastnn.distributed): the one
// call per data-parallel step re-acquires the GIL, hands the communicator zero-copy uint8 views of
// the engine's send and receive buffers, and releases the GIL again when it returns. The
// communicator itself waits with the GIL released (mpi4py and torch.distributed do), so other
// Python threads run while a rank waits for its peers.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>

#include "fastnn/trainer.h"

namespace fastnn_py {

namespace py = pybind11;

class PyCollective final : public fastnn::Collective {
 public:
  // comm: an object with `rank`, `size` (ints) and `_exchange(send, recv)` (see distributed/).
  explicit PyCollective(py::object comm)
      : comm_(std::move(comm)),
        rank_(comm_.attr("rank").cast<size_t>()),
        size_(comm_.attr("size").cast<size_t>()),
        exchange_(comm_.attr("_exchange")) {}
  ~PyCollective() override {
    py::gil_scoped_acquire gil;
    exchange_ = py::object();
    comm_ = py::object();
  }
  size_t rank() const override { return rank_; }
  size_t size() const override { return size_; }
  void all_gather(const void* send, size_t bytes, void* recv) override {
    py::gil_scoped_acquire gil;
    // The views borrow the engine's buffers (base: None keeps numpy from copying or owning them);
    // they must not outlive the call, which the communicator's contract says.
    py::array_t<unsigned char> s({bytes}, {size_t(1)}, static_cast<const unsigned char*>(send),
                                 py::none());
    py::array_t<unsigned char> r({bytes * size_}, {size_t(1)}, static_cast<unsigned char*>(recv),
                                 py::none());
    exchange_(s, r);
  }

 private:
  py::object comm_;
  size_t rank_, size_;
  py::object exchange_;
};

}  // namespace fastnn_py
