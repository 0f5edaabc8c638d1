# Where `cmake --install build --prefix P` puts things, and the test that checks it:
#
#   P/bin/tito, P/bin/tt-milestone-NN    cli/CMakeLists.txt, milestones/CMakeLists.txt
#   P/bin/tito-leaderboard               leaderboard/CMakeLists.txt
#   P/include/tinytorch/*.h              reference/CMakeLists.txt
#   P/lib/libtinytorch.a, libtinytorch_core.a   reference/CMakeLists.txt
#   P/share/tinytorch/data/              milestones/CMakeLists.txt: the digits and their
#                                        licence note (tt_data_dir() looks there)
#   P/share/tinytorch/kit/               grader/kit/CMakeLists.txt: the grading kit, which
#                                        the installed tito uses (grader/kit.h)
#
# Each part installs its own files; install.layout checks the sum.
tt_read_modules()
# A list cannot cross a command line whole: pass it comma-separated.
string(REPLACE ";" "," modules_csv "${TT_MODULE_NAMES}")
add_test(NAME install.layout
  COMMAND ${CMAKE_COMMAND}
    -DBUILD_DIR=${CMAKE_BINARY_DIR}
    -DPREFIX=${CMAKE_BINARY_DIR}/install-test
    -DC_COMPILER=${CMAKE_C_COMPILER}
    -DMODULES=${modules_csv}
    -DBINDIR=${CMAKE_INSTALL_BINDIR} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
    -DINCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR} -DDATADIR=${CMAKE_INSTALL_DATADIR}
    -DVERSION=${PROJECT_VERSION}
    -P ${PROJECT_SOURCE_DIR}/cmake/check_install.cmake)
set_tests_properties(install.layout PROPERTIES LABELS install)
