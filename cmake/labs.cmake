# The labs, in every flavour, in one build tree: the library is compiled once, and each flavour of
# a lab is a set of targets of its own (see docs/labs.md, "Flavours"):
#
#   flavour         the lab's own code   the labs it builds on (DEPENDS)   targets
#   labs            labs/<dir>           their labs flavour                labN, labN_tests
#   solutions       solutions/<dir>      their solutions flavour           labN_solutions, labN_solutions_tests
#   base_reference  labs/<dir>           their solutions flavour           labN_base_reference, ..._tests
#
# solutions and base_reference exist only where solutions/ does; base_reference only for a lab
# with DEPENDS (without, it is the labs flavour). A lab's tests always come from labs/<dir>/tests.
# Every file is in one place: labs/<dir> holds the lab's tests, handout and given code, and the
# stubs of the files the student writes; solutions/<dir> holds only the reference of those files
# (and the hidden tests and mutants). The solutions flavour sees the two through
# ${CMAKE_BINARY_DIR}/reference/<dir>/ (_dsys_reference_dir): a link to each file of the lab's
# code, the reference where there is one, so that a given header finds the reference next to it.
# Each flavour of a lab gets a directory, ${CMAKE_BINARY_DIR}/<flavour>/<lab>/, holding its test
# program (<lab>_tests) and its programs (lock_server, ...): DSYS_APPS_DIR in its tests.
# ${CMAKE_BINARY_DIR}/labs.tsv lists them all for ./dsys.

set(DSYS_LAB_FLAVOURS labs solutions base_reference)

# The main of every lab test program (Catch2, the grader's --dsys-list, replay lines).
add_library(dsys_lab_main OBJECT tests/lab_main.cpp)
target_link_libraries(dsys_lab_main PUBLIC Catch2::Catch2 dsys)

# The fixed headers of every lab test, precompiled once for all of them; the labs' libraries and
# programs use them too (it halves the time a program's main takes to compile).
add_library(dsys_lab_pch OBJECT tests/lab_pch.cpp)
target_link_libraries(dsys_lab_pch PUBLIC Catch2::Catch2 dsys)
target_precompile_headers(dsys_lab_pch PRIVATE <catch2/catch.hpp> <dsys/testing/lab.hpp>
                          <dsys/testing/process.hpp> <dsys/rpc/endpoint.hpp>
                          <dsys/sim/world.hpp>)

# The flavour of the labs that a flavour's code is built on.
function(_dsys_base_of flavour out)
  if(flavour STREQUAL "labs")
    set(${out} labs PARENT_SCOPE)
  else()
    set(${out} solutions PARENT_SCOPE)
  endif()
endfunction()

# The name of the library of `lab` in `flavour` (labN, labN_solutions, labN_base_reference).
function(_dsys_lab_target lab flavour out)
  if(flavour STREQUAL "labs")
    set(${out} ${lab} PARENT_SCOPE)
  else()
    set(${out} ${lab}_${flavour} PARENT_SCOPE)
  endif()
endfunction()

# The reference code of the lab in directory `dir` (under `root`) as one directory,
# ${CMAKE_BINARY_DIR}/reference/<dir>/, made anew at each configure: a symbolic link to each
# .cpp, .hpp and .h of solutions/<dir> (the reference of the files the student writes), and to
# each of labs/<dir> that solutions/<dir> has not (the given code). The compiler looks for a
# quoted include next to the file that names it first: a given header in labs/<dir> would find
# the stubs beside it, while through its link it finds the reference. Sets `out_dir` to that
# directory and `out_sources` to the sources to compile: the reference's at their own paths (so
# that diagnostics and clang-tidy name solutions/), the given ones through their links.
function(_dsys_reference_dir dir root out_dir out_sources)
  set(linked ${CMAKE_BINARY_DIR}/reference/${dir})
  file(REMOVE_RECURSE ${linked})
  file(MAKE_DIRECTORY ${linked})
  file(GLOB reference CONFIGURE_DEPENDS ${root}/solutions/${dir}/*.cpp ${root}/solutions/${dir}/*.hpp
       ${root}/solutions/${dir}/*.h)
  file(GLOB given CONFIGURE_DEPENDS ${root}/labs/${dir}/*.cpp ${root}/labs/${dir}/*.hpp
       ${root}/labs/${dir}/*.h)
  set(sources "")
  foreach(file ${reference})
    get_filename_component(name ${file} NAME)
    file(CREATE_LINK ${file} ${linked}/${name} SYMBOLIC)
    if(name MATCHES "\\.cpp$")
      list(APPEND sources ${file})
    endif()
  endforeach()
  foreach(file ${given})
    get_filename_component(name ${file} NAME)
    if(NOT EXISTS ${linked}/${name})
      file(CREATE_LINK ${file} ${linked}/${name} SYMBOLIC)
      if(name MATCHES "\\.cpp$")
        list(APPEND sources ${linked}/${name})
      endif()
    endif()
  endforeach()
  set(${out_dir} ${linked} PARENT_SCOPE)
  set(${out_sources} "${sources}" PARENT_SCOPE)
endfunction()

# Code of different labs never collides: a lab's files declare its namespace, and no two of the
# directories a lab sees (its own and those of the labs it builds on) hold a header of one name.
function(_dsys_check_lab lab own dirs)
  get_property(namespace GLOBAL PROPERTY DSYS_LAB_${lab}_NAMESPACE)
  file(GLOB code ${own}/*.cpp ${own}/*.hpp)
  foreach(file ${code})
    file(READ ${file} text)
    string(REGEX MATCH "namespace ${namespace}(::[A-Za-z0-9_]+)* *{" opened "${text}")
    if(NOT opened)
      message(FATAL_ERROR "${file}: the code of ${lab} lives in namespace ${namespace} (labs.json)")
    endif()
  endforeach()
  foreach(dir ${own} ${dirs})
    file(GLOB headers RELATIVE ${dir} ${dir}/*.hpp ${dir}/*.h)
    foreach(header ${headers})
      if(DEFINED _dsys_seen_${header})
        message(FATAL_ERROR "${lab}: ${_dsys_seen_${header}}/${header} and ${dir}/${header} are "
                            "both on its include path; give one of them another name")
      endif()
      set(_dsys_seen_${header} ${dir})
    endforeach()
  endforeach()
endfunction()

# One flavour of a lab: its library, from `sources` (with `own` on the include path) on the
# `base` flavour of the labs it builds on, and its test program, in
# ${CMAKE_BINARY_DIR}/<flavour>/<lab>/.
function(_dsys_add_lab_flavour lab flavour own sources tests_dir)
  _dsys_lab_target(${lab} ${flavour} target)
  _dsys_base_of(${flavour} base)
  get_property(depends GLOBAL PROPERTY DSYS_LAB_${lab}_DEPENDS)
  get_property(closure GLOBAL PROPERTY DSYS_LAB_${lab}_CLOSURE)
  set(dep_targets "")
  foreach(dep ${depends})
    _dsys_lab_target(${dep} ${base} dep_target)
    list(APPEND dep_targets ${dep_target})
  endforeach()
  set(dep_dirs "")
  foreach(dep ${closure})
    get_property(dir GLOBAL PROPERTY DSYS_LAB_${dep}_DIR_${base})
    list(APPEND dep_dirs ${dir})
  endforeach()
  _dsys_check_lab(${lab} ${own} "${dep_dirs}")

  # Built on demand only (_dsys_stubs_on_demand, dsys_add_lab): left out of the default build.
  set(exclude "")
  if(flavour STREQUAL "labs" AND _dsys_stubs_on_demand)
    set(exclude EXCLUDE_FROM_ALL)
  endif()
  set_property(GLOBAL PROPERTY DSYS_LAB_${lab}_EXCLUDE_${flavour} "${exclude}")

  add_library(${target} STATIC ${exclude} ${sources})
  target_precompile_headers(${target} REUSE_FROM dsys_lab_pch)
  target_include_directories(${target} PUBLIC ${own})
  target_link_libraries(${target} PUBLIC dsys ${dep_targets})

  set(out ${CMAKE_BINARY_DIR}/${flavour}/${lab})
  file(GLOB tests CONFIGURE_DEPENDS ${tests_dir}/*.cpp)
  # The tests of the labs it runs again (RERUN), from their student directories, as they are.
  get_property(rerun GLOBAL PROPERTY DSYS_LAB_${lab}_RERUN)
  foreach(again ${rerun})
    get_property(again_dir GLOBAL PROPERTY DSYS_LAB_${again}_DIR_labs)
    file(GLOB again_tests CONFIGURE_DEPENDS ${again_dir}/tests/*.cpp)
    list(APPEND tests ${again_tests})
  endforeach()
  # The tests' objects apart, so that a mutant's test program (below) links them as they are.
  add_library(${target}_test_objects OBJECT ${exclude} ${tests})
  target_link_libraries(${target}_test_objects PRIVATE ${target} Catch2::Catch2)
  target_precompile_headers(${target}_test_objects REUSE_FROM dsys_lab_pch)
  target_compile_definitions(${target}_test_objects PRIVATE DSYS_APPS_DIR="${out}")
  if(rerun)
    get_property(rerun_node GLOBAL PROPERTY DSYS_LAB_${lab}_RERUN_NODE)
    target_compile_definitions(${target}_test_objects PRIVATE DSYS_RERUN_NODE="${rerun_node}")
  endif()
  add_executable(${target}_tests ${exclude} $<TARGET_OBJECTS:${target}_test_objects>
                                 $<TARGET_OBJECTS:dsys_lab_main>)
  target_link_libraries(${target}_tests PRIVATE ${target} Catch2::Catch2)
  set_target_properties(${target}_tests PROPERTIES OUTPUT_NAME ${lab}_tests
                                                   RUNTIME_OUTPUT_DIRECTORY ${out})
  if(exclude)
    # (no CTest entries: they would need it built)
  elseif(flavour STREQUAL "labs")
    catch_discover_tests(${target}_tests PROPERTIES LABELS ${lab}
                         ENVIRONMENT "DSYS_TRACE_DIR=${CMAKE_BINARY_DIR}/traces")
  else()
    catch_discover_tests(${target}_tests TEST_PREFIX "[${flavour}] "
                         PROPERTIES LABELS ${target}
                         ENVIRONMENT "DSYS_TRACE_DIR=${CMAKE_BINARY_DIR}/traces")
  endif()

  # The instructor's hidden tests (dsys_add_lab found some): a test program of their own, built
  # like the lab's, run by `./dsys grade LAB --hidden` and the autograder, never by ctest.
  get_property(hidden_dir GLOBAL PROPERTY DSYS_LAB_${lab}_HIDDEN)
  if(hidden_dir)
    file(GLOB hidden CONFIGURE_DEPENDS ${hidden_dir}/*.cpp)
    add_executable(${target}_hidden_tests ${exclude} ${hidden} $<TARGET_OBJECTS:dsys_lab_main>)
    target_link_libraries(${target}_hidden_tests PRIVATE ${target} Catch2::Catch2)
    target_precompile_headers(${target}_hidden_tests REUSE_FROM dsys_lab_pch)
    target_compile_definitions(${target}_hidden_tests PRIVATE DSYS_APPS_DIR="${out}")
    set_target_properties(${target}_hidden_tests PROPERTIES OUTPUT_NAME ${lab}_hidden_tests
                                                            RUNTIME_OUTPUT_DIRECTORY ${out})
    add_dependencies(${target}_hidden_tests ${target}_tests)  # and so the lab's programs
  endif()

  set_property(GLOBAL PROPERTY DSYS_LAB_${lab}_DIR_${flavour} ${own})
  set_property(GLOBAL PROPERTY DSYS_LAB_${lab}_OUT_${flavour} ${out})
  set_property(GLOBAL APPEND PROPERTY DSYS_LAB_${lab}_FLAVOURS ${flavour})
  if(flavour STREQUAL "solutions")
    _dsys_add_mutants(${lab} ${target})
  endif()
endfunction()

# The mutants of a lab's reference that ./dsys mutate (tools/mutate.py) has written into this
# build tree: ${CMAKE_BINARY_DIR}/mutants/<lab>/<name>/ holds the .cpp files of solutions/<dir>
# that the mutant's patch changes, and nothing else. Its test program,
# ${CMAKE_BINARY_DIR}/mutants/<lab>/<name>/<lab>_tests (target <lab>_mutant_<name>_tests), is
# those files compiled as the solutions flavour compiles its own, linked before that flavour's
# library (so the linker never takes that library's copies of them), with that flavour's test
# objects: only the changed files compile. Its real-process tests would start the reference's
# programs, so ./dsys mutate runs only the simulated ones.
function(_dsys_add_mutants lab solutions_target)
  file(GLOB mutants LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_BINARY_DIR}/mutants/${lab}/*)
  foreach(dir ${mutants})
    file(GLOB changed CONFIGURE_DEPENDS ${dir}/*.cpp)
    if(NOT IS_DIRECTORY ${dir} OR NOT changed)
      continue()
    endif()
    get_filename_component(name ${dir} NAME)
    set(target ${lab}_mutant_${name}_tests)
    add_executable(${target} EXCLUDE_FROM_ALL ${changed}
                   $<TARGET_OBJECTS:${solutions_target}_test_objects>
                   $<TARGET_OBJECTS:dsys_lab_main>)
    target_link_libraries(${target} PRIVATE ${solutions_target} Catch2::Catch2)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME ${lab}_tests RUNTIME_OUTPUT_DIRECTORY ${dir})
  endforeach()
endfunction()

# dsys_add_lab(NAME DIR NAMESPACE NS [DEPENDS LAB...] [RERUN LAB... RERUN_NODE HEADER] [ROOT PATH])
#
# Called by dsys_add_labs for each lab of the manifest. Lab NAME, whose code (in namespace NS) is
# in ROOT/labs/DIR (the student's) and ROOT/solutions/DIR (the reference), with its tests in
# ROOT/labs/DIR/tests. ROOT defaults to the kit's top directory.
# DEPENDS lists the labs it builds on, declared before it; their directories are on its include
# path and their libraries are linked into it (the labs they build on come along). RERUN lists
# labs (of those) whose tests its test program runs again: their test sources, compiled with
# DSYS_RERUN_NODE defined as RERUN_NODE, a header of this lab's that names the node they run over
# (lab 6: its caching client).
# Without ROOT/labs/DIR (a handout released up to an earlier lab: docs/labs.md, "Releasing the
# next lab") the lab, every lab that builds on it, and their programs are left out.
function(dsys_add_lab name dir)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "ROOT;NAMESPACE;RERUN_NODE" "DEPENDS;RERUN")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dsys_add_lab(${name}): unexpected arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_ROOT)
    set(arg_ROOT ${CMAKE_SOURCE_DIR})
  endif()
  get_property(labs GLOBAL PROPERTY DSYS_LABS)
  get_property(unreleased GLOBAL PROPERTY DSYS_LABS_UNRELEASED)
  if(name IN_LIST labs OR name IN_LIST unreleased)
    message(FATAL_ERROR "dsys_add_lab(${name}): declared twice")
  endif()
  # A lab not released yet (a student's clone of the handout before its release: no labs/DIR), or
  # one that builds on such a lab, is left out, and so are its programs.
  set(missing "")
  if(NOT EXISTS ${arg_ROOT}/labs/${dir})
    set(missing "labs/${dir} is not here")
  endif()
  foreach(dep ${arg_DEPENDS})
    if(dep IN_LIST unreleased)
      set(missing "it builds on ${dep}, which is not here")
    endif()
  endforeach()
  if(missing)
    message(STATUS "${name}: not released yet (${missing}): left out")
    set_property(GLOBAL APPEND PROPERTY DSYS_LABS_UNRELEASED ${name})
    return()
  endif()
  set(closure "")
  set(reference ON)  # the labs it builds on all have a solutions flavour
  foreach(dep ${arg_DEPENDS})
    if(NOT dep IN_LIST labs)
      message(FATAL_ERROR "dsys_add_lab(${name}): DEPENDS ${dep}, which is not declared before it")
    endif()
    get_property(dep_closure GLOBAL PROPERTY DSYS_LAB_${dep}_CLOSURE)
    list(APPEND closure ${dep_closure} ${dep})
    get_property(dep_flavours GLOBAL PROPERTY DSYS_LAB_${dep}_FLAVOURS)
    if(NOT "solutions" IN_LIST dep_flavours)
      set(reference OFF)
    endif()
  endforeach()
  # In declaration order, so that a later lab's program replaces an earlier one's.
  set(ordered "")
  foreach(lab ${labs})
    if(lab IN_LIST closure)
      list(APPEND ordered ${lab})
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY DSYS_LABS ${name})
  set_property(GLOBAL PROPERTY DSYS_LAB_${name}_DEPENDS "${arg_DEPENDS}")
  set_property(GLOBAL PROPERTY DSYS_LAB_${name}_RERUN "${arg_RERUN}")
  set_property(GLOBAL PROPERTY DSYS_LAB_${name}_CLOSURE "${ordered}")
  set_property(GLOBAL PROPERTY DSYS_LAB_${name}_ROOT ${arg_ROOT})
  set_property(GLOBAL PROPERTY DSYS_LAB_${name}_NAMESPACE ${arg_NAMESPACE})
  if(arg_RERUN AND NOT arg_RERUN_NODE)
    message(FATAL_ERROR "dsys_add_lab(${name}): it reruns ${arg_RERUN}: its rerun_node names the header "
                        "that gives the node they run over")
  endif()
  set_property(GLOBAL PROPERTY DSYS_LAB_${name}_RERUN_NODE "${arg_RERUN_NODE}")

  # Hidden tests: the instructor's solutions/DIR/hidden/*.cpp, or, in an autograder's copy (which
  # has no reference of the graded lab), hidden/DIR/*.cpp.
  foreach(hidden_dir ${arg_ROOT}/solutions/${dir}/hidden ${arg_ROOT}/hidden/${dir})
    file(GLOB hidden ${hidden_dir}/*.cpp)
    if(hidden)
      set_property(GLOBAL PROPERTY DSYS_LAB_${name}_HIDDEN ${hidden_dir})
      break()
    endif()
  endforeach()

  set(tests_dir ${arg_ROOT}/labs/${dir}/tests)
  set(student ${arg_ROOT}/labs/${dir})
  file(GLOB student_sources CONFIGURE_DEPENDS ${student}/*.cpp)
  # In the instructor's tree, the stubs of a lab that builds on others are built on demand only
  # (./dsys grade LAB builds them; ./dsys build and ./dsys test leave them out): their checks run
  # on the base_reference flavour, the same stubs on the reference of the labs they build on,
  # which is the stronger check (a test fails there for the lab's own stubs, not for those of the
  # labs below it), and the stubs of each of those labs are built in their own base_reference or
  # labs flavour. It keeps the default build (and CI) shorter by a flavour of those labs.
  set(_dsys_stubs_on_demand OFF)
  if(arg_DEPENDS AND reference AND EXISTS ${arg_ROOT}/solutions/${dir}
     AND arg_ROOT STREQUAL CMAKE_SOURCE_DIR)
    set(_dsys_stubs_on_demand ON)
  endif()
  _dsys_add_lab_flavour(${name} labs ${student} "${student_sources}" ${tests_dir})
  set(_dsys_stubs_on_demand OFF)
  if(EXISTS ${arg_ROOT}/solutions/${dir} AND reference)
    _dsys_reference_dir(${dir} ${arg_ROOT} linked reference_sources)
    _dsys_add_lab_flavour(${name} solutions ${linked} "${reference_sources}" ${tests_dir})
  endif()
  # The student's lab on the reference of the labs it builds on: it needs only theirs (an
  # autograder's copy holds the reference of those labs, not of the lab it grades).
  if(arg_DEPENDS AND reference)
    _dsys_add_lab_flavour(${name} base_reference ${student} "${student_sources}" ${tests_dir})
  endif()
endfunction()

# dsys_add_lab_program(LAB PROGRAM SOURCES... [LINK LIBRARY...])
#
# The program PROGRAM of lab LAB (lock_server, yfs_client, ...), built from SOURCES against each
# flavour of LAB, with dsys_apps (the shared mains of apps/main/) and the LINK libraries (such as
# dsys_apps_fuse), into that flavour's directory. The labs that build on LAB have it too (the one
# built on their base), unless they declare a PROGRAM of their own.
function(dsys_add_lab_program lab program)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "LINK")
  get_property(unreleased GLOBAL PROPERTY DSYS_LABS_UNRELEASED)
  if(lab IN_LIST unreleased)
    return()
  endif()
  get_property(flavours GLOBAL PROPERTY DSYS_LAB_${lab}_FLAVOURS)
  if(NOT flavours)
    message(FATAL_ERROR "dsys_add_lab_program(${lab} ${program}): no lab ${lab}")
  endif()
  foreach(flavour ${flavours})
    _dsys_lab_target(${lab} ${flavour} target)
    get_property(out GLOBAL PROPERTY DSYS_LAB_${lab}_OUT_${flavour})
    get_property(exclude GLOBAL PROPERTY DSYS_LAB_${lab}_EXCLUDE_${flavour})
    add_executable(${target}_${program} ${exclude} ${arg_UNPARSED_ARGUMENTS})
    target_precompile_headers(${target}_${program} REUSE_FROM dsys_lab_pch)
    target_link_libraries(${target}_${program} PRIVATE ${target} dsys_apps ${arg_LINK})
    set_target_properties(${target}_${program} PROPERTIES OUTPUT_NAME ${program}
                                                          RUNTIME_OUTPUT_DIRECTORY ${out})
    add_dependencies(${target}_tests ${target}_${program})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY DSYS_LAB_${lab}_PROGRAMS ${program})
endfunction()

# labs.tsv's last two columns for the lab library `target`: its hidden tests' target and program,
# or "-" twice.
function(_dsys_hidden_columns target out)
  if(TARGET ${target}_hidden_tests)
    set(${out} "${target}_hidden_tests\t$<TARGET_FILE:${target}_hidden_tests>" PARENT_SCOPE)
  else()
    set(${out} "-\t-" PARENT_SCOPE)
  endif()
endfunction()

# Once every lab and program is declared (at the end of the top directory): the programs a lab
# has from the labs it builds on (a link to the one built on its base, in its directory), a target
# per flavour that builds every lab in it (flavour_labs, flavour_solutions,
# flavour_base_reference), and labs.tsv: one line per lab and flavour,
#   lab  flavour  kind (lab | test)  depends (comma-separated, or -)  tests target  test program
#   its directory  hidden tests target  hidden test program (both - without hidden tests)
# where base_reference of a lab without DEPENDS is its labs flavour. Building the target labs_tsv
# brings labs.tsv up to date (it re-runs CMake when a CMakeLists.txt changed).
function(_dsys_finish_labs)
  get_property(labs GLOBAL PROPERTY DSYS_LABS)
  set(rows "")
  foreach(flavour ${DSYS_LAB_FLAVOURS})
    add_custom_target(flavour_${flavour})
  endforeach()
  foreach(lab ${labs})
    get_property(flavours GLOBAL PROPERTY DSYS_LAB_${lab}_FLAVOURS)
    get_property(depends GLOBAL PROPERTY DSYS_LAB_${lab}_DEPENDS)
    get_property(latest_first GLOBAL PROPERTY DSYS_LAB_${lab}_CLOSURE)
    list(REVERSE latest_first)
    get_property(own_programs GLOBAL PROPERTY DSYS_LAB_${lab}_PROGRAMS)
    get_property(root GLOBAL PROPERTY DSYS_LAB_${lab}_ROOT)
    if(root STREQUAL CMAKE_SOURCE_DIR)
      set(kind lab)
    else()
      set(kind test)
    endif()
    if(depends)
      string(REPLACE ";" "," depends_text "${depends}")
    else()
      set(depends_text "-")
    endif()
    foreach(flavour ${flavours})
      _dsys_lab_target(${lab} ${flavour} target)
      _dsys_base_of(${flavour} base)
      get_property(out GLOBAL PROPERTY DSYS_LAB_${lab}_OUT_${flavour})
      # Programs of the labs it builds on: of those that declare one name, the latest wins.
      set(have ${own_programs})
      set(links "")
      set(sources "")
      foreach(dep ${latest_first})
        get_property(dep_programs GLOBAL PROPERTY DSYS_LAB_${dep}_PROGRAMS)
        foreach(program ${dep_programs})
          if(NOT program IN_LIST have)
            list(APPEND have ${program})
            _dsys_lab_target(${dep} ${base} dep_target)
            list(APPEND sources ${dep_target}_${program})
            list(APPEND links COMMAND ${CMAKE_COMMAND} -E create_symlink
                 $<TARGET_FILE:${dep_target}_${program}> ${out}/${program})
          endif()
        endforeach()
      endforeach()
      if(links)
        add_custom_target(${target}_programs COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
                          ${links} VERBATIM)
        add_dependencies(${target}_programs ${sources})
        add_dependencies(${target}_tests ${target}_programs)
      endif()
      add_dependencies(flavour_${flavour} ${target}_tests)
      _dsys_hidden_columns(${target} hidden_text)
      string(APPEND rows "${lab}\t${flavour}\t${kind}\t${depends_text}\t${target}_tests\t"
                         "$<TARGET_FILE:${target}_tests>\t${out}\t${hidden_text}\n")
    endforeach()
    if("solutions" IN_LIST flavours AND NOT depends)
      _dsys_lab_target(${lab} labs target)
      get_property(out GLOBAL PROPERTY DSYS_LAB_${lab}_OUT_labs)
      add_dependencies(flavour_base_reference ${target}_tests)
      _dsys_hidden_columns(${target} hidden_text)
      string(APPEND rows "${lab}\tbase_reference\t${kind}\t-\t${target}_tests\t"
                         "$<TARGET_FILE:${target}_tests>\t${out}\t${hidden_text}\n")
    endif()
  endforeach()
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/labs.tsv CONTENT "${rows}")
  add_custom_target(labs_tsv)
  _dsys_integrity_tests()
endfunction()
include(${CMAKE_CURRENT_LIST_DIR}/integrity.cmake)
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _dsys_finish_labs)

# A JSON value of the manifest, or `default` when the member is absent.
function(_dsys_json_get out json default)
  string(JSON value ERROR_VARIABLE missing GET "${json}" ${ARGN})
  if(missing)
    set(value "${default}")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# The members (an object's keys) or elements (an array's) of a manifest value, as a CMake list.
function(_dsys_json_list out json)
  set(items "")
  string(JSON type ERROR_VARIABLE missing TYPE "${json}" ${ARGN})
  if(NOT missing)
    string(JSON count LENGTH "${json}" ${ARGN})
    if(count GREATER 0)
      math(EXPR last "${count} - 1")
      foreach(i RANGE ${last})
        if(type STREQUAL "OBJECT")
          string(JSON item MEMBER "${json}" ${ARGN} ${i})
        else()
          string(JSON item GET "${json}" ${ARGN} ${i})
        endif()
        list(APPEND items ${item})
      endforeach()
    endif()
  endif()
  set(${out} "${items}" PARENT_SCOPE)
endfunction()

# dsys_add_labs(MANIFEST ROOT): every lab of the lab manifest MANIFEST (labs.json; docs/labs.md,
# "The lab manifest"), in its order, with its code under ROOT (labs/DIR, solutions/DIR): the lab
# (dsys_add_lab) and its programs (dsys_add_lab_program, their sources relative to the kit's top
# directory). The manifest is the only place that says what a lab is.
function(dsys_add_labs manifest root)
  set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${manifest})
  file(READ ${manifest} json)
  string(JSON count ERROR_VARIABLE bad LENGTH "${json}" labs)
  if(bad)
    message(FATAL_ERROR "${manifest}: not a lab manifest (${bad})")
  endif()
  if(count EQUAL 0)
    return()
  endif()
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    string(JSON lab GET "${json}" labs ${i} name)
    string(JSON dir GET "${json}" labs ${i} dir)
    string(JSON namespace GET "${json}" labs ${i} namespace)
    _dsys_json_list(depends "${json}" labs ${i} depends)
    _dsys_json_list(rerun "${json}" labs ${i} rerun)
    _dsys_json_get(rerun_node "${json}" "" labs ${i} rerun_node)
    if(rerun_node STREQUAL "rerun_node-NOTFOUND" OR rerun_node STREQUAL "null")
      set(rerun_node "")
    endif()
    dsys_add_lab(${lab} ${dir} NAMESPACE ${namespace} DEPENDS ${depends} RERUN ${rerun}
                 RERUN_NODE ${rerun_node} ROOT ${root})
    # What ./dsys test checks of it (cmake/integrity.cmake).
    foreach(check sweep_seeds slow_seeds)
      string(JSON value GET "${json}" labs ${i} checks ${check})
      set_property(GLOBAL PROPERTY DSYS_LAB_${lab}_${check} ${value})
    endforeach()
    _dsys_json_get(explore_runs "${json}" 0 labs ${i} checks explore_runs)
    set_property(GLOBAL PROPERTY DSYS_LAB_${lab}_explore_runs ${explore_runs})
    _dsys_json_list(programs "${json}" labs ${i} programs)
    foreach(program ${programs})
      string(JSON source GET "${json}" labs ${i} programs ${program} source)
      _dsys_json_get(fuse "${json}" OFF labs ${i} programs ${program} fuse)
      set(link "")
      if(fuse)
        set(link LINK dsys_apps_fuse)
      endif()
      dsys_add_lab_program(${lab} ${program} ${CMAKE_SOURCE_DIR}/${source} ${link})
    endforeach()
  endforeach()
endfunction()

dsys_add_labs(${CMAKE_SOURCE_DIR}/labs.json ${CMAKE_SOURCE_DIR})
