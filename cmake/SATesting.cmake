# Test helpers (STYLE.md B.9). MPI tests run as root on small machines: allow root, oversubscribe,
# one BLAS thread per rank.
set(SA_TEST_ENV
  "OMPI_ALLOW_RUN_AS_ROOT=1"
  "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
  "OMPI_MCA_rmaps_base_oversubscribe=1"
  "OPENBLAS_NUM_THREADS=1"
  "OMP_NUM_THREADS=1")
set(SA_MPIEXEC ${MPIEXEC_EXECUTABLE} CACHE STRING "mpiexec used by the tests")

# sa_add_mpi_test(name NP n COMMAND exe args... [LABELS ...] [FIXTURE_SETUP f] [FIXTURE_REQUIRED f] [TIMEOUT s])
function(sa_add_mpi_test name)
  cmake_parse_arguments(T "" "NP;FIXTURE_SETUP;TIMEOUT" "COMMAND;LABELS;FIXTURE_REQUIRED" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${name}
           COMMAND ${SA_MPIEXEC} ${MPIEXEC_NUMPROC_FLAG} ${T_NP} ${MPIEXEC_PREFLAGS} ${T_COMMAND})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${SA_TEST_ENV}" PROCESSORS ${T_NP} TIMEOUT ${T_TIMEOUT}
                       LABELS "mpi;${T_LABELS}")
  if(T_FIXTURE_SETUP)
    set_tests_properties(${name} PROPERTIES FIXTURES_SETUP "${T_FIXTURE_SETUP}")
  endif()
  if(T_FIXTURE_REQUIRED)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURE_REQUIRED}")
  endif()
endfunction()

# sa_add_script_test(name SCRIPT file [ARGS ...] [LABELS ...] [FIXTURE_...]) : a shell script test
function(sa_add_script_test name)
  cmake_parse_arguments(T "" "SCRIPT;FIXTURE_SETUP;TIMEOUT;PROCESSORS" "ARGS;LABELS;FIXTURE_REQUIRED" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_PROCESSORS)
    set(T_PROCESSORS 2)
  endif()
  add_test(NAME ${name} COMMAND bash ${T_SCRIPT} ${T_ARGS})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "${SA_TEST_ENV};SA_BIN=$<TARGET_FILE:stabaudit>;SA_SRC=${PROJECT_SOURCE_DIR};SA_BUILD=${PROJECT_BINARY_DIR};SA_MPIEXEC=${SA_MPIEXEC}"
    PROCESSORS ${T_PROCESSORS} TIMEOUT ${T_TIMEOUT} LABELS "integration;${T_LABELS}")
  if(T_FIXTURE_SETUP)
    set_tests_properties(${name} PROPERTIES FIXTURES_SETUP "${T_FIXTURE_SETUP}")
  endif()
  if(T_FIXTURE_REQUIRED)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURE_REQUIRED}")
  endif()
endfunction()

# sa_add_unit_test(name SOURCES ... NP ...) : a CUnit executable run under mpiexec
function(sa_add_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;NP" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE stabaudit_core PkgConfig::CUNIT)
  if(NOT T_NP)
    set(T_NP 1)
  endif()
  foreach(np ${T_NP})
    sa_add_mpi_test(${name}_np${np} NP ${np} COMMAND $<TARGET_FILE:${name}> LABELS unit)
  endforeach()
endfunction()
