# Build one program of the build tree, then run it; fail if either fails.
#   cmake -DBUILD_DIR=... -DTARGET=... -DPROGRAM=... -P build_and_run.cmake
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
  RESULT_VARIABLE built OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT built EQUAL 0)
  message(FATAL_ERROR "building ${TARGET} failed:\n${out}")
endif()
execute_process(COMMAND ${PROGRAM} RESULT_VARIABLE ran)
if(NOT ran EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} failed (${ran})")
endif()
