# fastnn_cuda_setup(ok reason): enables CUDA, picks the architectures and finds cuBLASLt. Sets `ok`
# to TRUE, or FALSE with `reason` saying what is missing. Shared by the package build (cuda.cmake)
# and the standalone compile check (CMakeLists.txt in this folder, configured on its own). A macro,
# not a function: enable_language must run in file scope.
#
# FASTNN_CUDA_ARCHITECTURES: empty (default) = every architecture from Turing (75) to Hopper (90)
#   that the toolkit supports, as machine code, plus PTX of the newest for later GPUs; "native" =
#   the GPUs of this machine; or an explicit CMake list such as "90" or "80;90-virtual".
# FASTNN_CUBLAS_ROOT: a folder with include/cublasLt.h and lib/libcublasLt.so*; default: the
#   toolkit's, else the nvidia-cublas wheel's (nvidia/cu13 or nvidia/cublas in site-packages).
set(FASTNN_CUDA_ARCHITECTURES "" CACHE STRING "CUDA architectures (empty: 75..90 supported by the toolkit + PTX; native; or a list)")
set(FASTNN_CUBLAS_ROOT "" CACHE PATH "Folder holding include/cublasLt.h and lib/libcublasLt.so*")

# The default architecture list for the compiler `nvcc` into `out`.
function(fastnn_default_cuda_archs nvcc out)
  execute_process(COMMAND ${nvcc} --list-gpu-arch OUTPUT_VARIABLE _list RESULT_VARIABLE _rc ERROR_QUIET)
  set(_archs "")
  foreach(_a 75 80 86 89 90)
    if(_rc EQUAL 0 AND _list MATCHES "compute_${_a}")
      list(APPEND _archs ${_a})
    endif()
  endforeach()
  if(NOT _archs)
    set(_archs 75)
  endif()
  list(GET _archs -1 _newest)
  list(TRANSFORM _archs APPEND "-real")
  list(APPEND _archs "${_newest}-virtual")
  set(${out} "${_archs}" PARENT_SCOPE)
endfunction()

# Where the nvidia-cublas wheel's files are, seen from the Python that runs the build.
function(fastnn_cublas_wheel_dirs out)
  set(_dirs "")
  if(Python_EXECUTABLE)
    execute_process(
      COMMAND ${Python_EXECUTABLE} -c
              "import importlib.util as u\nfor m in ('nvidia.cu13', 'nvidia.cublas'):\n    try:\n        s = u.find_spec(m)\n    except Exception:\n        s = None\n    if s and s.submodule_search_locations:\n        print(list(s.submodule_search_locations)[0])"
      OUTPUT_VARIABLE _dirs OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    string(REPLACE "\n" ";" _dirs "${_dirs}")
  endif()
  set(${out} "${_dirs}" PARENT_SCOPE)
endfunction()

macro(fastnn_cuda_setup ok_var reason_var)
  set(${ok_var} FALSE)
  set(${reason_var} "")
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    set(${reason_var} "no CUDA compiler (nvcc) was found")
  else()
    # The architectures must be set before the language is enabled.
    if(FASTNN_CUDA_ARCHITECTURES STREQUAL "")
      fastnn_default_cuda_archs(${CMAKE_CUDA_COMPILER} _fastnn_archs)
      set(CMAKE_CUDA_ARCHITECTURES "${_fastnn_archs}")
    else()
      set(CMAKE_CUDA_ARCHITECTURES "${FASTNN_CUDA_ARCHITECTURES}")
    endif()
    enable_language(CUDA)
    message(STATUS "fastnn: CUDA architectures ${CMAKE_CUDA_ARCHITECTURES}")
    find_package(CUDAToolkit REQUIRED)
    if(NOT Python_EXECUTABLE)
      find_package(Python 3 COMPONENTS Interpreter QUIET)
    endif()
    fastnn_cublas_wheel_dirs(_fastnn_wheel)
    set(_fastnn_hints ${FASTNN_CUBLAS_ROOT} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR} ${_fastnn_wheel})
    find_path(FASTNN_CUBLASLT_INCLUDE cublasLt.h HINTS ${_fastnn_hints} ${CUDAToolkit_INCLUDE_DIRS}
              PATH_SUFFIXES include NO_CACHE)
    find_library(FASTNN_CUBLASLT_LIBRARY NAMES cublasLt libcublasLt.so.13 libcublasLt.so.12
                 HINTS ${_fastnn_hints} ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64 NO_CACHE)
    if(NOT FASTNN_CUBLASLT_INCLUDE OR NOT FASTNN_CUBLASLT_LIBRARY)
      set(${reason_var} "cuBLASLt was not found (pip install nvidia-cublas, or set FASTNN_CUBLAS_ROOT)")
    else()
      message(STATUS "fastnn: cuBLASLt ${FASTNN_CUBLASLT_LIBRARY} (headers ${FASTNN_CUBLASLT_INCLUDE})")
      set(${ok_var} TRUE)
    endif()
  endif()
endmacro()
