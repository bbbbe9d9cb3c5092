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

// Sizes computed from caller-given widths: a product or sum that does not fit in size_t is a
// ValueError naming `what`, never a smaller buffer than declared.
inline size_t checked_mul(size_t a, size_t b, const char* what) {
  size_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw ValueError(std::string(what) + ": expected a size that fits in memory, got " + std::to_string(a) +
                     " x " + std::to_string(b) + " (overflows)");
  return r;
}
inline size_t checked_add(size_t a, size_t b, const char* what) {
  size_t r;
  if (__builtin_add_overflow(a, b, &r))
    throw ValueError(std::string(what) + ": expected a size that fits in memory, got " + std::to_string(a) +
                     " + " + std::to_string(b) + " (overflows)");
  return r;
}

}  // namespace fastnn
