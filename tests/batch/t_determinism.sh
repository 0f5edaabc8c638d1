# tests/batch/t_determinism.sh: the same roster graded twice from scratch (new output
# folders, new clones, new working folders, one worker then two) gives byte-identical
# gradebooks, speed scores included: batch speed is counted in instructions, and
# nothing of the run (dates, paths, timings) is in the gradebook.
#
# The roster has work whose grade could wobble if anything depended on the machine:
# the complete reference (speed points by its instruction ratio), a leak (Valgrind's
# findings), a crash (a restart after the crashing case), and a slow kernel (a matmul
# without packing or vectorization: a lower ratio, measured the same twice).
#
# Run as `sh t_determinism.sh TITO SOURCE_DIR` (ctest: batch.determinism).
. "$(dirname "$0")/lib.sh"

COURSE=$TMP/course.json
make_course "$COURSE"
REF=$(reference 1)
mutate "$REF" leaking.c '    result->shape[d0] = t->shape[d1];' \
    '    void *volatile lost = tt_malloc(24);
    (void)lost;
    result->shape[d0] = t->shape[d1];'
mutate "$REF" crashing.c 'tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)
{' 'tt_status tt_tensor_sum_all(tt_tensor **out, tt_tensor *t)
{
    volatile float *nowhere = NULL;
    *nowhere = 1.0f;'
# Every matmul through the small-matrix path, unvectorized: the same sums, slower.
mutate "$REF" slow.c '    if ((double)m * (double)n * (double)k >= MM_SMALL) {' '    if (0) {' \
    '            if (b_cs == 1) {' '            if (0) {'

for s in d1 d2 d3 d4; do workspace $s; start $s 1; done
put d1 1 "$REF" $((DEADLINE - DAY))
put d2 1 leaking.c $((DEADLINE - DAY))
put d3 1 crashing.c $((DEADLINE - DAY))
put d4 1 slow.c $((DEADLINE - DAY))
printf 'id,name,repo\nd1,Complete,d1\nd2,Leaking,d2\nd3,Crashing,d3\nd4,Slow,d4\n' >roster.csv

expect "first run, one worker" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 01 --jobs 1 --out first
expect "second run, two workers" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 01 --jobs 2 --out second
check "the same gradebook.json" cmp first/gradebook.json second/gradebook.json
check "the same gradebook.csv" cmp first/gradebook.csv second/gradebook.csv
same "4 students graded" "$(jq '[.students[].modules[] | select(.status == "graded")] | length' first/gradebook.json)" 4
check "speed measured by instructions" jq -e '[.students[].modules[].receipt.perf[0].unit] | all(. == "x reference instructions")' first/gradebook.json
ratio() { field "$1" '.modules["01_tensor"].receipt.perf[0].ratio' first/gradebook.json; }
check "the slow kernel measures slower than the complete one" \
    awk -v a="$(ratio d4)" -v b="$(ratio d1)" 'BEGIN { exit !(a + 0 < b + 0) }'

check "the leak is found" jq -e '.students[] | select(.id == "d2") | .modules["01_tensor"].receipt.memcheck.status == "findings"' first/gradebook.json
# The receipts themselves differ only in when they were made and how long it took.
for s in d1 d2 d3 d4; do
    a=$(find first/receipts/$s -name '*.json') b=$(find second/receipts/$s -name '*.json')
    same "$s: receipts of the same name" "${a#first/}" "${b#second/}"
    same "$s: receipts the same but for time" \
        "$(jq -S 'del(.created_at, .timings)' "$a" | md5sum)" "$(jq -S 'del(.created_at, .timings)' "$b" | md5sum)"
done
finish
