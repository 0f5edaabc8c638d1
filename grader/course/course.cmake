# The course built into tito (grader/course.h): the file TITO_COURSE_FILE names is
# embedded as C data at build time, so a tito binary carries its course with it and an
# instructor can build a tito for their own course with -DTITO_COURSE_FILE=...
set(TITO_COURSE_FILE "${PROJECT_SOURCE_DIR}/grader/course/default.json" CACHE FILEPATH
  "The course file built into tito (see docs/course-file.md)")
set(tito_course_c "${CMAKE_CURRENT_BINARY_DIR}/course_builtin.c")
add_custom_command(OUTPUT "${tito_course_c}"
  COMMAND ${CMAKE_COMMAND} -DIN=${TITO_COURSE_FILE} -DOUT=${tito_course_c}
          -P ${CMAKE_CURRENT_LIST_DIR}/embed.cmake
  DEPENDS "${TITO_COURSE_FILE}" "${CMAKE_CURRENT_LIST_DIR}/embed.cmake"
  COMMENT "Embedding the course file ${TITO_COURSE_FILE}"
  VERBATIM)
target_sources(tito_grader PRIVATE "${tito_course_c}")

