// Time per training step of the founding network (8-10-10-1, Adam, BCE, batch 32) and of the
// 784-512-512-10 network (and, on request, of the 1024-4096-4096-1024 one), measured inside the
// engine (no Python), to separate engine cost from the binding and Python overhead. GFLOP/s count
// the matrix products of a step (no input gradient for the first layer).
// Usage: bench_step [threads] [all|w1|w2|w3]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "fastnn/network.h"
#include "fastnn/threadpool.h"
#include "fastnn/trainer.h"

using namespace fastnn;

static Activation act(ActKind k) {
  Activation a;
  a.kind = k;
  return a;
}

static double run(std::vector<size_t> widths, LossKind loss, ActKind last, size_t n, size_t bs,
                  int reps) {
  Network<float> net(widths[0], 1);
  for (size_t i = 1; i < widths.size(); ++i) {
    auto d = std::make_unique<Dense<float>>(widths[i - 1], widths[i], true,
                                            act(i + 1 == widths.size() ? last : ActKind::Relu));
    d->params[0].init.kind = InitKind::VarianceScaling;
    d->params[0].init.a = 1.0;
    d->params[0].seed = i;
    net.add_layer(std::move(d));
  }
  net.build();
  Loss l;
  l.kind = loss;
  net.set_loss(l);
  OptimizerConfig oc;
  oc.kind = OptKind::Adam;
  net.set_pool(&ThreadPool::global());
  Trainer<float> trainer(net);
  trainer.set_optimizer(oc, true);
  const size_t din = widths[0], dout = widths.back();
  std::vector<float> X(n * din),
      Y(n * (loss == LossKind::SparseCategoricalCrossentropy ? 1 : dout));
  Rng r(7);
  for (auto& v : X) v = float(r.normal());
  for (size_t i = 0; i < Y.size(); ++i)
    Y[i] =
        loss == LossKind::SparseCategoricalCrossentropy ? float(r.below(dout)) : float(r.below(2));
  std::vector<int64_t> perm(n);
  net.shuffle(perm.data(), n);
  const size_t steps = (n + bs - 1) / bs;
  trainer.train(X.data(), Y.data(), nullptr, n, perm.data(), bs, 0, steps, nullptr);  // warm-up
  double best = 1e30, best_cpu = 1e30;
  for (int k = 0; k < reps; ++k) {
    timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    auto t0 = std::chrono::steady_clock::now();
    trainer.train(X.data(), Y.data(), nullptr, n, perm.data(), bs, 0, steps, nullptr);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu = double(c1.tv_sec - c0.tv_sec) + 1e-9 * double(c1.tv_nsec - c0.tv_nsec);
    if (dt < best) best = dt;
    if (cpu < best_cpu) best_cpu = cpu;
  }
  std::printf("  (calling thread's CPU time: %.3f us/step)\n", best_cpu / double(steps) * 1e6);
  return best / double(steps) * 1e6;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const std::string which = argc > 2 ? argv[2] : "all";
  ThreadPool::global().set_num_threads(threads);
  if (which == "all" || which == "w1") {
    double w1 = run({8, 10, 10, 1}, LossKind::BinaryCrossentropy, ActKind::Sigmoid, 100000, 32, 5);
    std::printf("W1 8-10-10-1 batch 32: %.3f us/step, %.0f samples/s (%d threads)\n", w1,
                32.0 / w1 * 1e6, threads);
  }
  if (which == "all" || which == "w2") {
    double w2 = run({784, 512, 512, 10}, LossKind::SparseCategoricalCrossentropy, ActKind::Softmax,
                    6400, 128, 2);
    double flops = 128 * (6.0 * (784.0 * 512 + 512.0 * 512 + 512.0 * 10) - 2.0 * 784 * 512);
    std::printf(
        "W2 784-512-512-10 batch 128: %.1f us/step, %.0f samples/s, %.1f GFLOP/s (%d threads)\n",
        w2, 128.0 / w2 * 1e6, flops / w2 / 1e3, threads);
  }
  if (which == "w3") {
    double w3 =
        run({1024, 4096, 4096, 1024}, LossKind::MeanSquaredError, ActKind::Linear, 2048, 256, 1);
    double flops = 256 * (6.0 * (1024.0 * 4096 * 2 + 4096.0 * 4096) - 2.0 * 1024 * 4096);
    std::printf(
        "W3 1024-4096-4096-1024 batch 256: %.1f us/step, %.0f samples/s, %.1f GFLOP/s (%d "
        "threads)\n",
        w3, 256.0 / w3 * 1e6, flops / w3 / 1e3, threads);
  }
  return 0;
}
