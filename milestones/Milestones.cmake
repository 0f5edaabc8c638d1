# The milestone table (milestones/milestones.def) for CMake, like tt_read_modules for
# the module table:
#   TT_MILESTONE_NUMBERS   1;2;3            one entry per milestone, in table order
#   TT_MILESTONE_SLUGS     01_perceptron;...
#   TT_MILESTONE_PROGRAMS  tt-milestone-01;...
#   TT_MILESTONE_FIRST     1;1;1            first and last module (modules.def numbers)
#   TT_MILESTONE_LAST      7;7;8
# A milestone with several bars has several lines; they count once here.
function(tt_read_milestones)
  file(STRINGS "${PROJECT_SOURCE_DIR}/milestones/milestones.def" lines REGEX "^TT_MILESTONE\\(")
  foreach(var numbers slugs programs firsts lasts)
    set(${var} "")
  endforeach()
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^TT_MILESTONE\\(([0-9]+), \"([0-9][0-9]_[a-z0-9_]+)\", [0-9]+, \"[^\"]*\", ([0-9]+), ([0-9]+), .*, \"([a-z0-9-]+)\"\\)$")
      message(FATAL_ERROR "milestones/milestones.def: cannot read line: ${line}")
    endif()
    if(NOT CMAKE_MATCH_1 IN_LIST numbers)
      list(APPEND numbers "${CMAKE_MATCH_1}")
      list(APPEND slugs "${CMAKE_MATCH_2}")
      list(APPEND firsts "${CMAKE_MATCH_3}")
      list(APPEND lasts "${CMAKE_MATCH_4}")
      list(APPEND programs "${CMAKE_MATCH_5}")
    endif()
  endforeach()
  set(TT_MILESTONE_NUMBERS "${numbers}" PARENT_SCOPE)
  set(TT_MILESTONE_SLUGS "${slugs}" PARENT_SCOPE)
  set(TT_MILESTONE_PROGRAMS "${programs}" PARENT_SCOPE)
  set(TT_MILESTONE_FIRST "${firsts}" PARENT_SCOPE)
  set(TT_MILESTONE_LAST "${lasts}" PARENT_SCOPE)
endfunction()

# tt_milestone_link(TARGET NUMBER): link TARGET (a milestone program built from
# milestones/<slug>.c) as tito links a student's: the shared helper, the data-loader
# batches when the milestone includes module 08, the reference objects of the modules
# first..last of milestones.def and nothing else of the framework, and the core. A
# program that used a later module would fail to link here, as it would for a student
# who has not reached that module.
function(tt_milestone_link target number)
  tt_read_milestones()
  tt_read_modules()
  list(FIND TT_MILESTONE_NUMBERS ${number} index)
  if(index LESS 0)
    message(FATAL_ERROR "tt_milestone_link: milestone ${number} is not in milestones.def")
  endif()
  list(GET TT_MILESTONE_FIRST ${index} first)
  list(GET TT_MILESTONE_LAST ${index} last)
  set(objects "")
  foreach(module RANGE ${first} ${last})
    math(EXPR at "${module} - 1")
    list(GET TT_MODULE_NAMES ${at} name)
    list(APPEND objects $<TARGET_OBJECTS:tt_ref_${name}>)
  endforeach()
  target_sources(${target} PRIVATE ${objects})
  if(last GREATER_EQUAL 8)
    target_link_libraries(${target} PRIVATE tt_milestone_loader)
  endif()
  target_link_libraries(${target} PRIVATE tt_milestone_common tinytorch_core)
endfunction()
