# hecnn_add_library(<name> SOURCES ... DEPS ...)
#   One library per layer folder. Public include root is src/, so headers are
#   included as "math/ntt.h", "fhe/bfv/evaluator.h", ...
function(hecnn_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${A_DEPS})
endfunction()

# hecnn_add_test(<name> LABEL fast|slow SOURCES ... DEPS ...)
#   One GoogleTest executable; every test case in it gets the label, so
#   `ctest -L fast` is the CI tier and `ctest -L slow` the long tier.
function(hecnn_add_test name)
  cmake_parse_arguments(A "" "LABEL" "SOURCES;DEPS" ${ARGN})
  if(NOT A_SOURCES)
    return()
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  gtest_discover_tests(${name} PROPERTIES LABELS ${A_LABEL} DISCOVERY_TIMEOUT 60)
endfunction()
