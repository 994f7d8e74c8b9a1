# The allocator every Plateau executable links: glibc malloc made a training step ~3x slower
# on these machines, so tcmalloc (minimal) is linked in directly rather than left to LD_PRELOAD.
find_library(PLATEAU_TCMALLOC
  NAMES tcmalloc_minimal libtcmalloc_minimal.so.4
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} /usr/lib)
if(NOT PLATEAU_TCMALLOC)
  message(FATAL_ERROR "tcmalloc not found: install libtcmalloc-minimal4 (scripts/install-deps.sh does)")
endif()

# plateau_use_runtime(target): link tcmalloc first so it provides malloc for torch too.
function(plateau_use_runtime target)
  target_link_options(${target} PRIVATE "LINKER:--no-as-needed")
  target_link_libraries(${target} PRIVATE ${PLATEAU_TCMALLOC})
endfunction()

# oneDNN (libdnnl-dev): the GEMM behind core/model/fast_linear. Debian's dnnl CMake config
# requires OpenCL (its GPU runtime), which Plateau does not use, so locate the CPU library here.
find_path(PLATEAU_DNNL_INCLUDE oneapi/dnnl/dnnl.h)
find_library(PLATEAU_DNNL_LIBRARY NAMES dnnl)
if(NOT PLATEAU_DNNL_INCLUDE OR NOT PLATEAU_DNNL_LIBRARY)
  message(FATAL_ERROR "oneDNN not found: install libdnnl-dev (scripts/install-deps.sh does)")
endif()
add_library(plateau_dnnl INTERFACE)
target_include_directories(plateau_dnnl INTERFACE ${PLATEAU_DNNL_INCLUDE})
target_link_libraries(plateau_dnnl INTERFACE ${PLATEAU_DNNL_LIBRARY})
