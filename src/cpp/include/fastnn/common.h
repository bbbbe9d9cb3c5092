// Shared basics of the fastnn engine: the error type and small helpers.
// The engine is plain C++17; it never includes Python headers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace fastnn {

// Raised for bad arguments reaching the engine (becomes ValueError in Python).
struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Raised when native work is stopped because the caller asked it to (Ctrl-C).
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

#define FASTNN_CHECK(cond, msg)                         \
  do {                                                  \
    if (!(cond)) throw ::fastnn::ValueError(msg);       \
  } while (0)

}  // namespace fastnn
