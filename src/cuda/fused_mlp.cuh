// Launcher of the fused small-network kernel (fastnn/device/fused_mlp.h has the step itself).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "fastnn/device/fused_mlp.h"

namespace fastnn {
namespace cuda {

// The most dynamic shared memory one block may use on `device`.
size_t fused_shared_limit(int device);
// Queues the steps of `g` on `s` as one kernel launch (one block of kFusedThreads threads).
void fused_train(const device::FusedPlan& p, const device::FusedArgs& g, cudaStream_t s);

}  // namespace cuda
}  // namespace fastnn
