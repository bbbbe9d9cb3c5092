// The training loop over chunks of batches (see trainer.h).
#include "fastnn/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fastnn/common.h"
#include "fastnn/fpmode.h"
#include "fastnn/threadpool.h"

namespace fastnn {

namespace {

// The rows [r0, r0 + rows) of a batch as contiguous x, y, w: gathered into the workspace through
// index (next / next_rows: the following batch's indices, a prefetch hint), or pointers into X, Y,
// W when the rows are in order (index null). w stays null without sample weights.
template <typename T>
void batch_rows(const Backend<T>& be, ThreadPool* pool, Workspace<T>& ws, const T* X, const T* Y,
                const T* W, size_t din, size_t yc, const int64_t* index, size_t r0, size_t rows,
                const int64_t* next, size_t next_rows, const T*& x, const T*& y, const T*& w) {
  w = nullptr;
  if (index) {
    GatherArgs<T> g;
    g.X = X;
    g.Y = Y;
    g.W = W;
    g.din = din;
    g.yc = yc;
    g.index = index + r0;
    g.rows = rows;
    g.next = next;
    g.next_rows = next_rows;
    g.x = ws.x.data();
    g.y = ws.y.data();
    g.w = ws.w.data();
    be.gather(g, pool);
    x = ws.x.data();
    y = ws.y.data();
    if (W) w = ws.w.data();
  } else {
    x = X + r0 * din;
    y = Y + r0 * yc;
    if (W) w = W + r0;
  }
}

}  // namespace

template <typename T>
void Trainer<T>::set_optimizer(const OptimizerConfig& c, bool reset) {
  opt_.set_pool(net_.pool());
  opt_.configure(c, net_.params().size(), reset);
}

template <typename T>
void Trainer<T>::network_built() {
  set_optimizer(opt_.config(), true);
}

template <typename T>
void Trainer<T>::update(double reg_divisor) {
  if (reducer_) reducer_->reduce(net_.grads().data(), net_.grads().size());
  net_.add_regularization_grads(reg_divisor);
  opt_.set_pool(net_.pool());
  net_.backend().optimizer_step(opt_, net_.params().data(), net_.grads().data(), net_.segments());
}

namespace {

size_t pow2_at_least(size_t v) {
  size_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// dst = tree sum of leaves [lo, lo + size), of which leaves [0, present) exist (lo < present):
// the left half into dst, the right half (if any of it exists) into tmp[depth], then dst += it.
template <typename T, typename Leaf>
void tree_sum(size_t lo, size_t size, size_t present, size_t depth, T* dst, size_t n,
              std::vector<std::vector<T>>& tmp, const Leaf& leaf) {
  if (size == 1) {
    leaf(lo, dst);
    return;
  }
  const size_t half = size / 2;
  tree_sum(lo, half, present, depth + 1, dst, n, tmp, leaf);
  if (lo + half >= present) return;
  if (tmp.size() <= depth) tmp.resize(depth + 1);
  if (tmp[depth].size() != n) tmp[depth].assign(n, T(0));
  T* __restrict r = tmp[depth].data();
  tree_sum(lo + half, half, present, depth + 1, r, n, tmp, leaf);
  T* __restrict d = dst;
  for (size_t i = 0; i < n; ++i) d[i] += r[i];
}

// Restores per-element dropout masks when a sharded step ends, however it ends.
template <typename T>
struct RowStreamsOff {
  Network<T>& net;
  ~RowStreamsOff() { net.set_row_streams(false); }
};

}  // namespace

template <typename T>
ShardLayout Trainer<T>::shard_layout(size_t rows, size_t full_rows, size_t shard_rows,
                                     size_t ranks) {
  FASTNN_CHECK(shard_rows > 0 && ranks > 0, "shard_rows and the rank count must be positive");
  ShardLayout L;
  L.shards = (rows + shard_rows - 1) / shard_rows;
  L.slots = pow2_at_least((full_rows + shard_rows - 1) / shard_rows);
  L.blocks = std::min(pow2_at_least(ranks), L.slots);
  L.block_slots = L.slots / L.blocks;
  L.blocks_per_rank = (L.blocks + ranks - 1) / ranks;
  return L;
}

template <typename T>
double Trainer<T>::sharded_step(const T* X, const T* Y, const T* W, const int64_t* index,
                                size_t rows, size_t full_rows, T* pred, double loss_denom) {
  Network<T>& net = net_;
  const Backend<T>& be = net.backend();
  ThreadPool* pool = net.pool();
  const size_t S = shard_rows_, n = net.grads().size();
  const size_t din = net.input_dim(), dout = net.output_dim(), yc = net.loss().label_cols(dout);
  const size_t ranks = comm_ ? comm_->size() : 1, rank = comm_ ? comm_->rank() : 0;
  FASTNN_CHECK(rank < ranks, "collective: rank out of range");
  const ShardLayout L = shard_layout(rows, full_rows, S, ranks);
  // One draw per batch on every rank (the generators agree): the key of this batch's masks.
  const uint64_t key = net.rng().next();
  RowStreamsOff<T> restore{net};

  // Payload of one rank: its slots' loss sums (double), its blocks' gradient sums, its slots'
  // outputs; padded to 64 bytes so every rank's part starts aligned.
  const size_t nslots = L.blocks_per_rank * L.block_slots;
  const size_t loss_bytes = sizeof(double) * nslots;
  const size_t grad_bytes = sizeof(T) * L.blocks_per_rank * n;
  const size_t pred_bytes = pred ? sizeof(T) * nslots * S * dout : 0;
  const size_t bytes = (loss_bytes + grad_bytes + pred_bytes + 63) / 64 * 64;
  if (send_.size() != bytes) send_.assign(bytes, 0);
  unsigned char* send = send_.data();
  const size_t b0 = L.first_block(rank, ranks), b1 = L.first_block(rank + 1, ranks);

  Workspace<T>& ws = net.train_workspace(std::min(S, full_rows));
  const bool fused = net.fused_loss();
  const Loss eff = net.effective_loss(net.loss(), true);
  BackwardFlags flags;
  double* losses = reinterpret_cast<double*>(send);
  T* preds = pred ? reinterpret_cast<T*>(send + loss_bytes + grad_bytes) : nullptr;
  const size_t slot0 = b0 * L.block_slots;
  auto shard = [&](size_t slot, T* dst) {
    const size_t r0 = slot * S, rs = std::min(S, rows - r0);
    const T *x, *y, *w;
    batch_rows(be, pool, ws, X, Y, W, din, yc, index, r0, rs, nullptr, 0, x, y, w);
    net.set_row_streams(true, key, r0);
    const T* out = net.forward(ws, x, rs, true, pool);
    const T* lin = fused ? net.loss_input(ws, x) : out;
    losses[slot - slot0] =
        be.loss(eff, lin, y, w, rs, dout, loss_denom, ws.g0.data(), nullptr);
    if (preds) std::memcpy(preds + (slot - slot0) * S * dout, out, sizeof(T) * rs * dout);
    net.backward(ws, x, rs, fused, flags, pool, dst);
  };
  for (size_t b = b0; b < b1; ++b) {
    if (b * L.block_slots >= L.shards) break;  // nothing of this batch lies in this block
    T* dst = reinterpret_cast<T*>(send + loss_bytes) + (b - b0) * n;
    tree_sum(b * L.block_slots, L.block_slots, L.shards, 0, dst, n, tree_tmp_, shard);
  }

  const unsigned char* all = send;
  if (comm_ && ranks > 1) {
    if (recv_.size() != bytes * ranks) recv_.assign(bytes * ranks, 0);
    comm_->all_gather(send, bytes, recv_.data());
    all = recv_.data();
  }
  // Where block b's part lies: its owner's payload.
  std::vector<size_t> owner(L.blocks);
  for (size_t r = 0; r < ranks; ++r)
    for (size_t b = L.first_block(r, ranks); b < L.first_block(r + 1, ranks); ++b) owner[b] = r;
  auto part = [&](size_t b) { return all + owner[b] * bytes; };
  auto local_slot = [&](size_t slot) {
    const size_t b = slot / L.block_slots;
    return (b - L.first_block(owner[b], ranks)) * L.block_slots + slot % L.block_slots;
  };
  const size_t present_blocks = (L.shards + L.block_slots - 1) / L.block_slots;
  auto block = [&](size_t b, T* dst) {
    const size_t r = owner[b];
    const T* src = reinterpret_cast<const T*>(part(b) + loss_bytes) +
                   (b - L.first_block(r, ranks)) * n;
    std::memcpy(dst, src, sizeof(T) * n);
  };
  tree_sum(size_t(0), L.blocks, present_blocks, 0, net.grads().data(), n, tree_tmp_, block);

  double loss_sum = 0;
  for (size_t slot = 0; slot < L.shards; ++slot) {
    const unsigned char* p = part(slot / L.block_slots);
    double v;
    std::memcpy(&v, p + sizeof(double) * local_slot(slot), sizeof(double));
    loss_sum += v;
    if (pred) {
      const size_t rs = std::min(S, rows - slot * S);
      const T* src = reinterpret_cast<const T*>(p + loss_bytes + grad_bytes) +
                     local_slot(slot) * S * dout;
      std::memcpy(pred + slot * S * dout, src, sizeof(T) * rs * dout);
    }
  }
  return loss_sum;
}

template <typename T>
double Trainer<T>::batch_denominator(const T* w, size_t rows) const {
  if (!objective_.per_weight_sum || !w) return double(rows);
  double s = 0;
  for (size_t i = 0; i < rows; ++i) s += double(w[i]);
  return s;
}

template <typename T>
ChunkResult Trainer<T>::train(const T* X, const T* Y, const T* W, size_t n, const int64_t* index,
                              size_t batch_size, size_t first_batch, size_t num_batches,
                              T* pred_out, double loss_sum_start) {
  Network<T>& net = net_;
  FASTNN_CHECK(net.built(), "network is not built");
  FlushDenormals fp_mode;
  FASTNN_CHECK(batch_size > 0, "batch_size must be positive");
  ChunkResult res;
  res.loss_sum = loss_sum_start;
  const Backend<T>& be = net.backend();
  ThreadPool* pool = net.pool();
  const size_t din = net.input_dim(), dout = net.output_dim();
  const size_t yc = net.loss().label_cols(dout);
  Workspace<T>& ws = net.train_workspace(std::min(batch_size, n));
  const bool fused = net.fused_loss();
  const Loss eff = net.effective_loss(net.loss(), true);
  BackwardFlags flags;  // parameter gradients, overwritten; no input gradient
  // Small Dense chains take the fused step (small_step.h): the same bits, a fraction of the time.
  const bool small = small_on_ && small_.plan(net, std::min(batch_size, n));
  small_used_ = small;
  for (size_t b = first_batch; b < first_batch + num_batches; ++b) {
    const size_t start = b * batch_size;
    if (start >= n) break;
    const size_t rows = std::min(batch_size, n - start);
    if (shard_rows_ > 0) {
      // The objective's denominator needs the whole batch's weights; every rank holds them, and
      // sums them in the batch's row order (the plain step's order), so every rank agrees and a
      // weightless batch is skipped everywhere, with no exchange.
      const T* wb = W ? (index ? nullptr : W + start) : nullptr;
      double denom = double(rows);
      if (objective_.per_weight_sum && W) {
        denom = 0;
        for (size_t i = 0; i < rows; ++i) denom += double(index ? W[index[start + i]] : wb[i]);
      }
      T* p = pred_out ? pred_out + (start - first_batch * batch_size) * dout : nullptr;
      if (!(denom > 0)) {
        if (p) std::fill(p, p + rows * dout, T(0));
        continue;
      }
      const double reg_div = objective_.per_weight_sum ? denom : 1.0;
      const double ls = objective_.loss_scale;
      const double loss_denom = ls == 1.0 ? denom : denom / ls;
      const double s =
          index ? sharded_step(X, Y, W, index + start, rows, std::min(batch_size, n), p, loss_denom)
                : sharded_step(X + start * din, Y + start * yc, wb, nullptr, rows,
                               std::min(batch_size, n), p, loss_denom);
      const double rs = objective_.report_scale;
      const double bl = (rs == 1.0 ? s : s * rs) / denom + net.regularization_loss(reg_div);
      if (!std::isfinite(bl)) res.nonfinite = true;
      net.add_regularization_grads(reg_div);
      opt_.set_pool(net.pool());
      be.optimizer_step(opt_, net.params().data(), net.grads().data(), net.segments());
      res.loss_sum += bl * double(rows);
      res.samples += rows;
      res.batches += 1;
      res.last_batch_loss = bl;
      continue;
    }
    const T *x, *y, *w = nullptr;
    if (small) {  // labels and weights gathered; the first layer reads the inputs by the index
      const size_t next = start + batch_size;
      const bool more = index && next < n;
      if (index)
        small_.gather(X, Y, W, index + start, rows, more ? index + next : nullptr,
                      more ? std::min(batch_size, n - next) : 0);
      else
        small_.gather(X + start * din, Y + start * yc, W ? W + start : nullptr, nullptr, rows,
                      nullptr, 0);
      x = y = nullptr;
      w = small_.weights();
    } else {
      const size_t next = start + batch_size;
      batch_rows(be, pool, ws, X, Y, W, din, yc, index, start, rows,
                 index ? index + std::min(next, n) : nullptr,
                 next < n ? std::min(batch_size, n - next) : 0, x, y, w);
    }
    T* pred = pred_out ? pred_out + (start - first_batch * batch_size) * dout : nullptr;
    const double denom = batch_denominator(w, rows);
    if (!(denom > 0)) {  // per_weight_sum: no weight, no information, no step
      if (pred) std::fill(pred, pred + rows * dout, T(0));
      continue;
    }
    const double reg_div = objective_.per_weight_sum ? denom : 1.0;
    // The loss's gradient is d(sum w_i l_i / denominator); a scaled loss divides the denominator.
    const double ls = objective_.loss_scale;
    const double loss_denom = ls == 1.0 ? denom : denom / ls;
    const T* out;
    double s;
    if (small) {  // forward, loss and backward in one (the backward below is skipped)
      s = small_.run(loss_denom);
      out = small_.output();
    } else {
      out = net.forward(ws, x, rows, true, pool);
      const T* lin = fused ? net.loss_input(ws, x) : out;
      s = be.loss(eff, lin, y, w, rows, dout, loss_denom, ws.g0.data(), nullptr);
    }
    const double rs = objective_.report_scale;
    double bl = (rs == 1.0 ? s : s * rs) / denom + net.regularization_loss(reg_div);
    if (!std::isfinite(bl)) res.nonfinite = true;
    if (pred) std::memcpy(pred, out, sizeof(T) * rows * dout);
    if (!small) net.backward(ws, x, rows, fused, flags, pool);
    update(reg_div);
    res.loss_sum += bl * double(rows);
    res.samples += rows;
    res.batches += 1;
    res.last_batch_loss = bl;
  }
  net.invalidate_cache();  // the manual loop's cache no longer matches
  return res;
}

template <typename T>
void Trainer<T>::apply_gradients() {
  FASTNN_CHECK(net_.built(), "network is not built");
  FlushDenormals fp_mode;
  update();
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace fastnn
