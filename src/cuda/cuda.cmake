# The optional CUDA backend, included by the top-level CMakeLists.txt after Python and pybind11 are
# found. FASTNN_CUDA=AUTO builds it where a CUDA compiler and cuBLASLt are found, ON requires them
# (a missing piece is an error), OFF skips it. The CUDA code goes into its own extension module,
# fastnn._cuda; fastnn._core never links the CUDA runtime.
if(NOT FASTNN_CUDA MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "fastnn: FASTNN_CUDA must be AUTO, ON or OFF, got '${FASTNN_CUDA}'")
endif()
set(FASTNN_CUDA_REASON "")
if(FASTNN_CUDA STREQUAL "OFF")
  set(FASTNN_CUDA_REASON "FASTNN_CUDA=OFF")
else()
  include(${CMAKE_CURRENT_LIST_DIR}/setup.cmake)
  fastnn_cuda_setup(_fastnn_cuda_ok FASTNN_CUDA_REASON)
  if(_fastnn_cuda_ok)
    add_subdirectory(${CMAKE_CURRENT_LIST_DIR} cuda)
  elseif(FASTNN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "fastnn: FASTNN_CUDA=ON but ${FASTNN_CUDA_REASON}")
  endif()
endif()
if(TARGET _cuda)
  message(STATUS "fastnn: CUDA backend built for architectures ${CMAKE_CUDA_ARCHITECTURES}")
else()
  message(STATUS "fastnn: CUDA backend not built (${FASTNN_CUDA_REASON}); CPU backend only")
endif()
