# Helpers shared by the project's CMake files.

# Strict warnings on our own targets only (never on the user's other code); errors
# only when TT_WERROR is on, so a newer compiler's new warning never breaks a build.
function(tt_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla)
  if(TT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# The module table (reference/modules.def) as CMake lists:
#   TT_MODULE_SLUGS  01_tensor;02_activations;...
#   TT_MODULE_NAMES  tensor;activations;...
function(tt_read_modules)
  file(STRINGS "${PROJECT_SOURCE_DIR}/reference/modules.def" lines REGEX "^TT_MODULE\\(")
  set(slugs "")
  set(names "")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^TT_MODULE\\(([0-9]+), \"(([0-9][0-9])_([a-z_]+))\"")
      message(FATAL_ERROR "reference/modules.def: cannot read line: ${line}")
    endif()
    list(APPEND slugs "${CMAKE_MATCH_2}")
    list(APPEND names "${CMAKE_MATCH_4}")
  endforeach()
  set(TT_MODULE_SLUGS "${slugs}" PARENT_SCOPE)
  set(TT_MODULE_NAMES "${names}" PARENT_SCOPE)
endfunction()
