# The install.layout test: install the build tree into a fresh prefix, check that every
# file is where the README says, that the installed tito runs and grades with the kit
# installed with it (while the build tree, with its own kit, is still there), that the
# installed tito-leaderboard runs, and that a program compiles against the installed
# headers and links with the installed libraries alone.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed:\n${out}")
endif()

string(REPLACE "," ";" MODULES "${MODULES}")
set(expected
  ${BINDIR}/tito
  ${BINDIR}/tito-leaderboard
  ${BINDIR}/tt-milestone-01
  ${BINDIR}/tt-milestone-02
  ${BINDIR}/tt-milestone-03
  ${LIBDIR}/libtinytorch.a
  ${LIBDIR}/libtinytorch_core.a
  ${INCLUDEDIR}/tinytorch/core.h
  ${INCLUDEDIR}/tinytorch/datasets.h
  ${DATADIR}/tinytorch/data/digits_train.csv
  ${DATADIR}/tinytorch/data/digits_test.csv
  ${DATADIR}/tinytorch/data/README.md)
foreach(name IN LISTS MODULES)
  list(APPEND expected ${INCLUDEDIR}/tinytorch/${name}.h)
endforeach()
set(missing "")
foreach(f IN LISTS expected)
  if(NOT EXISTS ${PREFIX}/${f})
    list(APPEND missing ${f})
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "not installed under ${PREFIX}: ${missing}")
endif()
list(LENGTH expected n)
message(STATUS "${n} files in place under ${PREFIX}")

execute_process(COMMAND ${PREFIX}/${BINDIR}/tito --version
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "tito ${VERSION}")
  message(FATAL_ERROR "the installed tito --version gave (${rc}): ${out}")
endif()

# The installed tito grades with the installed kit, not with the build tree's, which
# exists while this test runs. (TITO_KIT would take precedence over both: unset.)
file(REAL_PATH ${PREFIX}/${DATADIR}/tinytorch/kit installed_kit)
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=TITO_KIT --unset=TITO_COURSE
    XDG_CACHE_HOME=${PREFIX}/cache NO_COLOR=1
    ${PREFIX}/${BINDIR}/tito dev grade 01 ${installed_kit}/starters/01_tensor/tensor.c
    -k create --verbose
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(FIND "${out}" "kit: ${installed_kit} (from the installation)" at)
if(NOT (rc EQUAL 0 OR rc EQUAL 1) OR at EQUAL -1)
  message(FATAL_ERROR "the installed tito dev grade --verbose (${rc}) does not name the "
    "installed kit ${installed_kit}:\n${out}")
endif()
message(STATUS "the installed tito grades with ${installed_kit}")

# tito-leaderboard, the course's server, is installed and runs.
foreach(arg --help --version)
  execute_process(COMMAND ${PREFIX}/${BINDIR}/tito-leaderboard ${arg}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the installed tito-leaderboard ${arg} gave (${rc}): ${out}")
  endif()
endforeach()
if(NOT out MATCHES "tito-leaderboard ${VERSION}")
  message(FATAL_ERROR "the installed tito-leaderboard --version gave: ${out}")
endif()

# A user's program: headers and libraries from the prefix only.
set(src ${PREFIX}/use_tinytorch.c)
file(WRITE ${src} [=[
#include <stdio.h>
#include <tinytorch/tensor.h>
#include <tinytorch/datasets.h>
int main(void)
{
    tt_tensor *a = NULL, *b = NULL, *c = NULL;
    if (tt_tensor_full(&a, 2, TT_SHAPE(2, 3), 2.0f) || tt_tensor_full(&b, 2, TT_SHAPE(3, 2), 0.5f) ||
        tt_tensor_matmul(&c, a, b)) {
        fprintf(stderr, "%s\n", tt_error_last());
        return 1;
    }
    float v = 0;
    tt_tensor_get(c, TT_SHAPE(1, 1), &v);
    tt_tensor_free(a);
    tt_tensor_free(b);
    tt_tensor_free(c);
    if (v != 3.0f)
        return 1;
    tt_digits d;
    if (tt_digits_load(&d, NULL) != TT_OK) {
        fprintf(stderr, "%s\n", tt_error_last());
        return 1;
    }
    printf("matmul ok, %zu training digits from %s\n", d.n_train, tt_data_dir(NULL));
    tt_digits_release(&d);
    return 0;
}
]=])
execute_process(COMMAND ${C_COMPILER} -std=c17 -I${PREFIX}/${INCLUDEDIR} ${src}
    ${PREFIX}/${LIBDIR}/libtinytorch.a ${PREFIX}/${LIBDIR}/libtinytorch_core.a -lm
    -o ${PREFIX}/use_tinytorch
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "a program using the installed headers and libraries does not build:\n${out}")
endif()
# The data comes from the prefix: TT_DATA_DIR points there explicitly, because the
# library's built-in fallback is the prefix given at configure time, not this one.
execute_process(COMMAND ${CMAKE_COMMAND} -E env TT_DATA_DIR=${PREFIX}/${DATADIR}/tinytorch/data
    ${PREFIX}/use_tinytorch
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the program built against the installed files failed (${rc}): ${out}")
endif()
message(STATUS "${out}")
