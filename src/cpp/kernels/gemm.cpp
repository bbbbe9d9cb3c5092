// GEMM entry points: argument checks, then the kernel table picked at run time.
// The kernels themselves live in kernels_<isa>.cpp (see fastnn/gemm_kernels.h).
#include "fastnn/gemm.h"
#include "gemm_kernels.h"
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#if defined(__linux__) && defined(FASTNN_HAVE_KERNELS_AMX)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace fastnn {
namespace {

bool cpu_has(const char* isa) {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (std::strcmp(isa, "avx2") == 0)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (std::strcmp(isa, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
  (void)isa;
  return false;
}

const GemmKernelTable* table_if_usable(const char* name) {
  if (std::strcmp(name, "generic") == 0) return gemm_table_generic();
#if defined(FASTNN_HAVE_KERNELS_AVX512)
  if (std::strcmp(name, "avx512") == 0 && cpu_has("avx512")) return gemm_table_avx512();
#endif
#if defined(FASTNN_HAVE_KERNELS_AVX2)
  if (std::strcmp(name, "avx2") == 0 && cpu_has("avx2")) return gemm_table_avx2();
#endif
  return nullptr;
}

// Best table at or below the requested one: avx512 -> avx2 -> generic.
const GemmKernelTable* choose(const char* want) {
  static const char* const order[] = {"avx512", "avx2", "generic"};
  size_t start = 0;
  if (want && *want) {
    for (size_t i = 0; i < 3; ++i)
      if (std::strcmp(want, order[i]) == 0) start = i;
  }
  for (size_t i = start; i < 3; ++i)
    if (const GemmKernelTable* t = table_if_usable(order[i])) return t;
  return gemm_table_generic();
}

std::atomic<const GemmKernelTable*> g_table{nullptr};

const GemmKernelTable* table() {
  const GemmKernelTable* t = g_table.load(std::memory_order_acquire);
  if (t) return t;
  t = choose(std::getenv("FASTNN_KERNEL"));
  const GemmKernelTable* expected = nullptr;
  if (!g_table.compare_exchange_strong(expected, t, std::memory_order_acq_rel)) t = expected;
  return t;
}

template <typename T>
void check_args(bool ta, bool tb, size_t M, size_t N, size_t K, const T* A, size_t lda,
                const T* B, size_t ldb, T* C, size_t ldc) {
  if (M && K) {
    FASTNN_CHECK(A != nullptr, "gemm: A is null");
    FASTNN_CHECK(lda >= (ta ? M : K), "gemm: lda is smaller than a row of A");
  }
  if (N && K) {
    FASTNN_CHECK(B != nullptr, "gemm: B is null");
    FASTNN_CHECK(ldb >= (tb ? K : N), "gemm: ldb is smaller than a row of B");
  }
  FASTNN_CHECK(C != nullptr, "gemm: C is null");
  FASTNN_CHECK(ldc >= N, "gemm: ldc is smaller than a row of C");
}

}  // namespace

const GemmKernelTable* gemm_active_table() { return table(); }

const char* gemm_force_kernel(const char* name) {
  const GemmKernelTable* t =
      (!name || std::strcmp(name, "auto") == 0) ? choose(std::getenv("FASTNN_KERNEL")) : choose(name);
  g_table.store(t, std::memory_order_release);
  return t->name;
}

const char* gemm_kernel_name() { return table()->name; }

static GemmFn<float> table_fn(const GemmKernelTable* t, const float*) { return t->sgemm; }
static GemmFn<double> table_fn(const GemmKernelTable* t, const double*) { return t->dgemm; }

template <typename T>
void gemm(bool ta, bool tb, size_t M, size_t N, size_t K, const T* A, size_t lda, const T* B,
          size_t ldb, T beta, T* C, size_t ldc, const Epilogue<T>* ep, ThreadPool* pool) {
  if (M == 0 || N == 0) return;
  check_args(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
  table_fn(table(), C)(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, ep, pool);
}

static const SmallGemmFns<float>& small_fns(const GemmKernelTable* t, const float*) {
  return t->small_f;
}
static const SmallGemmFns<double>& small_fns(const GemmKernelTable* t, const double*) {
  return t->small_d;
}

bool small_gemm_available() {
  const GemmKernelTable* t = table();
  return t->small_f.nn && t->small_d.nn;
}

template <typename T>
void small_gemm_nn(size_t M, size_t N, size_t K, const T* A, size_t lda, const int64_t* rows,
                   const T* B, size_t ldb, const T* bias, bool relu, T* C, size_t ldc) {
  small_fns(table(), C).nn(M, N, K, A, lda, rows, B, ldb, bias, relu, C, ldc);
}

template <typename T>
void small_gemm_tn(size_t M, size_t N, size_t K, const T* A, size_t lda, const int64_t* rows,
                   const T* B, size_t ldb, T* C, size_t ldc, T* sums) {
  small_fns(table(), C).tn(M, N, K, A, lda, rows, B, ldb, C, ldc, sums);
}

template void small_gemm_nn<float>(size_t, size_t, size_t, const float*, size_t, const int64_t*,
                                   const float*, size_t, const float*, bool, float*, size_t);
template void small_gemm_nn<double>(size_t, size_t, size_t, const double*, size_t, const int64_t*,
                                    const double*, size_t, const double*, bool, double*, size_t);
template void small_gemm_tn<float>(size_t, size_t, size_t, const float*, size_t, const int64_t*,
                                   const float*, size_t, float*, size_t, float*);
template void small_gemm_tn<double>(size_t, size_t, size_t, const double*, size_t, const int64_t*,
                                    const double*, size_t, double*, size_t, double*);

namespace {

// Decided once per process (a function-local static is initialised exactly once, thread-safely):
// the CPU features, then Linux's permission to use the AMX tile data (ARCH_REQ_XCOMP_PERM for
// XFEATURE_XTILEDATA), which a process must request before its first tile instruction.
struct Bf16Support {
  GemmFn<float> fn = nullptr;
  const char* reason = "";
};

Bf16Support detect_bf16() {
  Bf16Support s;
#if defined(FASTNN_HAVE_KERNELS_AMX) && defined(__linux__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("amx-bf16") || !__builtin_cpu_supports("amx-tile") ||
      !__builtin_cpu_supports("avx512bf16") || !__builtin_cpu_supports("avx512bw") ||
      !__builtin_cpu_supports("avx512vl")) {
    s.reason = "bfloat16 matrix products need a CPU with AMX-BF16 and AVX512-BF16 (Intel Xeon "
               "Sapphire Rapids or later); this CPU lacks them";
    return s;
  }
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    s.reason = "the operating system refused this process the AMX tile state (arch_prctl "
               "ARCH_REQ_XCOMP_PERM); bfloat16 matrix products are unavailable";
    return s;
  }
  s.fn = gemm_bf16_amx();
  if (!s.fn) s.reason = "this build of fastnn has no AMX kernels";
#else
  s.reason = "this build of fastnn has no bfloat16 kernels (AMX-BF16 kernels are built for x86-64 "
             "Linux with a compiler that supports -mamx-bf16)";
#endif
  return s;
}

const Bf16Support& bf16_support() {
  static const Bf16Support s = detect_bf16();
  return s;
}

}  // namespace

bool gemm_bf16_available() { return bf16_support().fn != nullptr; }

const char* gemm_bf16_unavailable_reason() { return bf16_support().reason; }

void gemm_bf16(bool ta, bool tb, size_t M, size_t N, size_t K, const float* A, size_t lda,
               const float* B, size_t ldb, float beta, float* C, size_t ldc,
               const Epilogue<float>* ep, ThreadPool* pool) {
  const Bf16Support& s = bf16_support();
  if (!s.fn) throw std::runtime_error(s.reason);
  if (M == 0 || N == 0) return;
  check_args(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
  s.fn(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, ep, pool);
}

template void gemm<float>(bool, bool, size_t, size_t, size_t, const float*, size_t, const float*,
                          size_t, float, float*, size_t, const Epilogue<float>*, ThreadPool*);
template void gemm<double>(bool, bool, size_t, size_t, size_t, const double*, size_t, const double*,
                           size_t, double, double*, size_t, const Epilogue<double>*, ThreadPool*);

}  // namespace fastnn
