# tests/simt/expect_caught.cmake — runs one planted-bug executable (a real kernel with one planted
# bug, tests/simt/planted_bugs.cmake) on the existing test that exercises it, and passes only if that
# test fails AND its output carries the expected diagnostic: the emulator must catch the bug, and
# catch it for the right reason.
#   cmake -DEXE=... -DFILTER=gtest-filter -DSCHEDULE=forward -DEXPECT=regex -P expect_caught.cmake
set(ENV{SIMT_SCHEDULE} "${SCHEDULE}")
execute_process(COMMAND "${EXE}" "--gtest_filter=${FILTER}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REGEX MATCH "${EXPECT}" found "${out}")
if(rc EQUAL 0)
  message(FATAL_ERROR "NOT CAUGHT: ${FILTER} passed with the planted bug (schedule ${SCHEDULE}).\n${out}")
endif()
if(NOT found)
  message(FATAL_ERROR "CAUGHT FOR ANOTHER REASON: ${FILTER} failed (exit ${rc}) without the expected diagnostic "
                      "/${EXPECT}/ (schedule ${SCHEDULE}).\n${out}")
endif()
message(STATUS "caught (schedule ${SCHEDULE}, exit ${rc}): ${found}")
