# Helpers so every target is declared alike.
#   gd2_library(NAME SRCS ... DEPS ...)     static library gd2_<NAME>, include root src/
#   gd2_executable(NAME SRCS ... DEPS ...)
#   gd2_test(NAME SRCS ... DEPS ... [LABELS ...])  GoogleTest binary registered with ctest
#   gd2_fuzz_test(NAME SRCS ... DEPS ...)   libFuzzer target when GD2_FUZZ, else a corpus replay test

# clang checks the locking annotations of src/common/thread_annotations.h in every clang build
# (the asan and fuzz presets); with -Werror a guarded member used without its mutex, or a
# function that needs a lock called without it, fails the build. gcc has no such analysis.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wthread-safety>)
endif()

function(gd2_library name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_library(gd2_${name} STATIC ${A_SRCS})
  target_include_directories(gd2_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(gd2_${name} PUBLIC ${A_DEPS})
endfunction()

function(gd2_executable name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${A_SRCS})
  target_link_libraries(${name} PRIVATE ${A_DEPS})
endfunction()

function(gd2_test name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SRCS})
  target_link_libraries(${name} PRIVATE ${A_DEPS} gd2_test_support GTest::gmock GTest::gtest_main)
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}"
    ENVIRONMENT "GD2_BUILD_DIR=${PROJECT_BINARY_DIR};GD2_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# A fuzz target defines LLVMFuzzerTestOneInput. With GD2_FUZZ it links libFuzzer; otherwise it
# links a small driver that feeds every file of its corpus to the target, run as a ctest.
function(gd2_fuzz_test name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS;CORPUS" ${ARGN})
  add_executable(${name} ${A_SRCS})
  target_link_libraries(${name} PRIVATE ${A_DEPS})
  if(GD2_FUZZ)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
  endif()
  if(GD2_FUZZ)
    # As a ctest, a libFuzzer binary only replays its corpus (tools/run_fuzz.sh fuzzes).
    add_test(NAME ${name} COMMAND ${name} -runs=0 ${A_CORPUS})
  else()
    add_test(NAME ${name} COMMAND ${name} ${A_CORPUS})
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "fuzz")
endfunction()
