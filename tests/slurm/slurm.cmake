# Tests on a real single-node SLURM (label slurm): slurm_start starts munged/slurmctld/slurmd
# (tests/slurm/slurm-start.sh, TOOLCHAIN.md section 4) as a ctest fixture, slurm_stop stops them
# by PID. Where SLURM cannot start (not root, packages missing, ports taken) every slurm test exits
# 77 and is reported as Skipped, with the reason in its output (ctest -V -L slurm).
set(SA_SLURM ${CMAKE_CURRENT_SOURCE_DIR}/slurm)
set(SA_SLURM_DIR ${PROJECT_BINARY_DIR}/slurm)
if(NOT EXISTS /usr/sbin/slurmctld OR NOT EXISTS /usr/sbin/munged)
  message(STATUS "slurm tests: slurm-wlm/munge not installed; the 'slurm' tests will be skipped (scripts/setup.sh installs them)")
endif()
add_test(NAME slurm_start COMMAND bash ${SA_SLURM}/slurm-start.sh)
add_test(NAME slurm_stop COMMAND bash ${SA_SLURM}/slurm-stop.sh)
set_tests_properties(slurm_start PROPERTIES FIXTURES_SETUP slurm)
set_tests_properties(slurm_stop PROPERTIES FIXTURES_CLEANUP slurm)
foreach(t slurm_start slurm_stop)
  set_tests_properties(${t} PROPERTIES ENVIRONMENT "SLURM_DIR=${SA_SLURM_DIR}" LABELS "slurm" TIMEOUT 60
                       SKIP_RETURN_CODE 77 RESOURCE_LOCK slurm)
endforeach()
foreach(t campaign preempt)
  sa_add_script_test(slurm_${t} SCRIPT ${SA_SLURM}/${t}.sh LABELS slurm TIMEOUT 420 FIXTURE_REQUIRED slurm)
  set_property(TEST slurm_${t} APPEND PROPERTY ENVIRONMENT "SLURM_DIR=${SA_SLURM_DIR}")
  set_tests_properties(slurm_${t} PROPERTIES SKIP_RETURN_CODE 77 RESOURCE_LOCK slurm)
endforeach()
