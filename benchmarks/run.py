"""Side-by-side training and inference benchmark: fastnn against PyTorch, Keras and scikit-learn.

    pip install . && python benchmarks/run.py [--quick] [--threads 2] [--output DIR]

Every measurement runs in its own process (benchmarks/peers.py) with the same thread count for
every library and the same generated data, so no library's thread pool or allocator state leaks
into another's numbers. A peer that is not installed is skipped with a note. Results go to
OUT/latest.md (a markdown table), OUT/latest.json (all raw numbers) and OUT/latest.png (a chart,
when matplotlib is installed). See benchmarks/README.md for what each workload measures.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import peers  # noqa: E402  (the workload definitions; importing it loads only numpy)

FRAMEWORKS = ["fastnn", "torch", "keras", "sklearn"]
NAMES = dict(fastnn="fastnn", torch="PyTorch", keras="Keras", sklearn="scikit-learn")
PEERS = ["torch", "keras", "sklearn"]
# Which frameworks run which workload, and which also run it at 1 thread (W1: to show that a
# second thread never slows the tiny network down; W2: the 2-thread / 1-thread ratio).
RUNS_ON = dict(w1=FRAMEWORKS, w2=FRAMEWORKS, w3=["fastnn", "torch"], w4=FRAMEWORKS)
ONE_THREAD_TOO = dict(w1=("fastnn",), w2=("fastnn", "torch"), w3=(), w4=("fastnn",))
# Workloads also run in mixed precision (fastnn: dtype_policy="mixed_bfloat16"; PyTorch:
# torch.autocast("cpu", dtype=torch.bfloat16)), at the main thread count.
MIXED_ON = dict(w3=("fastnn", "torch"))
MIXED = "mixed_bfloat16"
MEMORY_RUNS = [("fastnn", "w1"), ("fastnn", "w2"), ("torch", "w1"), ("torch", "w2")]
# Environment variables that may be set on a machine to pin OpenBLAS's kernel choice or cache
# size; they can make numpy much slower, so the benchmark processes run without them.
UNSET_VARS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]
THREAD_VARS = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
               "TF_NUM_INTEROP_THREADS"]


def log(msg: str) -> None:
    print(msg, flush=True)


# ----------------------------------------------------------------------------------------------
# environment, machine, versions
# ----------------------------------------------------------------------------------------------
def child_env(threads: int, omp_passive: bool = False) -> dict:
    env = dict(os.environ)
    for var in UNSET_VARS:
        env.pop(var, None)
    for var in THREAD_VARS:
        env[var] = str(threads)
    if omp_passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["KERAS_BACKEND"] = "tensorflow"
    env["PYTHONWARNINGS"] = "ignore"
    return env


def read_text(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine_info() -> dict:
    cpuinfo = read_text("/proc/cpuinfo")
    fields = {}
    for line in cpuinfo.splitlines():
        if ":" in line:
            k, v = (s.strip() for s in line.split(":", 1))
            fields.setdefault(k, v)
    flags = set(fields.get("flags", "").split())
    lscpu = {}
    if shutil.which("lscpu"):
        try:
            out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
            for line in out.splitlines():
                if ":" in line:
                    k, v = (s.strip() for s in line.split(":", 1))
                    lscpu[k] = v
        except (OSError, subprocess.SubprocessError):
            pass
    mem_kb = None
    for line in read_text("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return dict(
        cpu_model=lscpu.get("Model name") or fields.get("model name") or platform.processor(),
        vendor=fields.get("vendor_id"), cpu_family=fields.get("cpu family"),
        cpu_model_number=fields.get("model"),
        isa={f: f in flags for f in ISA_FLAGS},
        logical_cpus=os.cpu_count(), usable_cpus=usable,
        caches={k: lscpu[k] for k in ("L1d cache", "L2 cache", "L3 cache") if k in lscpu},
        hypervisor=lscpu.get("Hypervisor vendor"),
        memory_gib=round(mem_kb / 2**20, 1) if mem_kb else None,
        os=f"{platform.system()} {platform.release()}", python=platform.python_version(),
        loadavg_at_start=os.getloadavg() if hasattr(os, "getloadavg") else None,
    )


def versions() -> dict:
    out = {}
    for name, dists in [("numpy", ["numpy"]), ("torch", ["torch"]),
                        ("tensorflow", ["tensorflow", "tensorflow-cpu"]), ("keras", ["keras"]),
                        ("scikit-learn", ["scikit-learn"]), ("threadpoolctl", ["threadpoolctl"]),
                        ("matplotlib", ["matplotlib"]), ("fastnn", ["fastnn"])]:
        for dist in dists:
            try:
                out[name] = importlib.metadata.version(dist)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return out


def installed(framework: str) -> bool:
    if framework == "fastnn":
        return True  # tried in its process, which reports a clear error when it cannot import
    module = dict(torch=["torch"], keras=["tensorflow", "keras"], sklearn=["sklearn"])[framework]
    return all(importlib.util.find_spec(m) is not None for m in module)


# ----------------------------------------------------------------------------------------------
# peak float32 throughput
# ----------------------------------------------------------------------------------------------
PEAK_SOURCE = r"""
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if MODE == 3
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* One loop per unit, chosen at compile time by MODE:
     0: 8-wide float32 FMA (AVX2), 16 flops per instruction;
     1: 16-wide float32 FMA (AVX-512), 32 flops per instruction;
     2: vdpbf16ps on zmm (AVX512-BF16): 16 lanes x 2 bfloat16 products added, 64 flops;
     3: tdpbf16ps (AMX-BF16): 16x16 float32 tile += 16x32 by 32x16 bfloat16, 16384 flops.
   The vector loops run 12 independent accumulator chains, in named variables so that they stay in
   registers: enough to cover the latency on two pipes. The AMX loop runs 4 independent tiles. */
static long iters;
static float sink[256];
static double cpu_s[256];

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

#if MODE == 0
typedef __m256 vec;
#define SET1(x) _mm256_set1_ps(x)
#define ADD(a, b) _mm256_add_ps(a, b)
#define OP(v) v = _mm256_fmadd_ps(v, m, a)
#define FLOPS_PER_OP (2.0 * 8)
#define LANE0(s) _mm256_cvtss_f32(s)
#elif MODE == 1
typedef __m512 vec;
#define SET1(x) _mm512_set1_ps(x)
#define ADD(a, b) _mm512_add_ps(a, b)
#define OP(v) v = _mm512_fmadd_ps(v, m, a)
#define FLOPS_PER_OP (2.0 * 16)
#define LANE0(s) _mm512_cvtss_f32(s)
#elif MODE == 2
typedef __m512 vec;
#define SET1(x) _mm512_set1_ps(x)
#define ADD(a, b) _mm512_add_ps(a, b)
#define OP(v) v = _mm512_dpbf16_ps(v, mb, ab)
#define FLOPS_PER_OP (4.0 * 16)
#define LANE0(s) _mm512_cvtss_f32(s)
#endif

#if MODE <= 2
static void *work(void *arg) {
  long id = (long)arg;
  double t0 = cpu_now();
  const float s0 = 0.001f * (float)(1 + id);
  vec c0 = SET1(s0), c1 = SET1(2 * s0), c2 = SET1(3 * s0), c3 = SET1(4 * s0);
  vec c4 = SET1(5 * s0), c5 = SET1(6 * s0), c6 = SET1(7 * s0), c7 = SET1(8 * s0);
  vec c8 = SET1(9 * s0), c9 = SET1(10 * s0), c10 = SET1(11 * s0), c11 = SET1(12 * s0);
#if MODE == 2
  const __m512bh mb = _mm512_cvtne2ps_pbh(SET1(0.5f), SET1(0.25f));
  const __m512bh ab = _mm512_cvtne2ps_pbh(SET1(1e-7f), SET1(1e-7f));
#else
  const vec m = SET1(0.9999999f), a = SET1(1e-7f);
#endif
  for (long k = 0; k < iters; k++) {
    OP(c0); OP(c1); OP(c2); OP(c3); OP(c4); OP(c5);
    OP(c6); OP(c7); OP(c8); OP(c9); OP(c10); OP(c11);
  }
  vec s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));
  s = ADD(s, ADD(ADD(c8, c9), ADD(c10, c11)));
  sink[id & 255] = LANE0(s);
  cpu_s[id & 255] = cpu_now() - t0;
  return NULL;
}
#define OPS_PER_ITER 12
#else
#define FLOPS_PER_OP (2.0 * 16 * 16 * 32)
#define OPS_PER_ITER 4
struct tilecfg {
  unsigned char palette, start;
  unsigned char pad[14];
  unsigned short colsb[16];
  unsigned char rows[16];
};
static void *work(void *arg) {
  long id = (long)arg;
  static __thread unsigned short buf[16 * 32] __attribute__((aligned(64)));
  static __thread float out[16 * 16] __attribute__((aligned(64)));
  struct tilecfg cfg = {0};
  double t0 = cpu_now();
  cfg.palette = 1;
  for (int t = 0; t < 8; t++) { cfg.colsb[t] = 64; cfg.rows[t] = 16; }
  _tile_loadconfig(&cfg);
  for (int i = 0; i < 16 * 32; i++) buf[i] = 0x3c00; /* bfloat16 0.0078125 */
  _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
  _tile_loadd(4, buf, 64); _tile_loadd(5, buf, 64);
  _tile_loadd(6, buf, 64); _tile_loadd(7, buf, 64);
  for (long k = 0; k < iters; k++) {
    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, 64);
  _tile_release();
  sink[id & 255] = out[0];
  cpu_s[id & 255] = cpu_now() - t0;
  return NULL;
}
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Prints: best wall time (s), GFLOP/s by wall time, GFLOP/s by each thread's own CPU time
   (summed over threads; not lowered by other processes sharing the cores), a checksum. */
int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  iters = argc > 2 ? atol(argv[2]) : 100000000L;
  int repeats = argc > 3 ? atoi(argv[3]) : 3;
  if (threads < 1 || threads > 256) return 2;
#if MODE == 3
  /* Linux hands out the AMX tile state only on request (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA). */
  if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) {
    fprintf(stderr, "the kernel refused AMX tile data (arch_prctl)\n");
    return 3;
  }
#endif
  pthread_t tid[256];
  double best = 1e30, best_cpu_rate = 0;
  const double per_thread = FLOPS_PER_OP * OPS_PER_ITER * (double)iters;
  for (int r = 0; r < repeats; r++) {
    double t0 = now();
    for (long i = 0; i < threads; i++) pthread_create(&tid[i], NULL, work, (void *)i);
    for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    double dt = now() - t0;
    if (dt < best) best = dt;
    double rate = 0;
    for (int i = 0; i < threads; i++) rate += per_thread / cpu_s[i];
    if (rate > best_cpu_rate) best_cpu_rate = rate;
  }
  printf("%.6f %.3f %.3f %g\n", best, per_thread * threads / best / 1e9, best_cpu_rate / 1e9,
         (double)sink[0]);
  return 0;
}
"""

# name: (MODE, compiler flags, /proc/cpuinfo flags needed, description, iterations full/quick)
PEAK_LOOPS = {
    "avx2": (0, ["-mavx2", "-mfma"], ["avx2", "fma"],
             "12 independent 8-wide float32 FMA chains per thread, 16 flops per instruction",
             (150_000_000, 50_000_000)),
    "avx512": (1, ["-mavx512f", "-mfma"], ["avx512f"],
               "12 independent 16-wide float32 FMA chains per thread, 32 flops per instruction",
               (100_000_000, 30_000_000)),
    "avx512_bf16": (2, ["-mavx512f", "-mavx512bf16"], ["avx512_bf16"],
                    "12 independent vdpbf16ps chains per thread (16 float32 lanes, each adding "
                    "2 bfloat16 products), 64 flops per instruction",
                    (100_000_000, 30_000_000)),
    "amx_bf16": (3, ["-mamx-tile", "-mamx-bf16"], ["amx_tile", "amx_bf16"],
                 "4 independent tdpbf16ps tiles per thread (16x16 float32 += 16x32 by 32x16 "
                 "bfloat16), 16384 flops per instruction",
                 (4_000_000, 1_000_000)),
}
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
             "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")


def cpu_flags() -> set:
    for line in read_text("/proc/cpuinfo").splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def fastnn_kernel() -> str | None:
    """The GEMM path fastnn picks on this machine (its kernel_name), asked in a child process so
    that this one never loads fastnn's native library."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import peers; "
            "print(peers.import_fastnn()[0].kernel_name())")
    try:
        proc = subprocess.run([sys.executable, "-c", code, HERE],
                              capture_output=True, text=True, timeout=120, cwd=REPO)
    except (OSError, subprocess.SubprocessError):
        return None
    out = proc.stdout.strip().splitlines()
    return out[-1] if proc.returncode == 0 and out else None


def peak_loop(name, thread_counts, quick: bool) -> dict:
    """GFLOP/s of one of PEAK_LOOPS (compiled here with the system C compiler)."""
    mode, flags, needs, method, (it_full, it_quick) = PEAK_LOOPS[name]
    have = cpu_flags()
    missing = [f for f in needs if f not in have]
    if missing:
        return dict(ok=False, error=f"the CPU lacks {', '.join(missing)}")
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        return dict(ok=False, error="no C compiler found")
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "peak.c"), os.path.join(tmp, "peak")
        with open(src, "w") as f:
            f.write(PEAK_SOURCE)
        cmd = [cc, "-O2", f"-DMODE={mode}", *flags, "-pthread", src, "-o", exe]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return dict(ok=False, error="compile failed: " + proc.stderr[-500:])
        iters = it_quick if quick else it_full
        out = dict(ok=True, compiler=os.path.basename(cc), flags=" ".join(["-O2", *flags]),
                   method=f"{iters:,} iterations x {method}, best of 3 runs",
                   gflops={}, gflops_wall={})
        for t in thread_counts:
            proc = subprocess.run([exe, str(t), str(iters), "3"], capture_output=True, text=True)
            if proc.returncode != 0:
                return dict(ok=False, error=f"{name} loop failed: {proc.stderr[-300:].strip()}")
            fields = proc.stdout.split()
            out["gflops_wall"][str(t)] = float(fields[1])
            out["gflops"][str(t)] = float(fields[2])
        return out


def measure_peaks(thread_counts, quick: bool, kernel: str | None) -> dict:
    """The float32 FMA peak of the widest vector ISA fastnn's GEMM uses here (kernel "avx512":
    AVX-512; otherwise AVX2), the other FMA loop for reference, and the bfloat16 units' peaks
    where the CPU has them. peak["fma"] is the one the table's percentages divide by."""
    fma_isa = "avx512" if kernel == "avx512" else "avx2"
    loops = {"avx2": peak_loop("avx2", thread_counts, quick)}
    if "avx512f" in cpu_flags():
        loops["avx512"] = peak_loop("avx512", thread_counts, quick)
    for name in ("avx512_bf16", "amx_bf16"):
        loops[name] = peak_loop(name, thread_counts, quick)
    fma = dict(loops.get(fma_isa) or loops["avx2"])
    fma["isa"] = fma_isa
    return dict(fma=fma, loops=loops, kernel=kernel)


# ----------------------------------------------------------------------------------------------
# running one measurement
# ----------------------------------------------------------------------------------------------
def parse_result(stdout: str):
    """The last ``RESULT {json}`` line a peers.py process printed, or None."""
    result = None
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    return result


def measure(framework, workload, threads, args, memory=False, precision="float32") -> dict:
    cmd = [sys.executable, os.path.join(HERE, "peers.py"), framework, workload,
           "--threads", str(threads), "--seed", str(args.seed), "--precision", precision]
    if args.quick:
        cmd.append("--quick")
    if memory:
        cmd.append("--memory")
    if args.scale != 1.0:
        cmd += ["--scale", str(args.scale)]
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(threads, args.omp_passive),
                              timeout=args.timeout, cwd=REPO)
        stdout, stderr, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr, rc = f"timed out after {args.timeout} s", -1
    result = parse_result(stdout)
    if result is None:
        result = dict(ok=False, error=f"no result (exit {rc}): " + (stderr or "")[-800:].strip(),
                      framework=framework, workload=workload, threads=threads, memory=memory)
    result.setdefault("precision", precision)
    result["process_wall_s"] = time.perf_counter() - t0
    result["loadavg_before"] = load_before
    return result


# The forward product of W2's first layer: a GEMM of the size and shape a training step is made of.
PAIR_SHAPE = (128, 784, 512)


def pair_peak(args, lib) -> dict:
    """A single-thread product of W2's first-layer shape (numpy's matmul, or fastnn's GEMM), in one
    process alone and in two processes at once: how much a second core adds to GEMM work of that
    size on this machine (the cores share caches, memory bandwidth and a power budget)."""
    cmd = [sys.executable, os.path.join(HERE, "peers.py"), "peak", lib, "--threads", "1",
           "--shape", ",".join(map(str, PAIR_SHAPE)), "--seconds", "1.5" if args.quick else "4"]

    def launch(k):
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=child_env(1), cwd=REPO) for _ in range(k)]
        out = []
        for p in procs:
            try:
                stdout, _ = p.communicate(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                stdout = ""
            r = parse_result(stdout)
            if r and r.get("ok") and r.get("gflops"):
                out.append(r["gflops"])
        return out

    # One alone before the pair and one after, the faster of the two kept: the clock of a core
    # running alone drifts, and the higher figure gives the lower (more cautious) ratio.
    alone = launch(1)
    pair = launch(2)
    alone += launch(1)
    if len(alone) != 2 or len(pair) != 2:
        return dict(ok=False, error="a process gave no result")
    return dict(ok=True, shape=list(PAIR_SHAPE), alone=max(alone), alone_runs=alone, pair=pair,
                ratio=sum(pair) / max(alone))


def describe(r: dict) -> str:
    if not r.get("ok"):
        return "FAILED: " + r.get("error", "?").splitlines()[0][:200]
    if r.get("framework") == "peak":
        return f"{r['gflops']:.1f} GFLOP/s"
    if r.get("memory"):
        return (f"peak RSS during fit {r['fit_peak_bytes'] / 2**20:.1f} MB, added by fit "
                f"{r['fit_added_bytes'] / 2**20:.1f} MB")
    parts = [f"fit {r['fit_samples_per_s']:,.0f} samples/s"]
    if "steady_samples_per_s" in r:
        parts.append(f"steady state {r['steady_samples_per_s']:,.0f} samples/s")
    if "predict_samples_per_s" in r:
        parts.append(f"predict {r['predict_samples_per_s']:,.0f} samples/s")
    if "latency_us" in r:
        parts.append(f"latency(32) {r['latency_us']:.1f} us")
    return ", ".join(parts) + f"  [{r['process_wall_s']:.0f} s]"


# ----------------------------------------------------------------------------------------------
# the table
# ----------------------------------------------------------------------------------------------
def fmt_rate(v):
    return f"{v:,.0f}"


def fmt_us(v):
    return f"{v:,.1f}"


def fmt_mb(v):
    return f"{v / 2**20:,.1f}"


def build_rows(results, peak, main_threads):
    """[(workload title, metric, {framework: value or None}, higher_is_better, formatter)]"""
    def get(fw, wl, threads, key, memory=False, precision="float32"):
        # Several measurements of one configuration (A-B-B-A): the best of them.
        vals = [r.get(key) for r in results
                if (r.get("framework") == fw and r.get("workload") == wl and r.get("ok")
                    and r.get("threads") == threads and bool(r.get("memory")) == memory
                    and r.get("precision", "float32") == precision
                    and r.get(key) is not None)]
        if not vals:
            return None
        lower_is_better = key.startswith("latency") or key.endswith("_bytes")
        return min(vals) if lower_is_better else max(vals)

    def peak_for(threads):
        g = (peak.get("fma") or {}).get("gflops", {})
        return g.get(str(threads))

    def fmt_pct(v):
        return f"{100 * v:.0f}%"

    rows = []
    for wl in peers.WORKLOADS:
        spec = peers.WORKLOADS[wl]
        title = spec["title"]
        flops_fit = peers.train_flops(spec)
        thread_list = sorted({main_threads} | ({1} if ONE_THREAD_TOO[wl] else set()))
        runs = [(t, "float32") for t in thread_list]
        if MIXED_ON.get(wl):
            runs.append((main_threads, MIXED))
        for t, prec in runs:
            fws = [fw for fw in RUNS_ON[wl] if (t == main_threads or fw in ONE_THREAD_TOO[wl])
                   and (prec == "float32" or fw in MIXED_ON.get(wl, ()))]
            label = f"{t} thread{'s' * (t > 1)}" + ("" if prec == "float32" else f", {prec}")
            vals = {fw: get(fw, wl, t, "fit_samples_per_s", precision=prec) for fw in fws}
            rows.append((title, f"fit samples/s, {label}", vals, True, fmt_rate))
            steady = {fw: get(fw, wl, t, "steady_samples_per_s", precision=prec) for fw in fws}
            rows.append((title, f"fit samples/s in steady state (epoch {peers.STEADY_FROM_EPOCH}+)"
                                f", {label}", steady, True, fmt_rate))
            kept = {fw: (steady[fw] / vals[fw] if steady.get(fw) and vals.get(fw) else None)
                    for fw in fws}
            rows.append((title, f"steady state / fresh epochs, {label}", kept, None, fmt_pct))
            gvals = {fw: (v * flops_fit / 1e9 if v else None) for fw, v in vals.items()}
            pk = peak_for(t) if prec == "float32" else None

            def fmt_g(v, pk=pk):
                shown = f"{v:,.1f}" if v >= 10 else f"{v:.3g}"
                if not pk:
                    return shown
                pct = 100 * v / pk  # two significant digits, but never 1e+02
                return f"{shown} ({pct:.0f}%)" if pct >= 10 else f"{shown} ({pct:.2g}%)"
            rows.append((title, f"fit GFLOP/s{' (% of FMA peak)' if pk else ''}, {label}", gvals,
                         None, fmt_g))
        if MIXED_ON.get(wl):
            gain = {}
            for fw in MIXED_ON[wl]:
                a = get(fw, wl, main_threads, "fit_samples_per_s", precision=MIXED)
                b = get(fw, wl, main_threads, "fit_samples_per_s")
                gain[fw] = a / b if a and b else None
            rows.append((title, f"fit speed-up of {MIXED} over float32, {main_threads} threads",
                         gain, None, lambda v: f"{v:.2f}x"))
        if spec["predict_repeats"]["full"]:
            for t in thread_list:
                fws = [fw for fw in RUNS_ON[wl] if t == main_threads or fw in ONE_THREAD_TOO[wl]]
                vals = {fw: get(fw, wl, t, "predict_samples_per_s") for fw in fws}
                rows.append((title, f"predict samples/s (batch 1024), {t} thread"
                             f"{'s' * (t > 1)}", vals, True, fmt_rate))
        if spec["latency_calls"]["full"]:
            vals = {fw: get(fw, wl, main_threads, "latency_us") for fw in RUNS_ON[wl]}
            rows.append((title, "predict latency, 32 rows (us, median; lower is better)", vals,
                         False, fmt_us))
        mem_fws = [fw for fw, mwl in MEMORY_RUNS if mwl == wl]
        if mem_fws:
            vals = {fw: get(fw, wl, main_threads, "fit_added_bytes", True) for fw in mem_fws}
            rows.append((title, "fit memory: peak RSS during fit - RSS before fit (MB; lower "
                                "is better)", vals, False, fmt_mb))
            vals = {fw: get(fw, wl, main_threads, "fit_peak_bytes", True) for fw in mem_fws}
            rows.append((title, "peak RSS of the whole process during fit, with data and "
                                "runtime (MB; lower is better)", vals, False, fmt_mb))
    return rows


def advantage(fast, other, higher):
    if not fast or not other:
        return None
    return fast / other if higher else other / fast


def markdown(rows, results, machine, vers, peak, args, notes):
    mt = args.threads
    lines = []
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines.append(f"# fastnn benchmark ({'quick' if args.quick else 'full'} run, {stamp})")
    lines.append("")
    lines.append(f"Command: `python benchmarks/run.py{' --quick' if args.quick else ''} "
                 f"--threads {mt}{' --omp-passive' if args.omp_passive else ''}"
                 f"{' --frameworks ' + args.frameworks if args.frameworks != ','.join(FRAMEWORKS) else ''}"
                 f"{' --workloads ' + args.workloads if args.workloads != ','.join(peers.WORKLOADS) else ''}`. Every library runs with {mt} thread{'s' * (mt > 1)} "
                 "(and 1 thread where a row says so), in its own process, on the same generated "
                 "data. Throughput is training samples per second over a whole shuffled epoch: "
                 "\"fit samples/s\" is the best of the fresh epochs after a warm-up epoch (epochs "
                 f"2-4), \"steady state\" the best of epochs {peers.STEADY_FROM_EPOCH} and later "
                 "(timed until they add up to 2 s or more; 0.5 s with --quick), from the same "
                 "process and model; a library run at 1 and 2 threads is measured in the order 1, "
                 "2, 2, 1 and the best of each kept. The two ratio columns are "
                 "fastnn's advantage: fastnn/peer for throughput, peer/fastnn for latency and "
                 "memory, so above 1 always means fastnn is better. \"best peer\" is the best of "
                 "PyTorch, Keras and scikit-learn on that row.")
    lines.append("")
    la0, la1 = machine.get("loadavg_at_start"), machine.get("loadavg_at_end")
    busy_start = la0 is not None and la0[0] > 0.5
    busy_end = la1 is not None and la1[0] > mt + 0.5
    if busy_start or busy_end:
        loads = (f"1-minute load average {la0[0]:.2f} at the start and {la1[0]:.2f} at the end, "
                 if la0 and la1 else "")
        lines.append(f"**The machine was busy with other work** ({loads}for {mt} benchmark "
                     f"threads on {machine.get('usable_cpus')} CPUs): every figure is lower than "
                     "on an idle machine, and libraries whose threads spin while they wait "
                     "(OpenMP: PyTorch, scikit-learn's BLAS) lose the most at 2 threads. Rerun on "
                     "an idle machine (or with --omp-passive) before quoting numbers.")
        lines.append("")
    if args.omp_passive:
        lines.append("Run with OMP_WAIT_POLICY=PASSIVE (--omp-passive) for every library.")
        lines.append("")
    header = ["workload", "metric", "fastnn", "PyTorch", "Keras", "scikit-learn",
              "fastnn/PyTorch", "fastnn/best-peer"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] * 2 + ["---:"] * 6) + "|")
    table_json = []
    for title, metric, vals, higher, fmt in rows:
        cells = [title, metric]
        for fw in FRAMEWORKS:
            if fw not in vals:
                cells.append("")
            elif vals[fw] is None:
                note = notes.get(fw, "")
                cells.append("not installed" if note.startswith("not installed") else
                             "not selected" if note.startswith("not selected") else
                             "failed (see notes)" if note.startswith("failed") else "—")
            else:
                cells.append(fmt(vals[fw]))
        fast = vals.get("fastnn")
        r_torch = r_best = None
        if higher is not None:  # None: the row above already has the ratios
            r_torch = advantage(fast, vals.get("torch"), higher)
            peer_vals = [vals[p] for p in PEERS if vals.get(p)]
            best = (max(peer_vals) if higher else min(peer_vals)) if peer_vals else None
            r_best = advantage(fast, best, higher)
        cells.append(f"{r_torch:,.2f}x" if r_torch else "")
        cells.append(f"{r_best:,.2f}x" if r_best else "")
        lines.append("| " + " | ".join(cells) + " |")
        table_json.append(dict(workload=title, metric=metric, values=vals,
                               higher_is_better=higher is not False, fastnn_vs_torch=r_torch,
                               fastnn_vs_best_peer=r_best))
    lines.append("")
    lines.append("Training GFLOP/s count the matrix-product flops of a training sample: 2 per weight "
                 "for the forward pass, 2 per weight for the weight gradients and 2 per weight for "
                 "the input gradients of every layer but the first (the gradient with respect to "
                 "the data is computed by no framework here). That is the usual 6 x weights, less "
                 "2 x the first layer's weights. Element-wise work (bias, activations, loss, "
                 "optimizer) is not counted.")
    lines.append("")
    # peak
    lines.append("## Peak throughput of this machine")
    lines.append("")
    fma = peak.get("fma") or {}
    labels = dict(avx2="AVX2 float32 FMA loop", avx512="AVX-512 float32 FMA loop",
                  avx512_bf16="AVX512-BF16 vdpbf16ps loop", amx_bf16="AMX-BF16 tdpbf16ps loop")
    lines.append(f"fastnn's GEMM path on this machine: **{peak.get('kernel') or '?'}** "
                 f"(`fastnn.kernel_name()`); the table's \"% of FMA peak\" divides by the "
                 f"{labels.get(fma.get('isa'), 'FMA loop')} (the widest vector ISA that path "
                 "uses).")
    lines.append("")
    for name, r in (peak.get("loops") or {}).items():
        if not r.get("ok"):
            lines.append(f"- {labels[name]}: not measured ({r.get('error', 'skipped')}).")
            continue
        for t, g in sorted(r["gflops"].items(), key=lambda kv: int(kv[0])):
            lines.append(f"- {labels[name]}, {t} thread{'s' * (int(t) > 1)}: **{g:,.1f} GFLOP/s** "
                         f"by each thread's CPU time, {r['gflops_wall'][t]:,.1f} GFLOP/s by "
                         "wall time" + (" (the peak used below)" if name == fma.get("isa") else "")
                         + ".")
        lines.append(f"  The loop: {r['method']}; compiled here with {r['compiler']} "
                     f"{r['flags']}.")
    if fma.get("ok"):
        lines.append("  CPU time is not lowered by other processes sharing the cores, wall time "
                     "is; the two agree on an idle machine.")
    for t, r in sorted((peak.get("numpy") or {}).items(), key=lambda kv: int(kv[0])):
        if r.get("ok"):
            blas = ", ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')})"
                             for b in (r.get("blas") or []) if b.get("internal_api") != "openmp")
            lines.append(f"- numpy matmul, {t} thread{'s' * (int(t) > 1)}: "
                         f"**{r['gflops']:,.1f} GFLOP/s** ({r['method']}; numpy {r['numpy']}"
                         f"{', ' + blas if blas else ''}).")
        else:
            lines.append(f"- numpy matmul, {t} threads: failed ({r.get('error')}).")
    for lib, label in (("numpy", "numpy matmul"), ("gemm", "fastnn GEMM")):
        pair = (peak.get("pair") or {}).get(lib) or {}
        if not pair.get("ok"):
            continue
        (a, b), (M, K, N) = pair["pair"], pair["shape"]
        lines.append(f"- {label} ({M}x{K}) @ ({K}x{N}) (W2's first layer), 1 thread: "
                     f"{pair['alone']:,.1f} GFLOP/s in one process alone (the better of a run "
                     f"before and one after the pair); {a:,.1f} and {b:,.1f} in two processes at "
                     f"once, together **{pair['ratio']:.2f}x** the one alone.")
    if peak.get("pair"):
        lines.append("  Two processes that share nothing show what a second core adds to GEMM work "
                     "of this size on this machine (the cores share caches, memory bandwidth and "
                     "a power budget): the reference for the 2-thread / 1-thread ratios of W2. "
                     "The closer a kernel runs to the FMA peak alone, the more it loses in a pair.")
    lines.append("")
    lines.append("\"% of FMA peak\" in the table divides by the FMA loop's figure at the same "
                 "thread count: the most float32 arithmetic the cores can do, which no real "
                 "kernel reaches (loads, stores and the edges of small matrices all cost time).")
    lines.append("")
    # memory estimate
    mem = [r for r in results if r.get("memory") and r.get("ok")]
    if mem:
        lines.append("## Memory of one fit epoch")
        lines.append("")
        lines.append("| framework | workload | rows | RSS before fit | peak RSS during fit | "
                     "added by fit | ru_maxrss after fit | estimate: data + params + grads + Adam "
                     "+ batch workspace |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in mem:
            e = r["estimate"]
            est = sum(e.values())
            lines.append(
                f"| {NAMES[r['framework']]} | {peers.WORKLOADS[r['workload']]['title']} | "
                f"{r['rows']:,} | {fmt_mb(r['rss_before_fit'])} | {fmt_mb(r['fit_peak_bytes'])} | "
                f"{fmt_mb(r['fit_added_bytes'])} | {fmt_mb(r['maxrss_after_fit'])} | "
                f"{fmt_mb(est)} = "
                f"{fmt_mb(e['data_bytes'])} + {fmt_mb(e['param_bytes'])} + "
                f"{fmt_mb(e['grad_bytes'])} + {fmt_mb(e['adam_state_bytes'])} + "
                f"{fmt_mb(e['batch_workspace_bytes'])} |")
        lines.append("")
        lines.append("MB = 2^20 bytes. \"RSS before fit\" is the resident size after the data is "
                     "generated and the model is built and compiled. \"Peak RSS during fit\" is "
                     "the kernel's peak-RSS mark (VmHWM) after one epoch, reset just before fit "
                     "(/proc/self/clear_refs) so that the data generation's temporaries do not "
                     "count; where the reset is not allowed it falls back to getrusage's "
                     "ru_maxrss, which is also listed. The estimate counts the data once; a "
                     "framework that copies the data to shuffle it, or keeps its own copy, uses "
                     "more. The data itself is in RSS before fit, so the fit figure is what "
                     "training adds on top.")
        lines.append("")
    # machine
    lines.append("## Machine and versions")
    lines.append("")
    m = machine
    lines.append(f"- CPU: {m['cpu_model']} (vendor {m['vendor']}, family {m['cpu_family']}, "
                 f"model {m['cpu_model_number']}), {m['usable_cpus']} usable of "
                 f"{m['logical_cpus']} logical CPUs"
                 f"{', under ' + m['hypervisor'] if m.get('hypervisor') else ''}; ISA: "
                 + ", ".join(k for k, v in m["isa"].items() if v)
                 + (f"; caches: {', '.join(f'{k} {v}' for k, v in m['caches'].items())}"
                    if m.get("caches") else "") + ".")
    lines.append(f"- Memory {m['memory_gib']} GiB; {m['os']}; Python {m['python']}.")
    la = m.get("loadavg_at_start")
    if la:
        lines.append(f"- Load average at start: {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f} "
                     "(1 / 5 / 15 min); end: "
                     + (" / ".join(f"{v:.2f}" for v in m.get("loadavg_at_end") or []) or "?")
                     + ". Other processes running during the benchmark lower every figure.")
    lines.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".")
    fast_info = next((r.get("info") for r in results
                      if r.get("framework") == "fastnn" and r.get("ok")), None)
    if fast_info:
        lines.append(f"- fastnn {fast_info.get('version')} imported from "
                     f"{fast_info.get('imported_from')}, kernel {fast_info.get('kernel', '?')}.")
    lines.append("- Thread settings: " + ", ".join(f"{v}={mt}" for v in THREAD_VARS)
                 + f"; unset: {', '.join(UNSET_VARS)}. In code: fastnn.set_num_threads, "
                 "torch.set_num_threads, tf.config.threading intra- and inter-op, "
                 "threadpoolctl.threadpool_limits for scikit-learn's BLAS.")
    lines.append("")
    lines.append("## How each library is run")
    lines.append("")
    lines.append("- **fastnn**: `Sequential([Input, Dense...])`, `compile(Adam(1e-3), loss)`, "
                 "`fit(x, y, batch_size, epochs=1, shuffle=True, verbose=0)` once per timed "
                 "epoch; `predict(x, batch_size=1024)`; `predict_on_batch` for the 32-row "
                 "latency.")
    lines.append("- **PyTorch**: an eager loop over `torch.randperm` slices (no DataLoader), "
                 "`torch.optim.Adam`, `nn.BCEWithLogitsLoss` / `nn.CrossEntropyLoss` on logits, "
                 "`nn.MSELoss`; prediction under `torch.inference_mode()` in slices of 1024 with "
                 "the sigmoid/softmax applied, numpy in and out.")
    lines.append("- **Keras**: Keras 3 on TensorFlow, `Sequential`/`compile` with defaults, one "
                 "`fit(..., epochs=k, verbose=0)` call timed per epoch by a callback; "
                 "`predict(x, batch_size=1024, verbose=0)`; latency through "
                 "`model.predict_on_batch` (`model(x)` is in latest.json as "
                 "latency_model_call_us).")
    lines.append("- **scikit-learn**: `MLPClassifier(hidden_layer_sizes, solver='adam', "
                 "batch_size)`, one `partial_fit` call (one epoch) per timed epoch; "
                 "`predict_proba` on all rows (it has no batch size) and on 32 rows for the "
                 "latency. Not run on W3 (regression, not a classifier workload here).")
    if notes:
        lines.append("")
        lines.append("## Notes")
        lines.append("")
        for fw, note in notes.items():
            lines.append(f"- {NAMES.get(fw, fw)}: {note}")
    failures = [r for r in results if not r.get("ok")]
    for r in failures:
        lines.append(f"- {NAMES.get(r.get('framework'), r.get('framework'))} "
                     f"{r.get('workload')} ({r.get('threads')} thr"
                     f"{', memory' if r.get('memory') else ''}): failed: "
                     + r.get("error", "?").splitlines()[0][:300])
    lines.append("")
    return "\n".join(lines), table_json


# ----------------------------------------------------------------------------------------------
# the chart
# ----------------------------------------------------------------------------------------------
COLORS = dict(fastnn="#d62728", torch="#1f77b4", keras="#ff7f0e", sklearn="#2ca02c")


def chart(rows, path, title) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no chart"
    mb = 1.0 / 2**20
    # (panel title, rows, log scale, value scale for plotting)
    groups = [
        ("training samples/s (log scale; higher is better)",
         [r for r in rows if r[1].startswith("fit samples/s")], True, 1.0),
        ("prediction samples/s, batch 1024 (log scale; higher is better)",
         [r for r in rows if r[1].startswith("predict samples/s")], True, 1.0),
        ("training GFLOP/s (higher is better; share of the FMA peak in the table)",
         [r for r in rows if r[1].startswith("fit GFLOP/s") and not r[0].startswith("W1")],
         False, 1.0),
        ("prediction latency of 32 rows, microseconds (log scale; lower is better)",
         [r for r in rows if "latency" in r[1]], True, 1.0),
        ("memory, MB (log scale; lower is better)", [r for r in rows if "RSS" in r[1]], True, mb),
    ]
    groups = [g for g in groups if g[1]]
    heights = [0.9 + 0.55 * len(g[1]) for g in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(11, sum(heights) + 1.2),
                             gridspec_kw=dict(height_ratios=heights))
    if len(groups) == 1:
        axes = [axes]
    width = 0.8 / len(FRAMEWORKS)
    for ax, (gtitle, grows, log_scale, scale) in zip(axes, groups):
        labels = []
        for i, (wtitle, metric, vals, higher, fmt) in enumerate(grows):
            labels.append(wtitle.split(" ")[0] + ": " + re.sub(r" \([^)]*\)", "", metric))
            for j, fw in enumerate(FRAMEWORKS):
                v = vals.get(fw)
                if v:
                    y = i + (j - 1.5) * width
                    ax.barh(y, v * scale, height=width, color=COLORS[fw])
                    ax.text(v * scale, y, " " + fmt(v).split(" ")[0], va="center", fontsize=7)
        ax.set_yticks(range(len(grows)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.set_ylim(len(grows) - 0.5, -0.5)
        if log_scale:
            ax.set_xscale("log")
        ax.margins(x=0.12)
        ax.set_title(gtitle, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[fw]) for fw in FRAMEWORKS]
    fig.legend(handles, [NAMES[fw] for fw in FRAMEWORKS], loc="upper center", ncol=4,
               fontsize=9, bbox_to_anchor=(0.5, 1.0 - 0.45 / (sum(heights) + 1.2)))
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 1.0 - 0.8 / (sum(heights) + 1.2)))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer rows and repeats (about 5 minutes on 2 cores)")
    default_threads = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else os.cpu_count() or 1)
    ap.add_argument("--threads", type=int, default=default_threads,
                    help="threads for every library (default: the usable CPUs)")
    ap.add_argument("--output", "--out", dest="out", default=None,
                    help="output folder for latest.md, latest.json and latest.png (default: "
                         "benchmarks/results for a full run of every library and workload, "
                         "benchmarks/results-local, which git ignores, for --quick or any other "
                         "selection: a trial run never overwrites the committed results)")
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                    help="comma-separated subset of " + ",".join(FRAMEWORKS))
    ap.add_argument("--workloads", default=",".join(peers.WORKLOADS),
                    help="comma-separated subset of " + ",".join(peers.WORKLOADS))
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    ap.add_argument("--omp-passive", action="store_true",
                    help="set OMP_WAIT_POLICY=PASSIVE for every library: OpenMP threads sleep "
                         "instead of spinning while they wait, which keeps PyTorch and "
                         "scikit-learn usable on a machine that other processes keep busy")
    ap.add_argument("--seed", type=int, default=0, help="data seed (same for every library)")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per measurement process")
    ap.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    chosen = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for f in chosen:
        if f not in FRAMEWORKS:
            ap.error(f"unknown framework {f!r}")
    for w in workloads:
        if w not in peers.WORKLOADS:
            ap.error(f"unknown workload {w!r}")
    if args.out is None:
        full = (not args.quick and set(chosen) == set(FRAMEWORKS)
                and set(workloads) == set(peers.WORKLOADS) and not args.no_memory
                and not args.omp_passive and args.seed == 0 and args.scale == 1.0
                and args.threads == default_threads)
        args.out = os.path.join(HERE, "results" if full else "results-local")
    os.makedirs(args.out, exist_ok=True)
    t_start = time.perf_counter()

    machine = machine_info()
    vers = versions()
    log(f"machine: {machine['cpu_model']}, {machine['usable_cpus']} CPUs, load "
        f"{machine['loadavg_at_start']}; threads={args.threads}; "
        f"{'quick' if args.quick else 'full'} run")
    notes = {}
    available = []
    for fw in FRAMEWORKS:
        if fw not in chosen:
            notes[fw] = "not selected (--frameworks)"
        elif installed(fw):
            available.append(fw)
        else:
            notes[fw] = "not installed: skipped"
            log(f"{NAMES[fw]}: not installed, skipped")

    thread_counts = sorted({1, args.threads})
    kernel = fastnn_kernel()
    peak = measure_peaks(thread_counts, args.quick, kernel)
    peak["numpy"] = {}
    for name, r in peak["loops"].items():
        log(f"peak: {name} loop {r.get('gflops', r.get('error'))}")
    for t in thread_counts:
        r = measure("peak", "numpy", t, args)
        peak["numpy"][str(t)] = r
        log(f"peak: numpy matmul {t} thr: {describe(r)}")
    if args.threads >= 2:
        peak["pair"] = {}
        for lib in ("numpy", "gemm"):
            peak["pair"][lib] = pair_peak(args, lib)
            log(f"peak: two 1-thread {lib} products at once: {peak['pair'][lib]}")

    results = []
    for wl in workloads:
        for fw in RUNS_ON[wl]:
            if fw not in available:
                continue
            ts = thread_counts if fw in ONE_THREAD_TOO[wl] else [args.threads]
            # Thread counts compared with each other run in A-B-B-A order (1, 2, 2, 1), the best
            # of each kept: this machine's clock drifts over minutes, and a fixed order would
            # hand the drift to one side of the ratio.
            for t in (ts + ts[::-1] if len(ts) > 1 else ts):
                r = measure(fw, wl, t, args)
                results.append(r)
                log(f"{wl} {NAMES[fw]} {t} thr: {describe(r)}")
                if fw == "fastnn" and not r.get("ok"):
                    notes.setdefault("fastnn", "failed: " + r.get("error", "?").splitlines()[0])
            if fw in MIXED_ON.get(wl, ()):
                r = measure(fw, wl, args.threads, args, precision=MIXED)
                results.append(r)
                log(f"{wl} {NAMES[fw]} {args.threads} thr {MIXED}: {describe(r)}")
    if not args.no_memory:
        for fw, wl in MEMORY_RUNS:
            if fw in available and wl in workloads:
                r = measure(fw, wl, args.threads, args, memory=True)
                results.append(r)
                log(f"{wl} {NAMES[fw]} memory: {describe(r)}")
    machine["loadavg_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None

    rows = build_rows(results, peak, args.threads)
    rows = [r for r in rows if r[0].split(" ")[0].lower() in workloads
            and any(v is not None for v in r[2].values())]
    text, table_json = markdown(rows, results, machine, vers, peak, args, notes)
    png = os.path.join(args.out, "latest.png")
    chart_note = chart(rows, png, f"fastnn vs peers, {args.threads} threads, "
                                  f"{machine['cpu_model']}"
                                  f"{' (quick run)' if args.quick else ''}")
    if chart_note:
        text += f"\n{chart_note}.\n"
    else:
        text += "\n![chart](latest.png)\n"
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(text)
    saved_args = dict(vars(args))
    out_abs = os.path.abspath(args.out)
    saved_args["out"] = (os.path.relpath(out_abs, REPO) if out_abs.startswith(REPO + os.sep)
                         else os.path.basename(out_abs))  # no machine paths in the results
    raw = dict(args=saved_args, machine=machine, versions=vers, peak=peak, results=results,
               table=table_json, notes=notes, total_s=time.perf_counter() - t_start)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump(raw, f, indent=1, default=str)
    log("")
    log(text)
    log(f"wrote {os.path.join(args.out, 'latest.md')}, latest.json"
        f"{'' if chart_note else ', latest.png'} in {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
