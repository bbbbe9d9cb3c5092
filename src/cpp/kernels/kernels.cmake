# Per-instruction-set GEMM kernels, added to fastnn_engine. Each file gets its own code-generation
# flags; gemm.cpp picks one at run time from the CPU's features, so one build runs on any x86-64
# (and on other architectures with the portable kernels only). No -march=native, no -ffast-math.
# Floating-point contraction is off in these files: the kernels write every fused multiply-add
# explicitly, so the rounding of each element is the same on every code path.

set(_fastnn_kdir ${CMAKE_CURRENT_LIST_DIR})

target_sources(fastnn_engine PRIVATE ${_fastnn_kdir}/kernels_generic.cpp)
if(NOT MSVC)
  set_source_files_properties(${_fastnn_kdir}/kernels_generic.cpp PROPERTIES
    COMPILE_OPTIONS "-ffp-contract=off")
endif()

set(_fastnn_x86 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x64)$" AND CMAKE_SIZEOF_VOID_P EQUAL 8)
  set(_fastnn_x86 ON)
endif()
# A multi-architecture macOS build compiles each file for every architecture: keep it portable.
list(LENGTH CMAKE_OSX_ARCHITECTURES _fastnn_osx_archs)
if(_fastnn_osx_archs GREATER 1)
  set(_fastnn_x86 OFF)
endif()

if(_fastnn_x86 AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag("-mavx2 -mfma" FASTNN_CXX_HAS_AVX2)
  check_cxx_compiler_flag("-mavx512f -mfma" FASTNN_CXX_HAS_AVX512)
  check_cxx_compiler_flag("-mamx-tile -mamx-bf16 -mavx512bf16" FASTNN_CXX_HAS_AMX)
  if(FASTNN_CXX_HAS_AVX2)
    target_sources(fastnn_engine PRIVATE ${_fastnn_kdir}/kernels_avx2.cpp)
    set_source_files_properties(${_fastnn_kdir}/kernels_avx2.cpp PROPERTIES
      COMPILE_OPTIONS "-mavx2;-mfma;-ffp-contract=off")
    target_compile_definitions(fastnn_engine PRIVATE FASTNN_HAVE_KERNELS_AVX2)
  endif()
  if(FASTNN_CXX_HAS_AVX512)
    target_sources(fastnn_engine PRIVATE ${_fastnn_kdir}/kernels_avx512.cpp)
    set_source_files_properties(${_fastnn_kdir}/kernels_avx512.cpp PROPERTIES
      COMPILE_OPTIONS "-mavx512f;-mfma;-ffp-contract=off")
    target_compile_definitions(fastnn_engine PRIVATE FASTNN_HAVE_KERNELS_AVX512)
  endif()
  if(FASTNN_CXX_HAS_AMX AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # bfloat16 products through AMX tiles (gemm_bf16); Linux only: the tile state is requested with
    # arch_prctl before first use.
    target_sources(fastnn_engine PRIVATE ${_fastnn_kdir}/kernels_amx.cpp)
    set_source_files_properties(${_fastnn_kdir}/kernels_amx.cpp PROPERTIES
      COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512bf16;-mamx-tile;-mamx-bf16;-mfma;-ffp-contract=off")
    target_compile_definitions(fastnn_engine PRIVATE FASTNN_HAVE_KERNELS_AMX)
  endif()
endif()
