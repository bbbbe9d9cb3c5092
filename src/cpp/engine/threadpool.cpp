// The engine's thread pool (see fastnn/threadpool.h).
//
// One job at a time: run() publishes (fn, ctx, ntasks) with a new generation number and an "open"
// bit; the caller and any worker that joins take task indices from a shared counter until none are
// left. The caller waits for the tasks, not for the workers: a worker that is asleep or descheduled
// when the job is published simply finds it done or closed. To join, a worker registers in
// `active_` and then checks that the job is still open; the caller closes the job after its last
// task and waits for the registered workers to leave, so a job's fields are never reused while
// read. Workers spin for a short while after each job (back-to-back GEMMs of a training step find
// them awake), then sleep on a condition variable.
//
// A second run() while one is in progress (another user thread, or a task that itself calls run())
// executes its tasks inline on its own thread: no deadlock, no shared state touched.
//
// fork(): the prepare handler waits for a job in progress to finish; in the child, the pool forgets
// its (non-existent) workers and starts new ones on the next parallel run.
#include "fastnn/threadpool.h"

#include "fastnn/fpmode.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <signal.h>
#define FASTNN_POSIX 1
#endif
#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#define FASTNN_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define FASTNN_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define FASTNN_CPU_RELAX() ((void)0)
#endif

namespace fastnn {
namespace {

constexpr int kMaxThreads = 1024;
// How long an idle worker keeps spinning before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(50);

struct Sync {
  std::mutex m;
  std::condition_variable cv;
};

thread_local bool t_is_worker = false;

// The logical CPUs this process may run on (its affinity mask), counted once.
int usable_cpus() {
  static const int n = [] {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    const unsigned h = std::thread::hardware_concurrency();
    return h ? int(h) : 1;
  }();
  return n;
}

void run_inline(size_t ntasks, void (*fn)(void*, size_t), void* ctx) {
  std::exception_ptr first;
  for (size_t i = 0; i < ntasks; ++i) {
    try {
      fn(ctx, i);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

class Pool final : public ThreadPool {
 public:
  explicit Pool(int n) : nthreads_(n), sync_(new Sync) {}
  ~Pool() override = default;  // the global pool is never destroyed

  void set_num_threads(int n) override {
    n = std::max(1, std::min(n, kMaxThreads));
    nthreads_.store(n, std::memory_order_relaxed);
    // Shrink now if no job is running; otherwise the next run() does it.
    if (inside_job()) return;
    std::unique_lock<std::mutex> lk(run_mtx_, std::try_to_lock);
    if (lk.owns_lock() && int(workers_.size()) > n - 1) stop_workers_from(n - 1);
  }

  int num_threads() const override { return nthreads_.load(std::memory_order_relaxed); }

  void run(size_t ntasks, void (*fn)(void*, size_t), void* ctx) override {
    if (ntasks == 0) return;
    // Workers beyond the CPUs the process may run on would only queue for a CPU, and every job
    // wakes them: a pool set larger than the machine runs as many workers as it has CPUs.
    const int nt = std::min(num_threads(), usable_cpus());
    if (ntasks == 1 || nt <= 1 || inside_job()) return run_inline(ntasks, fn, ctx);
    std::unique_lock<std::mutex> lk(run_mtx_, std::try_to_lock);
    if (!lk.owns_lock()) return run_inline(ntasks, fn, ctx);
    struct Owner {
      std::atomic<std::thread::id>& o;
      explicit Owner(std::atomic<std::thread::id>& x) : o(x) {
        o.store(std::this_thread::get_id());
      }
      ~Owner() { o.store(std::thread::id()); }
    } owner(run_owner_);

    if (int(workers_.size()) > nt - 1) stop_workers_from(nt - 1);
    if (int(workers_.size()) < nt - 1) start_workers(nt - 1);
    if (workers_.empty()) return run_inline(ntasks, fn, ctx);

    fn_ = fn;
    ctx_ = ctx;
    ntasks_ = ntasks;
    error_ = nullptr;
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t gen = (word_.load(std::memory_order_relaxed) >> 1) + 1;
    publish((gen << 1) | 1);

    work();
    // Wait for the tasks other threads took, then close the job and wait for the workers that
    // joined it to leave (they are about to: no task is left to take).
    wait_until([&] { return done_.load(std::memory_order_acquire) == ntasks; });
    word_.store(gen << 1, std::memory_order_seq_cst);
    wait_until([&] { return active_.load(std::memory_order_seq_cst) == 0; });
    if (error_) {
      std::exception_ptr e = std::move(error_);
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

  // ---- fork
  // --------------------------------------------------------------------------------------
  void before_fork() {
    // Let a job in progress finish so that the child sees consistent state. (Not when the forking
    // thread takes part in that job: it would wait for itself.)
    if (!inside_job()) {
      run_mtx_.lock();
      fork_locked_ = true;
    }
  }
  void after_fork_parent() {
    if (fork_locked_) {
      fork_locked_ = false;
      run_mtx_.unlock();
    }
  }
  void after_fork_child() {
    // The workers do not exist here: drop them without touching their std::thread objects (which
    // would terminate or hang), and start over with fresh synchronisation objects.
    workers_.clear();
    sync_ = new Sync;
    sleeping_.store(0);
    active_.store(0);
    quit_from_.store(INT_MAX);
    if (fork_locked_) {
      fork_locked_ = false;
      run_mtx_.unlock();
    }
  }

 private:
  // True on a thread that is running a task of this pool (a worker, or the caller of run()).
  bool inside_job() const {
    return t_is_worker || run_owner_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

  template <typename Pred>
  static void wait_until(Pred done) {
    for (unsigned spins = 0; !done(); ++spins) {
      if (spins < 20000)
        FASTNN_CPU_RELAX();
      else
        std::this_thread::yield();
    }
  }

  // Stores the new job word ((generation << 1) | open) and wakes sleeping workers.
  void publish(uint64_t word) {
    word_.store(word, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) > 0) wake_all();
  }
  void wake_all() {
    Sync* s = sync_;
    { std::lock_guard<std::mutex> g(s->m); }
    s->cv.notify_all();
  }

  void work() {
    const size_t n = ntasks_;
    auto fn = fn_;
    void* ctx = ctx_;
    for (;;) {
      const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) break;
      try {
        fn(ctx, i);
      } catch (...) {
        std::lock_guard<std::mutex> g(err_mtx_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  void worker_main(int id, uint64_t seen) {
    t_is_worker = true;
    // Workers run only the engine's tasks: they keep its floating-point mode for their lifetime
    // (the caller's thread takes it only for the duration of each native call, see fpmode.h).
    set_fp_control(fp_control() | kFlushDenormalBits);
    Sync* s = sync_;
    auto ready = [&] {
      return word_.load(std::memory_order_seq_cst) != seen ||
             quit_from_.load(std::memory_order_relaxed) <= id;
    };
    for (;;) {
      if (!ready()) {
        const auto t0 = std::chrono::steady_clock::now();
        bool got = false;
        for (unsigned i = 1;; ++i) {
          FASTNN_CPU_RELAX();
          if (ready()) {
            got = true;
            break;
          }
          if ((i & 255) == 0 && std::chrono::steady_clock::now() - t0 > kSpin) break;
        }
        if (!got) {
          sleeping_.fetch_add(1, std::memory_order_seq_cst);
          {
            std::unique_lock<std::mutex> lk(s->m);
            s->cv.wait(lk, ready);
          }
          sleeping_.fetch_sub(1, std::memory_order_seq_cst);
        }
      }
      if (quit_from_.load(std::memory_order_relaxed) <= id) return;
      const uint64_t w = word_.load(std::memory_order_seq_cst);
      seen = w;
      if (!(w & 1)) continue;  // closed, or a wake-up without a job
      active_.fetch_add(1, std::memory_order_seq_cst);
      if (word_.load(std::memory_order_seq_cst) == w) work();  // still open: the fields are valid
      active_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  // Called with run_mtx_ held.
  void start_workers(int count) {
#if defined(FASTNN_POSIX)
    // Workers block all signals, so that signals (Ctrl-C) go to the user's threads.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
#endif
    const uint64_t seen = word_.load(std::memory_order_relaxed);
    while (int(workers_.size()) < count) {
      const int id = int(workers_.size());
      try {
        workers_.push_back(new std::thread([this, id, seen] { worker_main(id, seen); }));
      } catch (...) {
        break;  // cannot start more threads: use the ones there are
      }
    }
#if defined(FASTNN_POSIX)
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
#endif
  }

  // Called with run_mtx_ held: stops and joins workers id >= first.
  void stop_workers_from(int first) {
    if (first < 0) first = 0;
    if (int(workers_.size()) <= first) return;
    quit_from_.store(first, std::memory_order_relaxed);
    // A new closed generation wakes every worker; those with id >= first leave.
    word_.store(((word_.load(std::memory_order_relaxed) >> 1) + 1) << 1, std::memory_order_seq_cst);
    wake_all();
    for (size_t i = size_t(first); i < workers_.size(); ++i) {
      workers_[i]->join();
      delete workers_[i];
    }
    workers_.resize(size_t(first));
    quit_from_.store(INT_MAX, std::memory_order_relaxed);
  }

  std::atomic<int> nthreads_;
  std::mutex run_mtx_;
  std::atomic<std::thread::id> run_owner_{};
  bool fork_locked_ = false;
  Sync* sync_;  // replaced (the old one leaked) in a forked child
  std::vector<std::thread*> workers_;

  alignas(64) std::atomic<uint64_t> word_{0};  // (generation << 1) | open
  std::atomic<int> quit_from_{INT_MAX};
  std::atomic<int> sleeping_{0};
  alignas(64) std::atomic<int> active_{0};   // workers inside the current job
  alignas(64) std::atomic<size_t> next_{0};  // next task index to take
  alignas(64) std::atomic<size_t> done_{0};  // tasks finished

  // The current job (written before publish(), read by the chosen workers after it).
  void (*fn_)(void*, size_t) = nullptr;
  void* ctx_ = nullptr;
  size_t ntasks_ = 0;
  std::mutex err_mtx_;
  std::exception_ptr error_;
};

Pool* g_pool = nullptr;

#if defined(FASTNN_POSIX)
void atfork_prepare() {
  if (g_pool) g_pool->before_fork();
}
void atfork_parent() {
  if (g_pool) g_pool->after_fork_parent();
}
void atfork_child() {
  if (g_pool) g_pool->after_fork_child();
}
#endif

int default_threads() {
  if (const char* s = std::getenv("FASTNN_NUM_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end != s && v >= 1) return int(std::min<long>(v, kMaxThreads));
  }
  return std::max(1, std::min(physical_cores(), kMaxThreads));
}

#if defined(__linux__)
bool read_int_file(const char* path, long* out) {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return false;
  const bool ok = std::fscanf(f, "%ld", out) == 1;
  std::fclose(f);
  return ok;
}
#endif

int count_physical_cores() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    std::set<std::pair<long, long>> cores;
    bool ok = true;
    for (int cpu = 0; cpu < CPU_SETSIZE && ok; ++cpu) {
      if (!CPU_ISSET(cpu, &set)) continue;
      char path[128];
      long core = 0, pkg = 0;
      std::snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
      ok = read_int_file(path, &core);
      std::snprintf(path, sizeof(path),
                    "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
      if (ok && !read_int_file(path, &pkg)) pkg = 0;
      cores.insert({pkg, core});
    }
    if (ok && !cores.empty()) return int(cores.size());
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
}

}  // namespace

int physical_cores() {
  static const int n = count_physical_cores();
  return n;
}

ThreadPool& ThreadPool::global() {
  // Leaked on purpose: workers may still be parked at exit, and nothing must be destroyed under
  // them.
  static Pool* pool = [] {
    Pool* p = new Pool(default_threads());
    g_pool = p;
#if defined(FASTNN_POSIX)
    pthread_atfork(&atfork_prepare, &atfork_parent, &atfork_child);
#endif
    return p;
  }();
  return *pool;
}

}  // namespace fastnn
