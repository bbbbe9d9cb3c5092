// GEMM micro-benchmark: GFLOP/s of fastnn::gemm on square sizes and on the shapes of a 784-512-512-10
// network at batch 128 (forward, weight gradients via trans_a, input gradients via trans_b), with 1
// and 2 threads, plus the per-call latency of the tiny shapes of an 8-10-10-1 network at batch 32.
//
//   bench_gemm [--dtype f32|f64|both] [--threads 1,2] [--kernel generic|avx2|avx512]
//              [--min-time SECONDS] [--reps N] [--quick] [--shapes square|net|tiny|all] [--csv]
//              [--shape M,N,K[,ta,tb]]...   (only these shapes; may be repeated)
//              [--cpu-time]   (time with the process's CPU time: steadier on a loaded machine, but
//                              only meaningful with 1 thread)
//
// --csv prints one line per measurement: dtype,threads,M,N,K,ta,tb,gflops,ns_per_call
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "fastnn/gemm.h"
#include "gemm_kernels.h"
#include "fastnn/threadpool.h"

namespace {

struct Shape {
  const char* tag;
  size_t M, N, K;
  bool ta, tb;
};

struct Options {
  bool f32 = true, f64 = false;
  std::vector<int> threads{1, 2};
  double min_time = 0.25;
  int reps = 5;
  std::string shapes = "all";
  bool csv = false;
  std::vector<std::vector<int>> custom;
};

bool g_cpu_time = false;

double now() {
  if (g_cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename T>
void measure(const Shape& s, int nthreads, const Options& o) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  const size_t arows = s.ta ? s.K : s.M, acols = s.ta ? s.M : s.K;
  const size_t brows = s.tb ? s.N : s.K, bcols = s.tb ? s.K : s.N;
  std::vector<T> A(arows * acols), B(brows * bcols), C(s.M * s.N);
  for (auto& x : A) x = T(d(rng));
  for (auto& x : B) x = T(d(rng));
  fastnn::ThreadPool& pool = fastnn::ThreadPool::global();
  pool.set_num_threads(nthreads);
  auto call = [&] {
    fastnn::gemm<T>(s.ta, s.tb, s.M, s.N, s.K, A.data(), acols, B.data(), bcols, T(0), C.data(),
                    s.N, nullptr, &pool);
  };
  call();
  // Calibrate the number of calls per timing so one timing lasts about min_time / reps.
  size_t n = 1;
  for (;;) {
    double t0 = now();
    for (size_t i = 0; i < n; ++i) call();
    double t = now() - t0;
    if (t > o.min_time / o.reps / 4 || n > (size_t(1) << 30)) {
      n = std::max<size_t>(1, size_t(double(n) * (o.min_time / o.reps) / std::max(t, 1e-9)));
      break;
    }
    n *= 4;
  }
  double best = 1e30;
  for (int r = 0; r < o.reps; ++r) {
    double t0 = now();
    for (size_t i = 0; i < n; ++i) call();
    best = std::min(best, (now() - t0) / double(n));
  }
  const double flops = 2.0 * double(s.M) * double(s.N) * double(s.K);
  const char* dt = sizeof(T) == 4 ? "f32" : "f64";
  if (o.csv) {
    std::printf("%s,%d,%zu,%zu,%zu,%d,%d,%.3f,%.1f\n", dt, nthreads, s.M, s.N, s.K, int(s.ta),
                int(s.tb), flops / best * 1e-9, best * 1e9);
  } else {
    std::printf("%-4s %-9s thr=%d  M=%5zu N=%5zu K=%5zu %s%s  %8.2f GFLOP/s  %10.1f ns/call\n", dt,
                s.tag, nthreads, s.M, s.N, s.K, s.ta ? "Aᵀ" : "A ", s.tb ? "Bᵀ" : "B ",
                flops / best * 1e-9, best * 1e9);
  }
  std::fflush(stdout);
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> v;
  while (*s) {
    v.push_back(std::atoi(s));
    const char* c = std::strchr(s, ',');
    if (!c) break;
    s = c + 1;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--dtype") {
      std::string v = next();
      o.f32 = v == "f32" || v == "both";
      o.f64 = v == "f64" || v == "both";
    } else if (a == "--threads") {
      o.threads = parse_list(next());
    } else if (a == "--kernel") {
      fastnn::gemm_force_kernel(next());
    } else if (a == "--min-time") {
      o.min_time = std::atof(next());
    } else if (a == "--quick") {
      o.min_time = 0.05;
      o.reps = 3;
    } else if (a == "--shapes") {
      o.shapes = next();
    } else if (a == "--reps") {
      o.reps = std::max(1, std::atoi(next()));
    } else if (a == "--shape") {
      std::vector<int> v = parse_list(next());
      if (v.size() != 3 && v.size() != 5) {
        std::fprintf(stderr, "--shape wants M,N,K or M,N,K,ta,tb\n");
        return 2;
      }
      o.custom.push_back(v);
    } else if (a == "--cpu-time") {
      g_cpu_time = true;
    } else if (a == "--csv") {
      o.csv = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }

  std::vector<Shape> shapes;
  for (const auto& v : o.custom)
    shapes.push_back({"custom", size_t(v[0]), size_t(v[1]), size_t(v[2]), v.size() == 5 && v[3] != 0,
                      v.size() == 5 && v[4] != 0});
  if (!o.custom.empty()) o.shapes = "none";
  if (o.shapes == "all" || o.shapes == "square")
    for (size_t n : {64, 128, 256, 512, 1024, 2048}) shapes.push_back({"square", n, n, n, false, false});
  if (o.shapes == "all" || o.shapes == "net") {
    // 784-512-512-10 at batch 128: forward X W, weight gradient Xᵀ dY, input gradient dY Wᵀ.
    shapes.push_back({"fwd1", 128, 512, 784, false, false});
    shapes.push_back({"fwd2", 128, 512, 512, false, false});
    shapes.push_back({"fwd3", 128, 10, 512, false, false});
    shapes.push_back({"dW1", 784, 512, 128, true, false});
    shapes.push_back({"dW2", 512, 512, 128, true, false});
    shapes.push_back({"dW3", 512, 10, 128, true, false});
    shapes.push_back({"dX3", 128, 512, 10, false, true});
    shapes.push_back({"dX2", 128, 512, 512, false, true});
    shapes.push_back({"dX1", 128, 784, 512, false, true});
  }
  if (o.shapes == "all" || o.shapes == "tiny") {
    // 8-10-10-1 at batch 32.
    shapes.push_back({"tiny-fwd1", 32, 10, 8, false, false});
    shapes.push_back({"tiny-fwd2", 32, 10, 10, false, false});
    shapes.push_back({"tiny-fwd3", 32, 1, 10, false, false});
    shapes.push_back({"tiny-dW1", 8, 10, 32, true, false});
    shapes.push_back({"tiny-dW2", 10, 10, 32, true, false});
    shapes.push_back({"tiny-dX2", 32, 10, 10, false, true});
    shapes.push_back({"tiny-dX3", 32, 10, 1, false, true});
  }

  if (!o.csv)
    std::printf("fastnn gemm kernel: %s  (physical cores: %d)\n", fastnn::gemm_kernel_name(),
                fastnn::physical_cores());
  for (int t : o.threads)
    for (const Shape& s : shapes) {
      if (o.f32) measure<float>(s, t, o);
      if (o.f64) measure<double>(s, t, o);
    }
  return 0;
}
