// The CUDA backend's device, stream, memory and matrix products. Memory is the engine's memory
// seam (DeviceMemory, backend.h) over cudaMalloc and copies queued on the backend's stream; GEMM
// goes through cuBLASLt with the bias / ReLU epilogues fused where they apply.
//
// Layout: every matrix is row-major, as in the engine (gemm.h). A row-major M x N matrix is the
// column-major N x M one, so C = op(A) op(B) runs as C^T = op(B)^T op(A)^T in cuBLASLt's terms.
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <map>
#include <string>
#include <tuple>

#include "fastnn/backend.h"

namespace fastnn {
namespace cuda {

// Throws std::runtime_error naming `what` and CUDA's message.
void check(cudaError_t e, const char* what);
void check(cublasStatus_t s, const char* what);

// Why this process cannot use a GPU ("" where it can): no driver, a driver older than the runtime,
// no device. Never throws; safe on a machine without libcuda.
std::string unavailable_reason();
int device_count();
std::string device_name(int device);

enum class GemmEpilogue { None, Bias, Relu, ReluBias };

class CudaBackend final : public DeviceMemory {
 public:
  explicit CudaBackend(int device = 0);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  bool host_memory() const override { return false; }
  void* allocate(size_t bytes) const override;
  void release(void* p) const noexcept override;
  void copy_from_host(void* dst, const void* src, size_t bytes) const override;
  void copy_to_host(void* dst, const void* src, size_t bytes) const override;
  void copy(void* dst, const void* src, size_t bytes) const override;
  void fill_zero(void* dst, size_t bytes) const override;
  void synchronize() const override;

  cudaStream_t stream() const { return stream_; }
  int device() const { return device_; }

  // C = beta * C + op(A) op(B) (row-major, the contract of gemm.h), then the epilogue: bias
  // (length N) added to each row, and/or max(., 0). float32, float32 accumulation.
  void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, size_t lda,
            const float* B, size_t ldb, float beta, float* C, size_t ldc, GemmEpilogue ep,
            const float* bias);

 private:
  struct Plan {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  using Key = std::tuple<bool, bool, size_t, size_t, size_t, size_t, size_t, size_t, int>;
  Plan& plan(const Key& k);

  int device_;
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = size_t(32) << 20;
  std::map<Key, Plan> plans_;
};

}  // namespace cuda
}  // namespace fastnn
