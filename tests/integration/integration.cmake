# Integration tests: the real stabaudit on small decks (tests/decks), through tests/integration/*.sh
set(SA_IT ${CMAKE_CURRENT_SOURCE_DIR}/integration)
foreach(t bad_decks parallel twins diverge dataset extend kill_resume)
  sa_add_script_test(it_${t} SCRIPT ${SA_IT}/${t}.sh LABELS mpi TIMEOUT 300)
endforeach()
