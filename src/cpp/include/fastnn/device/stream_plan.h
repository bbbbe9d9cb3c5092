// Streaming a training set that does not fit the device's memory budget: the plan of which batches
// each upload carries, and the host-side gather that fills one upload. Plain C++ (no CUDA), so
// the batch order and the chunk boundaries are tested on any machine (fastnn._testing).
//
// A chunk is a run of whole batches of one fit chunk, rows in the epoch's order (the shuffled
// index, or the rows themselves when there is none). Gathered on the host in that order, a chunk's
// rows are the batches' rows back to back, so the device trains on it in order and sees exactly
// the batches of a whole upload: the same results, bit for bit.
#pragma once
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace fastnn {
namespace device {

// The default budget for the training set on the device: this fraction of the free memory when
// fit() starts (the rest is for the parameters, the workspaces and other users of the device).
constexpr double kDefaultDataFraction = 0.5;
// The environment variable that overrides it: a fraction of free memory in (0, 1], or a size in
// bytes with an optional K/M/G suffix (powers of 1024), e.g. "0.25", "512M", "2G".
constexpr const char* kDataBudgetEnv = "FASTNN_CUDA_DATA_BUDGET";

// The budget in bytes for `free_bytes` of free device memory and the override `spec` (null or
// empty: the default fraction). Throws std::invalid_argument naming the variable for a malformed
// value.
inline size_t data_budget(size_t free_bytes, const char* spec) {
  if (spec == nullptr || *spec == '\0') return size_t(double(free_bytes) * kDefaultDataFraction);
  const std::string s(spec);
  auto bad = [&]() {
    return std::invalid_argument(std::string(kDataBudgetEnv) +
                                 ": expected a fraction of free device memory in (0, 1] or a size "
                                 "in bytes (optionally K, M or G), got '" + s + "'");
  };
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(spec, &end);
  if (end == spec || errno != 0 || !(v > 0)) throw bad();
  std::string rest(end);
  const bool has_point = s.find_first_of(".eE") != std::string::npos;
  if (rest.empty() && has_point) {
    if (v > 1) throw bad();
    return size_t(double(free_bytes) * v);
  }
  double scale = 1;
  if (rest == "K" || rest == "k") scale = 1024.0;
  else if (rest == "M" || rest == "m") scale = 1024.0 * 1024;
  else if (rest == "G" || rest == "g") scale = 1024.0 * 1024 * 1024;
  else if (!rest.empty()) throw bad();
  const double bytes = v * scale;
  if (bytes < 1 || bytes > 1.8e19) throw bad();
  return size_t(bytes);
}

struct StreamChunk {
  size_t first_batch = 0;  // in the epoch's batch numbering
  size_t batches = 0;
  size_t first_row = 0;  // position in the epoch's row order of the chunk's first row
  size_t rows = 0;
};

// The uploads for batches [first, first + count) of an epoch of n rows in batches of batch_size
// (the last one may be short): each a run of whole batches of at most `chunk_rows_max` rows (at
// least one batch, whatever the limit), in order, covering exactly the batches asked for.
inline std::vector<StreamChunk> plan_chunks(size_t n, size_t batch_size, size_t first,
                                            size_t count, size_t chunk_rows_max) {
  std::vector<StreamChunk> out;
  if (batch_size == 0 || n == 0) return out;
  const size_t nb_total = (n + batch_size - 1) / batch_size;
  if (first >= nb_total) return out;
  const size_t last = first + (count < nb_total - first ? count : nb_total - first);
  size_t per = chunk_rows_max / batch_size;
  if (per == 0) per = 1;
  for (size_t b = first; b < last; b += per) {
    StreamChunk c;
    c.first_batch = b;
    c.batches = per < last - b ? per : last - b;
    c.first_row = b * batch_size;
    const size_t end = (b + c.batches) * batch_size;
    c.rows = (end < n ? end : n) - c.first_row;
    out.push_back(c);
  }
  return out;
}

// The most rows one upload may carry within `budget` bytes when two uploads are in flight
// (double-buffered), each row `row_bytes` wide; at least one batch.
inline size_t chunk_rows_for(size_t budget, size_t row_bytes, size_t batch_size) {
  const size_t rows = row_bytes ? budget / 2 / row_bytes : 0;
  return rows < batch_size ? batch_size : rows;
}

// dst[r] = src[index[first_row + r]] (index null: src[first_row + r]) for r < rows, each row
// `width` values wide.
template <typename T>
void gather_rows(const T* src, size_t width, const int64_t* index, size_t first_row, size_t rows,
                 T* dst) {
  if (width == 0) return;
  for (size_t r = 0; r < rows; ++r) {
    const size_t s = index ? size_t(index[first_row + r]) : first_row + r;
    std::memcpy(dst + r * width, src + s * width, sizeof(T) * width);
  }
}

}  // namespace device
}  // namespace fastnn
