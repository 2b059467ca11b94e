# The labs. Each lab's code comes from the flavour chosen by DSYS_IMPL (labs/ for the student's
# code, solutions/ for the reference); its tests always come from labs/<dir>/tests.
set(DSYS_IMPL_DIR ${CMAKE_SOURCE_DIR}/${DSYS_IMPL})

# The main of every lab test program (Catch2, the grader's --dsys-list, replay lines).
add_library(dsys_lab_main OBJECT tests/lab_main.cpp)
target_link_libraries(dsys_lab_main PUBLIC Catch2::Catch2 dsys)

# dsys_add_lab(NAME DIR): library NAME from ${DSYS_IMPL}/DIR/*.cpp, and program NAME_tests from
# labs/DIR/tests/*.cpp, whose test cases are CTest tests labelled NAME.
function(dsys_add_lab name dir)
  file(GLOB sources CONFIGURE_DEPENDS ${DSYS_IMPL_DIR}/${dir}/*.cpp)
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${DSYS_IMPL_DIR}/${dir})
  target_link_libraries(${name} PUBLIC dsys)

  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/labs/${dir}/tests/*.cpp)
  add_executable(${name}_tests ${tests} $<TARGET_OBJECTS:dsys_lab_main>)
  target_link_libraries(${name}_tests PRIVATE ${name} Catch2::Catch2)
  target_compile_definitions(${name}_tests PRIVATE DSYS_APPS_DIR="${CMAKE_BINARY_DIR}/apps")
  set_target_properties(${name}_tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/labs)
  catch_discover_tests(${name}_tests PROPERTIES LABELS ${name}
                       ENVIRONMENT "DSYS_TRACE_DIR=${CMAKE_BINARY_DIR}/traces")
endfunction()

dsys_add_lab(lab1 lab1_lock)
