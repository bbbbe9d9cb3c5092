// The engine's thread pool: no OpenMP. Created lazily; the calling thread takes part in the work;
// workers spin briefly, then sleep. Rebuilt in a child process after fork.
// Size: FASTNN_NUM_THREADS if set, else the number of physical cores; set_num_threads changes it.
#pragma once
#include <cstddef>
#include <type_traits>

namespace fastnn {

class ThreadPool {
 public:
  // The process's pool (like the BLAS thread count, the thread count is a process setting).
  static ThreadPool& global();

  virtual ~ThreadPool() = default;
  virtual void set_num_threads(int n) = 0;  // n >= 1
  virtual int num_threads() const = 0;

  // Runs fn(ctx, i) for every i in [0, ntasks), spread over the pool; returns when all have run.
  // Tasks run in any order on any thread: a task must not depend on which thread runs it.
  // ntasks <= 1 or a one-thread pool runs everything on the calling thread.
  // If a task throws, the first exception is rethrown in the caller after all tasks finish.
  virtual void run(size_t ntasks, void (*fn)(void* ctx, size_t i), void* ctx) = 0;

  template <typename F>
  void parallel_for(size_t ntasks, F&& f) {
    using Fn = std::remove_reference_t<F>;
    run(ntasks, [](void* c, size_t i) { (*static_cast<Fn*>(c))(i); },
        const_cast<void*>(static_cast<const void*>(&f)));
  }
};

int physical_cores();

}  // namespace fastnn
