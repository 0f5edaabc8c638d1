# Turns a course file into C source: `cmake -DIN=course.json -DOUT=course_builtin.c -P embed.cmake`.
# The bytes become a char array rather than one string literal, because ISO C only
# promises string literals of 4095 characters and -Wpedantic holds us to that.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR len "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# Sixteen bytes to a line keeps the generated file readable in a debugger.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n  " bytes "${bytes}")
file(WRITE "${OUT}.tmp"
"/* Generated from ${IN} by grader/course/embed.cmake: do not edit. */\n"
"#include <stddef.h>\n"
"extern const char tito_builtin_course_text[];\n"
"extern const size_t tito_builtin_course_len;\n"
"const char tito_builtin_course_text[] = {\n  ${bytes}0x00};\n"
"const size_t tito_builtin_course_len = ${len};\n")
# Only touch OUT when it changes, so an unchanged course file rebuilds nothing.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
