# The integrity checks of ./dsys test (CTest label "integrity"), in the instructor's tree: the
# handout and the manifest hold, the C++ is formatted, and for each lab of labs.json with its
# reference here, what docs/labs.md ("Integrity") says. ./dsys test runs them with the library's
# tests (ctest -L "lib|integrity"), side by side: the longest start first (COST, roughly their
# seconds), so that the short ones fill in around them.
#
#   integrity: the stubs of labs/ are what solutions/ ...     tools/handout.py --check
#   integrity: labs.json agrees with the tree                 tools/labs.py check
#   integrity: the C++ is formatted with .clang-format        tests/integrity/check_formatted.py
#   integrity: the library and solutions/ pass ... clang-tidy tools/check.py library reference
#   integrity: LAB passes in full on solutions/               tools/grade.py, hidden tests too
#   integrity: LAB's simulated tests pass on solutions/ ...   tools/sweep.py, checks.sweep_seeds
#   integrity: ... slowed ...                                 tools/sweep.py --slow, checks.slow_seeds
#   integrity: explore finds no violation in N runs of LAB    ./dsys explore LAB, checks.explore_runs
#                                                             (the release build: it builds it)
#   integrity: every graded test of LAB fails on its stubs    tools/grade.py --expect-fail
#   integrity: ... on the reference base                      (instead, for a lab that builds on
#                                                             others: dsys_add_lab)
#   integrity: each lab's CI mutants lose points              tools/mutate.py all --ci (alone:
#                                                             it builds the mutants in this tree)

# Each check runs its tests one or two at a time and takes one CPU: ./dsys test runs CTest with two
# jobs more than the machine has CPUs in this tree (one in a student's), so that the checks that
# mostly wait (real processes, stubs that never answer, a bounded deadline, the cluster's tests)
# leave the CPUs to those that compute.
set(DSYS_INTEGRITY_JOBS 2)  # the tests a grade runs at once

function(_dsys_integrity_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "SERIAL" "PROCESSORS;TIMEOUT;COST" "COMMAND")
  set(work ${CMAKE_BINARY_DIR}/integrity)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME "integrity: ${name}" COMMAND ${arg_COMMAND} WORKING_DIRECTORY ${work})
  set_tests_properties("integrity: ${name}" PROPERTIES LABELS integrity TIMEOUT ${arg_TIMEOUT}
                       SKIP_RETURN_CODE 77 ENVIRONMENT "DSYS_TRACE_DIR=${work}/traces")
  if(arg_PROCESSORS)
    set_tests_properties("integrity: ${name}" PROPERTIES PROCESSORS ${arg_PROCESSORS})
  endif()
  if(arg_SERIAL)
    set_tests_properties("integrity: ${name}" PROPERTIES RUN_SERIAL TRUE)
  endif()
  if(arg_COST)  # roughly its seconds: ctest starts the longest first, so the others fill around it
    set_tests_properties("integrity: ${name}" PROPERTIES COST ${arg_COST})
  endif()
endfunction()

# Called once every lab is declared (_dsys_finish_labs).
function(_dsys_integrity_tests)
  if(NOT DSYS_LIB_TESTS OR NOT EXISTS ${CMAKE_SOURCE_DIR}/solutions)
    return()
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(py ${Python3_EXECUTABLE})
  set(tools ${CMAKE_SOURCE_DIR}/tools)
  _dsys_integrity_test("the stubs of labs/ are what solutions/ generates, and no file of labs/ is a copy of one in solutions/"
                       TIMEOUT 120
                       COMMAND ${py} ${tools}/handout.py --check)
  _dsys_integrity_test("labs.json agrees with the tree" TIMEOUT 60 COMMAND ${py} ${tools}/labs.py check)
  _dsys_integrity_test("the C++ is formatted with .clang-format" TIMEOUT 300
                       COMMAND ${py} ${CMAKE_SOURCE_DIR}/tests/integrity/check_formatted.py
                               ${CMAKE_SOURCE_DIR})
  # ./dsys check's default in this tree: clang-format and clang-tidy on the library and solutions/.
  _dsys_integrity_test("the library and solutions/ pass clang-format and clang-tidy (./dsys check)"
                       COST 250 TIMEOUT 1200
                       COMMAND ${py} ${tools}/check.py --skip-missing --build ${CMAKE_BINARY_DIR}
                               --jobs 1 library reference)
  set(jobs ${DSYS_INTEGRITY_JOBS})
  get_property(labs GLOBAL PROPERTY DSYS_LABS)
  foreach(lab ${labs})
    get_property(root GLOBAL PROPERTY DSYS_LAB_${lab}_ROOT)
    get_property(flavours GLOBAL PROPERTY DSYS_LAB_${lab}_FLAVOURS)
    if(NOT root STREQUAL CMAKE_SOURCE_DIR OR NOT "solutions" IN_LIST flavours)
      continue()  # the kit's own test lab (tests/labs checks it), or a lab without its reference
    endif()
    set(reference ${lab}_solutions)
    set(hidden "")
    if(TARGET ${reference}_hidden_tests)
      set(hidden --hidden-tests $<TARGET_FILE:${reference}_hidden_tests>)
    endif()
    _dsys_integrity_test("${lab} passes in full on solutions/" COST 15 TIMEOUT 1200
                         COMMAND ${py} ${tools}/grade.py --lab ${lab} --jobs ${jobs}
                                 --tests $<TARGET_FILE:${reference}_tests> ${hidden}
                                 --replay-args "--impl solutions")
    # (checks.sweep_seeds or slow_seeds 0: that sweep is left out)
    get_property(seeds GLOBAL PROPERTY DSYS_LAB_${lab}_sweep_seeds)
    if(seeds GREATER 0)
      _dsys_integrity_test("${lab}'s simulated graded tests pass on solutions/ for seeds 1-${seeds}"
                           COST 60 TIMEOUT 1200
                           COMMAND ${py} ${tools}/sweep.py --lab ${lab} --seeds ${seeds} --jobs 1
                                   --tests $<TARGET_FILE:${reference}_tests>)
    endif()
    get_property(slow GLOBAL PROPERTY DSYS_LAB_${lab}_slow_seeds)
    if(slow GREATER 0)
      _dsys_integrity_test("${lab}'s simulated graded tests pass on solutions/ slowed, for seeds 1-${slow}"
                           COST 20 TIMEOUT 1200
                           COMMAND ${py} ${tools}/sweep.py --lab ${lab} --seeds ${slow} --slow
                                   --jobs 1 --tests $<TARGET_FILE:${reference}_tests>)
    endif()
    # (checks.explore_runs: the lab's [scenario] test, that many seeds, on the release build, which
    # ./dsys explore configures and builds in build/release: one such test at a time)
    get_property(runs GLOBAL PROPERTY DSYS_LAB_${lab}_explore_runs)
    if(runs GREATER 0)
      set(name "explore finds no violation in ${runs} runs of ${lab}'s scenario on solutions/ (release build)")
      _dsys_integrity_test("${name}" COST 300 TIMEOUT 1800 PROCESSORS 2
                           COMMAND ${CMAKE_SOURCE_DIR}/dsys explore ${lab} --impl solutions
                                   --runs ${runs} --jobs 2 --seed 1000000 --out ${CMAKE_BINARY_DIR}/integrity/explore-${lab})
      set_tests_properties("integrity: ${name}" PROPERTIES RESOURCE_LOCK dsys_release_build)
    endif()
    foreach(flavour labs base_reference)
      if(NOT flavour IN_LIST flavours)
        continue()  # base_reference: only a lab that builds on others
      endif()
      get_property(exclude GLOBAL PROPERTY DSYS_LAB_${lab}_EXCLUDE_${flavour})
      if(exclude)
        continue()  # stubs on stubs, built on demand: their check is the one on the reference base
      endif()
      _dsys_lab_target(${lab} ${flavour} target)
      set(hidden "")
      if(TARGET ${target}_hidden_tests)
        set(hidden --hidden-tests $<TARGET_FILE:${target}_hidden_tests>)
      endif()
      if(flavour STREQUAL "labs")
        set(name "every graded test of ${lab} fails on its stubs")
        set(replay "")
      else()
        set(name "every graded test of ${lab} fails on its stubs on the reference base")
        set(replay --replay-args "--base reference")
      endif()
      # Stubs fail fast, or wait out a bounded deadline (a real replica that never joins).
      _dsys_integrity_test("${name}" COST 30 TIMEOUT 1200
                           COMMAND ${py} ${tools}/grade.py --lab ${lab} --jobs ${jobs} --expect-fail
                                   --tests $<TARGET_FILE:${target}_tests> ${hidden} ${replay})
    endforeach()
  endforeach()
  _dsys_integrity_test("each lab's CI subset of mutants (labs.json) loses points" SERIAL TIMEOUT 1800
                       COMMAND ${py} ${tools}/mutate.py all --ci --build ${CMAKE_BINARY_DIR}
                               --jobs ${jobs})
endfunction()
