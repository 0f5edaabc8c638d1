# tests/batch/t_e2e.sh: a class of 14 students, graded with `tito grade --batch` on
# module 01, each checked against what that student deserves.
#
# Every workspace is made the way a student makes one (tito init, tito module start)
# and then gets the student's own commits, dated by the test around the deadline. The
# work is the reference, the starter, or the reference with a deliberate defect:
#
#   s01 complete          s08 does not compile
#   s02 partial (no matmul) s09 malicious (fake transcripts, a hang, an early exit)
#   s03 buggy (add wrong)  s10 missing repository (a path that does not exist)
#   s04 leaking           s11 never started the module
#   s05 late 1.5 days     s12 complete, fetched through a file:// URL
#   s06 late, extension   s13 crashing (sum_all writes through NULL)
#   s07 too late: graded on its on-time partial commit
#                         s14 the starter, committed unchanged
#
# The batch is interrupted once mid-way (SIGTERM) and run again: the second run must
# grade exactly the submissions the first left. Then a course with a harsher late
# penalty is compared with --compare (nothing written), then written with --write.
#
# Run as `sh t_e2e.sh TITO SOURCE_DIR` (ctest: batch.e2e).
. "$(dirname "$0")/lib.sh"

COURSE=$TMP/course.json
make_course "$COURSE"
REF=$(reference 1)
ON_TIME=$((DEADLINE - 2 * DAY))

# The defects.
unsolve "$REF" partial.c tt_tensor_matmul
mutate "$REF" buggy.c 'EW_ROW(row_add, x + y)' 'EW_ROW(row_add, x + y * 1.5f)'
mutate "$REF" leaking.c '    result->shape[d0] = t->shape[d1];' \
    '    void *volatile lost = tt_malloc(24);
    (void)lost;
    result->shape[d0] = t->shape[d1];'
mutate "$REF" broken.c '    return tensor_new(__func__, out, ndim, shape, true);' \
    '    return tensor_new(__func__, out, ndim, shape, true)'
mutate "$REF" malicious.c '#include <math.h>
' '#include <math.h>
#include <stdio.h>
#include <unistd.h>
' 'tt_status tt_tensor_add(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{' 'tt_status tt_tensor_add(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{
    static const char fake[] = "PASS\nend add.same_shape live=0\n";
    printf("PASS\n");
    (void)!write(3, fake, sizeof fake - 1);
    return tt_tensor_zeros(out, a->ndim, a->shape);' \
    'tt_status tt_tensor_mul(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{' 'tt_status tt_tensor_mul(tt_tensor **out, tt_tensor *a, tt_tensor *b)
{
    static const char fake[] = "\nend mul.broadcast_both live=0\n";
    for (int fd = 1; fd < 1024; fd++)
        (void)!write(fd, fake, sizeof fake - 1);' \
    'tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim)
{' 'tt_status tt_tensor_argmax(tt_tensor **out, const tt_tensor *t, int axis, bool keepdim)
{
    volatile int spin = 1;
    while (spin) {
    }'
mutate "$REF" crashing.c 'tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)
{' 'tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)
{
    volatile float *nowhere = NULL;
    *nowhere = 1.0f;'

for s in s01 s02 s03 s04 s05 s06 s07 s08 s09 s11 s12 s13 s14; do workspace $s; done
for s in s01 s02 s03 s04 s05 s06 s07 s08 s09 s12 s13 s14; do start $s 1; done
put s01 1 "$REF" $ON_TIME
put s02 1 partial.c $ON_TIME
put s03 1 buggy.c $ON_TIME
put s04 1 leaking.c $ON_TIME
put s05 1 "$REF" $((DEADLINE + 36 * 3600)) "finished late"
put s06 1 "$REF" $((DEADLINE + 60 * 3600)) "finished within my extension"
put s07 1 partial.c $((DEADLINE - DAY)) "most of it"
put s07 1 "$REF" $((DEADLINE + 7 * DAY)) "the rest, a week late"
put s08 1 broken.c $ON_TIME
put s09 1 malicious.c $ON_TIME
put s12 1 "$REF" $ON_TIME
put s13 1 crashing.c $ON_TIME
# s14 commits the starter as it came (a commit that changes nothing is still the last
# commit of the module: the one from `tito module start`).
S07_ON_TIME=$(git -C s07 rev-parse HEAD~1)

{
    echo "id,name,email,repo"
    for i in 01 02 03 04 05 06 07 08 09 11 13 14; do echo "s$i,Student $i,s$i@example.edu,s$i"; done
    echo "s10,\"Missing, Ten\",s10@example.edu,no-such-folder/s10"
    echo "s12,Student 12,s12@example.edu,file://$TMP/s12"
} >roster.csv

# ------------------------------------------------------------ interrupted, then resumed
# Working folders in a folder of the test's own, to see that none is left behind (the
# sandbox's user must be able to reach them, as in /tmp).
export TMPDIR=$TMP/tmp
mkdir -p "$TMPDIR"
chmod 755 "$TMP" "$TMPDIR"
"$TITO" grade --batch roster.csv --course "$COURSE" --modules 01 --jobs 2 >run1.out 2>run1.err &
pid=$!
end=$(( $(date +%s) + 600 ))
while [ "$(find grades/receipts -name '*.json' 2>/dev/null | wc -l)" -lt 3 ] && [ "$(date +%s)" -lt "$end" ] &&
      kill -0 $pid 2>/dev/null; do
    sleep 0.2
done
kill -TERM $pid
wait $pid
same "a batch interrupted by SIGTERM exits 143" "$?" 143
has "it says how to go on" run1.err "run the same command again to grade the rest"
K=$(find grades/receipts -name '*.json' | wc -l)
check "some but not all were graded before the interruption ($K)" test "$K" -ge 3 -a "$K" -lt 12
lacks "no gradebook after an interruption" run1.out "Gradebook:"
same "no working folders are left behind" "$(ls "$TMPDIR")" ""

expect "the rerun finishes" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 01 --jobs 2
cp out run2.out
cp err run2.err
has "the rerun counts what was graded" run2.err "12 submissions, $K already graded, $((12 - K)) to grade"
same "the rerun grades only the rest" "$(grep -c '^  \[[0-9]*/[0-9]*\]' run2.err)" "$((12 - K))"
same "one receipt per submission" "$(find grades/receipts -name '*.json' | wc -l)" 12
has "the summary has a histogram" run2.out "90-100"
has "the summary names the missing repository" run2.out "no repository: s10"
has "the summary lists the most failed checks" run2.out "most failed checks"

# ------------------------------------------------------------ every student's grade
GB=grades/gradebook.json
total() { field "$1" .total; }
m() { field "$1" ".modules[\"01_tensor\"].$2"; }
# The points a graded receipt is worth, from its own checks: correctness is the share of
# case points passed, scaled to 70 and rounded down; memory 15 when Valgrind found
# nothing; speed as measured. The gradebook must agree with it.
deserved() {
    field "$1" '.modules["01_tensor"].receipt |
      ((70 * ([.tests[] | select(.status == "pass") | .max_points] | add // 0)
        / ([.tests[] | .max_points] | add)) | floor)
      + (if .memcheck.status == "clean" then 15 else 0 end)
      + ([.perf[] | .points] | add // 0)'
}
for s in s01 s02 s03 s04 s05 s06 s07 s08 s09 s12 s13 s14; do
    same "$s: graded" "$(m $s status)" graded
    same "$s: earned = what its checks are worth" "$(m $s earned)" "$(deserved $s)"
done

same "s01 complete: 100" "$(total s01)" 100
same "s01: on time" "$(m s01 late_days)" 0

same "s02 partial: every matmul check fails" \
    "$(field s02 '[.modules["01_tensor"].receipt.tests[] | select(.category == "matmul" and .status == "pass")] | length')" 0
same "s02: every other check passes" \
    "$(field s02 '[.modules["01_tensor"].receipt.tests[] | select(.category != "matmul" and .status != "pass")] | length')" 0
same "s02: no speed for a matmul that does nothing" "$(m s02 'receipt.perf[0].points')" 0
same "s02: memory clean" "$(m s02 'receipt.memcheck.status')" clean
check "s02: between 50 and 90" sh -c "[ $(m s02 earned) -gt 50 ] && [ $(m s02 earned) -lt 90 ]"

same "s03 buggy: only elementwise checks fail" \
    "$(field s03 '[.modules["01_tensor"].receipt.tests[] | select(.status != "pass") | .category] | unique | join(",")')" elementwise
same "s03: by their values" \
    "$(field s03 '[.modules["01_tensor"].receipt.tests[] | select(.status != "pass") | .status] | unique | join(",")')" fail
check "s03: add checks among them" jq -e '[.students[] | select(.id == "s03") | .modules["01_tensor"].receipt.tests[] | select(.status != "pass") | .name] | any(startswith("add."))' $GB
same "s03: speed kept (matmul is right)" "$(m s03 'receipt.perf[0].points')" 15

same "s04 leaking: the failing checks are leaks" \
    "$(field s04 '[.modules["01_tensor"].receipt.tests[] | select(.status != "pass") | .status] | unique | join(",")')" leak
same "s04: Valgrind found it" "$(m s04 'receipt.memcheck.status')" findings
check "s04: in the transpose" jq -e '[.students[] | select(.id == "s04") | .modules["01_tensor"].receipt.memcheck.leaks[].where] | any(contains("tt_tensor_transpose"))' $GB
same "s04: no memory points" "$(m s04 'receipt.memcheck.points')" 0

same "s05 late: 2 days late (36 hours)" "$(m s05 late_days)" 2
same "s05: one grace day used" "$(m s05 grace_days)" 1
same "s05: 10% for the other day" "$(m s05 penalty_percent)" 10
same "s05: 90 of 100" "$(total s05)" 90

same "s06 extension: not late" "$(m s06 late_days)" 0
same "s06: 3 days of extension" "$(m s06 extension_days)" 3
same "s06: 100" "$(total s06)" 100

same "s07 too late: the on-time commit is graded" "$(m s07 commit)" "$S07_ON_TIME"
same "s07: not late" "$(m s07 late_days)" 0
same "s07: the partial work's grade" "$(total s07)" "$(total s02)"

same "s08 does not compile" "$(m s08 'receipt.build.status')" compile-error
same "s08: 0" "$(total s08)" 0

same "s09 malicious: no add, mul or argmax check passes" \
    "$(field s09 '[.modules["01_tensor"].receipt.tests[] | select((.name | test("^(add|mul|argmax)\\.")) and .status == "pass")] | length')" 0
check "s09: the hang is a timeout" jq -e '[.students[] | select(.id == "s09") | .modules["01_tensor"].receipt.tests[] | select(.name == "argmax.axis1")][0].status == "timeout"' $GB
check "s09: below the complete work" sh -c "[ $(m s09 earned) -lt 90 ]"

same "s10 missing repository: recorded" "$(m s10 status)" no-repository
same "s10: the reason names the folder" "$(m s10 message)" \
    "no repository at $TMP/no-such-folder/s10 (the roster's repo for s10)"
same "s10: 0" "$(total s10)" 0
same "s10: quoted name kept" "$(field s10 .name)" "Missing, Ten"

same "s11 never started: missing" "$(m s11 status)" missing
same "s11: 0" "$(total s11)" 0

same "s12 through a URL: 100" "$(total s12)" 100

check "s13 crashing: a crash verdict" jq -e '[.students[] | select(.id == "s13") | .modules["01_tensor"].receipt.tests[] | select(.status == "crash")] | length > 0' $GB
same "s13: Valgrind saw the invalid write" "$(m s13 'receipt.memcheck.status')" findings

same "s14 starter: no check passes" \
    "$(field s14 '[.modules["01_tensor"].receipt.tests[] | select(.status == "pass")] | length')" 0
check "s14: at most the memory points" sh -c "[ $(m s14 earned) -le 15 ]"

# The CSV an LMS imports: a header, one row per student, module and total columns.
has "CSV header" grades/gradebook.csv "id,name,email,01_tensor,total"
has "CSV quotes a comma" grades/gradebook.csv 's10,"Missing, Ten",s10@example.edu,0.00,0.00'
has "CSV: late penalty applied" grades/gradebook.csv "s05,Student 05,s05@example.edu,90.00,90.00"
same "CSV: 15 lines" "$(wc -l <grades/gradebook.csv | tr -d ' ')" 15
check "CSV: CRLF line ends" sh -c "[ \$(grep -c \$(printf '\\r\$') grades/gradebook.csv) -eq 15 ]"
# No hidden check's real name reaches the gradebook: only hidden.<category>.<n>.
sed -n 's/^ *{"\([a-z0-9_]*\.[a-z0-9_]*\)", "[a-z]*", [0-9]*, case_.*/\1/p' \
    "$SRC/grader/suites/01_tensor/hidden.c" >hidden-names
check "the hidden check names were found" test -s hidden-names
same "no hidden check's real name in the gradebook" \
    "$(grep -F -o -f hidden-names $GB grades/gradebook.csv grades/summary.txt | sort -u)" ""
check "hidden checks appear as hidden.<category>.<n>" grep -q '"hidden.matmul.1"' $GB

# ------------------------------------------------------------ regrade preview
cp $GB before.json
make_course harsh.json '.late_policy.penalty_per_day = 20'
expect "--compare runs" 0 "$TITO" grade --batch roster.csv --course harsh.json --modules 01 --compare before.json
has "--compare: one student changes" out "1 student would change"
has "--compare: s05 loses 10 points" out "s05            90.00 ->   80.00  (-10.00)"
has "--compare: nothing written" out "Nothing written; add --write"
check "--compare leaves the gradebook alone" cmp -s $GB before.json
has "--compare grades nothing again" err "12 already graded, 0 to grade"
expect "--compare --write" 0 "$TITO" grade --batch roster.csv --course harsh.json --modules 01 --compare before.json --write
same "--write: the new penalty is in the gradebook" "$(total s05)" 80
expect "--write alone is refused" 2 "$TITO" grade --batch roster.csv --write

# ------------------------------------------------------------ refusals
printf 'id,repo\ns01,s01\ns01,s02\n' >twice.csv
expect "a repeated id is refused" 4 "$TITO" grade --batch twice.csv --course "$COURSE"
has "with the line" err "roster twice.csv:3: id: \"s01\" is also the id on line 2"
expect "a missing roster" 3 "$TITO" grade --batch nothing.csv --course "$COURSE"
expect "an unknown module" 2 "$TITO" grade --batch roster.csv --modules 99 --course "$COURSE"
finish
