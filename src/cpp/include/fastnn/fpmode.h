// Flush-to-zero and denormals-are-zero for the duration of native work.
//
// Operations on subnormal numbers cost about a hundred cycles each on x86 (and are slow on many
// ARM cores); Adam's moments for units whose gradient is zero decay into that range within an
// epoch or two and would slow training several times. Every native entry point (a training chunk,
// predict, evaluate, the input gradient, the manual-loop calls, a GEMM) holds a FlushDenormals
// for its duration: the calling thread's mode is set on entry and restored on exit, so the
// caller's floating-point environment is never changed behind its back. Pool workers are the
// engine's own threads and run with the same mode (threadpool.cpp).
//
// Numerical consequence: a subnormal input reads as zero (same sign) and a result below the
// smallest normal number (about 1.2e-38 in float, 2.2e-308 in double) is written as zero.
//   x86-64: MXCSR.FTZ (bit 15) and MXCSR.DAZ (bit 6), SSE/AVX arithmetic.
//   aarch64: FPCR.FZ (bit 24) (flushes both inputs and outputs).
//   Elsewhere: no effect.
#pragma once
#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64) || \
    ((defined(__i386__) || defined(_M_IX86)) && defined(__SSE__))
#include <xmmintrin.h>
#define FASTNN_FP_X86 1
#elif defined(__aarch64__)
#define FASTNN_FP_ARM64 1
#endif

namespace fastnn {

// The calling thread's floating-point control word (MXCSR or FPCR; 0 where not supported).
inline uint64_t fp_control() {
#if defined(FASTNN_FP_X86)
  return _mm_getcsr();
#elif defined(FASTNN_FP_ARM64)
  uint64_t v;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
  return v;
#else
  return 0;
#endif
}

inline void set_fp_control(uint64_t v) {
#if defined(FASTNN_FP_X86)
  _mm_setcsr(unsigned(v));
#elif defined(FASTNN_FP_ARM64)
  __asm__ __volatile__("msr fpcr, %0" : : "r"(v));
#else
  (void)v;
#endif
}

// The bits this mode sets.
constexpr uint64_t kFlushDenormalBits =
#if defined(FASTNN_FP_X86)
    (1u << 15) | (1u << 6);
#elif defined(FASTNN_FP_ARM64)
    uint64_t(1) << 24;
#else
    0;
#endif

// Sets flush-to-zero / denormals-are-zero on this thread for the object's lifetime.
class FlushDenormals {
 public:
  FlushDenormals() : saved_(fp_control()) {
    const uint64_t want = saved_ | kFlushDenormalBits;
    if (want != saved_) set_fp_control(want);
  }
  // Restores the caller's flush bits; status flags raised meanwhile are left as they are.
  ~FlushDenormals() {
    const uint64_t now = fp_control();
    const uint64_t back = (now & ~kFlushDenormalBits) | (saved_ & kFlushDenormalBits);
    if (back != now) set_fp_control(back);
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  uint64_t saved_;
};

}  // namespace fastnn
