// The CUDA backend's device, memory and cuBLASLt products (see cuda_backend.h).
#include "cuda_backend.h"

#include <dlfcn.h>

#include <stdexcept>

namespace fastnn {
namespace cuda {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLASLt: ") + what + ": status " + std::to_string(int(s)));
}

std::string unavailable_reason() {
  // The static runtime loads the driver itself; asking first gives the plain reason.
  void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!h) return "no CUDA driver (libcuda.so.1 not found)";
  dlclose(h);
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0)) {
    cudaGetLastError();
    return "no device (the CUDA driver sees no GPU)";
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    return std::string("the CUDA runtime cannot start: ") + cudaGetErrorString(e);
  }
  return "";
}

int device_count() {
  if (!unavailable_reason().empty()) return 0;
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

std::string device_name(int device) {
  cudaDeviceProp p;
  check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
  return std::string(p.name) + " (compute capability " + std::to_string(p.major) + "." +
         std::to_string(p.minor) + ", " + std::to_string(p.totalGlobalMem >> 20) + " MiB)";
}

CudaBackend::CudaBackend(int device) : device_(device) {
  const std::string why = unavailable_reason();
  if (!why.empty()) throw std::runtime_error("CUDA is not available: " + why);
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cublasLtCreate(&lt_), "cublasLtCreate");
  check(cudaMalloc(&workspace_, workspace_bytes_), "cudaMalloc (cuBLASLt workspace)");
}

CudaBackend::~CudaBackend() {
  if (stream_) cudaStreamSynchronize(stream_);
  for (auto& kv : plans_) {
    Plan& p = kv.second;
    if (p.a) cublasLtMatrixLayoutDestroy(p.a);
    if (p.b) cublasLtMatrixLayoutDestroy(p.b);
    if (p.c) cublasLtMatrixLayoutDestroy(p.c);
    if (p.op) cublasLtMatmulDescDestroy(p.op);
  }
  if (workspace_) cudaFree(workspace_);
  if (lt_) cublasLtDestroy(lt_);
  if (stream_) cudaStreamDestroy(stream_);
}

void* CudaBackend::allocate(size_t bytes) const {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  check(cudaMalloc(&p, (bytes + 63) / 64 * 64), "cudaMalloc");
  return p;
}
void CudaBackend::release(void* p) const noexcept {
  if (!p) return;
  cudaStreamSynchronize(stream_);  // no queued work may still use it
  cudaFree(p);
}
void CudaBackend::copy_from_host(void* dst, const void* src, size_t bytes) const {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_), "copy to device");
}
void CudaBackend::copy_to_host(void* dst, const void* src, size_t bytes) const {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_), "copy to host");
}
void CudaBackend::copy(void* dst, const void* src, size_t bytes) const {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_), "copy on device");
}
void CudaBackend::fill_zero(void* dst, size_t bytes) const {
  if (bytes) check(cudaMemsetAsync(dst, 0, bytes, stream_), "cudaMemsetAsync");
}
void CudaBackend::synchronize() const { check(cudaStreamSynchronize(stream_), "synchronize"); }

CudaBackend::Plan& CudaBackend::plan(const Key& k) {
  auto it = plans_.find(k);
  if (it != plans_.end()) return it->second;
  const auto [ta, tb, M, N, K, lda, ldb, ldc, ep] = k;
  Plan p;
  // Column-major view: C^T (N x M, ld ldc) = op(B)^T (N x K) * op(A)^T (K x M).
  check(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul desc");
  cublasOperation_t opa = tb ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLASLt's A is our B
  cublasOperation_t opb = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof(opa)), "transa");
  check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof(opb)), "transb");
  cublasLtEpilogue_t e = CUBLASLT_EPILOGUE_DEFAULT;
  switch (GemmEpilogue(ep)) {
    case GemmEpilogue::None: e = CUBLASLT_EPILOGUE_DEFAULT; break;
    case GemmEpilogue::Bias: e = CUBLASLT_EPILOGUE_BIAS; break;
    case GemmEpilogue::Relu: e = CUBLASLT_EPILOGUE_RELU; break;
    case GemmEpilogue::ReluBias: e = CUBLASLT_EPILOGUE_RELU_BIAS; break;
  }
  check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof(e)), "epilogue");
  // Stored shapes (column-major rows x cols) of the operands as cuBLASLt sees them.
  check(cublasLtMatrixLayoutCreate(&p.a, CUDA_R_32F, tb ? K : N, tb ? N : K, int64_t(ldb)), "layout B");
  check(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_32F, ta ? M : K, ta ? K : M, int64_t(lda)), "layout A");
  check(cublasLtMatrixLayoutCreate(&p.c, CUDA_R_32F, N, M, int64_t(ldc)), "layout C");
  cublasLtMatmulPreference_t pref;
  check(cublasLtMatmulPreferenceCreate(&pref), "preference");
  check(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                             &workspace_bytes_, sizeof(workspace_bytes_)),
        "workspace preference");
  // No split-k reductions through atomics: a product's value must not depend on timing.
  uint32_t schemes = CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_INPLACE |
                     CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE | CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &schemes,
                                       sizeof(schemes));
  cublasLtMatmulHeuristicResult_t res{};
  int found = 0;
  const cublasStatus_t s =
      cublasLtMatmulAlgoGetHeuristic(lt_, p.op, p.a, p.b, p.c, p.c, pref, 1, &res, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  check(s, "algorithm heuristic");
  if (found == 0) throw std::runtime_error("cuBLASLt: no algorithm for this product");
  p.algo = res.algo;
  return plans_.emplace(k, p).first->second;
}

void CudaBackend::gemm(bool ta, bool tb, size_t M, size_t N, size_t K, const float* A, size_t lda,
                       const float* B, size_t ldb, float beta, float* C, size_t ldc,
                       GemmEpilogue ep, const float* bias) {
  if (M == 0 || N == 0) return;
  Plan& p = plan(Key{ta, tb, M, N, K, lda, ldb, ldc, int(ep)});
  if (ep == GemmEpilogue::Bias || ep == GemmEpilogue::ReluBias)
    check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                         sizeof(bias)),
          "bias pointer");
  const float alpha = 1.0f;
  check(cublasLtMatmul(lt_, p.op, &alpha, B, p.a, A, p.b, &beta, C, p.c, C, p.c, &p.algo,
                       workspace_, workspace_bytes_, stream_),
        "matmul");
}

}  // namespace cuda
}  // namespace fastnn
