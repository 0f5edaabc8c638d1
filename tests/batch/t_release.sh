# tests/batch/t_release.sh: `tito course release OUT`, what students install.
#
#   - the layout: bin/tito, the kit (each suite's helpers.h next to its visible.c), the
#     course file, README.md, SHA256SUMS that check;
#   - no solution text: no reference source in it, no hidden check's source, and no
#     solution line by the rule of grader/release.h as solution_text.pl reads it;
#   - the check works: a guide with a pasted solution, or with one distinctive solution
#     line, a suite's helpers.h with a pasted solution, and a reference source slipped
#     into a kit are each refused, and nothing is left at OUT; a one-line API call that
#     solutions also contain is not a leak;
#   - the released tito works for a student: it grades with its own kit, not with the
#     build tree's (which exists while this test runs), takes the course shipped with
#     it, starts a module and tests it.
#
# Run as `sh t_release.sh TITO SOURCE_DIR` (ctest: batch.release; TITO_TEST_KIT names
# the build's kit).
. "$(dirname "$0")/lib.sh"
KIT=${TITO_TEST_KIT:-$(dirname "$TITO")/../kit}
PL="$(dirname "$0")/solution_text.pl"
case $PL in /*) ;; *) PL=$(cd "$(dirname "$PL")" && pwd)/solution_text.pl ;; esac

make_course course.json '.id = "release-test" | .title = "Release test"'
expect "release" 0 "$TITO" course release rel --course course.json --root "$SRC"
has "it says it searched" out "no solution text:"
check "bin/tito runs" rel/bin/tito --version
check "the kit's manifest" test -f rel/share/tinytorch/kit/manifest.txt
check "the course shipped is the course given" cmp rel/share/tinytorch/course.json course.json
check "README.md" grep -q "tito init" rel/README.md
check "the checksums check" sh -c "cd rel && sha256sum --quiet -c SHA256SUMS"
same "every file has a checksum" "$(wc -l <rel/SHA256SUMS | tr -d ' ')" \
    "$(find rel -type f ! -name SHA256SUMS | wc -l | tr -d ' ')"

# What must not be there.
for f in "$SRC"/reference/src/*.c; do
    sum=$(sha256sum <"$f" | cut -d' ' -f1)
    if grep -q "^$sum " rel/SHA256SUMS; then fail "reference source $(basename "$f") is in the release"; fi
done
ok "no reference source, byte for byte"
same "no hidden check's source" "$(find rel -name 'hidden.c')" ""
check "every suite's hidden checks compiled" sh -c \
    'for v in rel/share/tinytorch/kit/suites/*/visible.c; do test -f "${v%visible.c}hidden.o" || exit 1; done'
same "no C source outside starters, visible checks and milestones" \
    "$(find rel -name '*.c' | grep -v -e '/starters/' -e '/suites/[^/]*/visible.c$' -e '/milestones/')" ""
same "no C header in the suites but their helpers" \
    "$(find rel/share/tinytorch/kit/suites -name '*.h' ! -name helpers.h)" ""
# visible.c includes its suite's helpers.h: each ships with it, as it is in the source.
for h in "$SRC"/grader/suites/*/helpers.h; do
    [ -f "$h" ] || continue
    slug=$(basename "$(dirname "$h")")
    check "suites/$slug/helpers.h ships, unchanged" cmp "$h" rel/share/tinytorch/kit/suites/$slug/helpers.h
done
check "every suite's visible.c finds what it includes" sh -c \
    'for v in rel/share/tinytorch/kit/suites/*/visible.c; do
         grep -q "^#include \"helpers.h\"" "$v" || continue
         test -f "${v%visible.c}helpers.h" || exit 1
     done'
expect "no solution text (read apart from tito)" 0 perl "$PL" "$SRC" rel

# The check at work, on copies of the kit with something planted.
plant() { rm -rf kit-$1; cp -r "$KIT" kit-$1; }
region_of() { # region_of FUNCTION: the solution region's body in tensor.c
    FN=$1 perl -0ne 'print $1 if /\ntt_status \Q$ENV{FN}\E\([^{]*\{.*?\/\* BEGIN SOLUTION \*\/\n(.*?)\s*\/\* END SOLUTION \*\//s' \
        "$SRC/reference/src/tensor.c"
}
plant pasted
{ echo; echo '```c'; region_of tt_tensor_matmul; echo '```'; } >>kit-pasted/guides/01_tensor.md
TITO_KIT=$PWD/kit-pasted expect "a pasted solution is refused" 1 "$TITO" course release rel-pasted --root "$SRC"
has "naming the guide" err "share/tinytorch/kit/guides/01_tensor.md:"
has "and where the text comes from" err "(reference/src/tensor.c:"
check "nothing released" test ! -e rel-pasted
same "nothing left beside it" "$(ls -d rel-pasted* 2>/dev/null)" ""
expect "the independent reading agrees" 1 perl "$PL" "$SRC" kit-pasted

plant line
line=$(region_of tt_tensor_matmul | awk '/gemm_packed\(/ { sub(/^ +/, ""); print; exit }')
check "a long solution line to plant" test -n "$line"
printf 'A hint: `%s` does it.\n' "$line" >>kit-line/guides/01_tensor.md
TITO_KIT=$PWD/kit-line expect "one distinctive line quoted in prose is refused" 1 "$TITO" course release rel-line --root "$SRC"
expect "the independent reading agrees" 1 perl "$PL" "$SRC" kit-line

plant helpers
{ echo; region_of tt_tensor_matmul; } >>kit-helpers/suites/01_tensor/helpers.h
TITO_KIT=$PWD/kit-helpers expect "a solution pasted into a suite's helpers is refused" 1 \
    "$TITO" course release rel-helpers --root "$SRC"
has "naming the helpers" err "share/tinytorch/kit/suites/01_tensor/helpers.h:"
expect "the independent reading agrees" 1 perl "$PL" "$SRC" kit-helpers

plant idiom
echo '    tt_layer_set_training(model, false);' >>kit-idiom/guides/07_training.md
check "the API call is a solution line" grep -qF 'tt_layer_set_training(model, false);' "$SRC/reference/src/training.c"
TITO_KIT=$PWD/kit-idiom expect "a one-line API call is not a leak" 0 "$TITO" course release rel-idiom --root "$SRC"

plant source
cp "$SRC/reference/src/tensor.c" kit-source/suites/01_tensor/reference.c
TITO_KIT=$PWD/kit-source expect "a reference source in the kit is refused" 4 "$TITO" course release rel-source --root "$SRC"
has "naming it" err "holds suites/01_tensor/reference.c, which a release may not carry"

# Refusals.
mkdir full && touch full/x
expect "into a folder that holds something" 2 "$TITO" course release full --root "$SRC"
(cd "$TMP/home" && "$TITO" course release "$TMP/nowhere" >"$TMP/out" 2>"$TMP/err")
same "outside a source tree without --root" "$?" 2
has "saying what to do" err "pass --no-check"
expect "--no-check releases anyway" 0 "$TITO" course release "$TMP/unchecked" --no-check
has "and says so" out "not searched for solution text"

# The released tito next to the build tree it came from: its own kit wins.
REL=$(cd rel && pwd -P)
mkdir -p student
cat >student/journey.sh <<EOF
set -e
cd "$TMP/student"
"$REL/bin/tito" init ws
cd ws
"$REL/bin/tito" module start 01
cp "$SRC/reference/src/tensor.c" modules/01_tensor/tensor.c
"$REL/bin/tito" module test 01
EOF
expect "a student's first steps with the released tito" 0 sh student/journey.sh
has "the course shipped with it" out "Release test"
check "the workspace records it" grep -q '"course": "release-test"' student/ws/.tito/progress.json
check "the starter came from the release" cmp student/ws/include/tinytorch/tensor.h rel/share/tinytorch/kit/include/tinytorch/tensor.h
has "the visible checks pass" out "visible checks pass"
NO_COLOR=1 expect "the released tito grades" 0 "$REL/bin/tito" dev grade 01 "$SRC/reference/src/tensor.c" -k create --verbose
has "with the kit released with it" out "kit: $REL/share/tinytorch/kit (from the installation)"
finish
