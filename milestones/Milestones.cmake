# The milestone table (milestones/milestones.def) for CMake, like tt_read_modules for
# the module table:
#   TT_MILESTONE_NUMBERS   1;2;3            one entry per milestone, in table order
#   TT_MILESTONE_SLUGS     01_perceptron;...
#   TT_MILESTONE_PROGRAMS  tt-milestone-01;...
# A milestone with several bars has several lines; they count once here.
function(tt_read_milestones)
  file(STRINGS "${PROJECT_SOURCE_DIR}/milestones/milestones.def" lines REGEX "^TT_MILESTONE\\(")
  set(numbers "")
  set(slugs "")
  set(programs "")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^TT_MILESTONE\\(([0-9]+), \"([0-9][0-9]_[a-z0-9_]+)\",.*, \"([a-z0-9-]+)\"\\)$")
      message(FATAL_ERROR "milestones/milestones.def: cannot read line: ${line}")
    endif()
    if(NOT CMAKE_MATCH_1 IN_LIST numbers)
      list(APPEND numbers "${CMAKE_MATCH_1}")
      list(APPEND slugs "${CMAKE_MATCH_2}")
      list(APPEND programs "${CMAKE_MATCH_3}")
    endif()
  endforeach()
  set(TT_MILESTONE_NUMBERS "${numbers}" PARENT_SCOPE)
  set(TT_MILESTONE_SLUGS "${slugs}" PARENT_SCOPE)
  set(TT_MILESTONE_PROGRAMS "${programs}" PARENT_SCOPE)
endfunction()
