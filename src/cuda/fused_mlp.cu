// The fused small-network kernel: one block runs a chunk of whole training steps, the phases of
// fastnn/device/fused_mlp.h separated by __syncthreads() (the CPU emulation runs the same phases).
#include "fused_mlp.cuh"

#include "cuda_backend.h"

namespace fastnn {
namespace cuda {
namespace {

struct BlockPhases {
  template <typename F>
  __device__ void phase(F&& f) {
    f(int(threadIdx.x), int(blockDim.x));
    __syncthreads();
  }
};

__global__ void fused_steps_kernel(device::FusedPlan p, device::FusedArgs g) {
  extern __shared__ double fused_shared[];
  double* smd = fused_shared;
  float* sm = reinterpret_cast<float*>(fused_shared + p.batch);
  BlockPhases ex;
  device::fused_steps(ex, p, g, sm, smd);
}

}  // namespace

size_t fused_shared_limit(int device) {
  int v = 0;
  check(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute (shared memory)");
  return size_t(v);
}

void fused_train(const device::FusedPlan& p, const device::FusedArgs& g, cudaStream_t s) {
  if (g.nb == 0) return;
  check(cudaFuncSetAttribute(fused_steps_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             int(p.shared_bytes)),
        "cudaFuncSetAttribute (fused step)");
  fused_steps_kernel<<<1, device::kFusedThreads, p.shared_bytes, s>>>(p, g);
  check(cudaGetLastError(), "fused step");
}

}  // namespace cuda
}  // namespace fastnn
