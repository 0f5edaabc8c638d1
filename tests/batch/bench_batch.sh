# tests/batch/bench_batch.sh: how many students `tito grade --batch` grades per minute on
# this machine, with the local pool at 1 and at 2 workers.
#
#   sh tests/batch/bench_batch.sh TITO SOURCE_DIR [STUDENTS]      (default 6 students)
#
# Each student is a workspace made with tito init and tito module start, whose module 01
# is the reference with a comment of its own (so every source, and every seed, differs
# as a class's would), committed before the deadline. Module 01 is graded in full: the
# build, the visible and hidden checks, Valgrind, speed by callgrind. The reference
# probes are linked once before the timed runs (a warm-up on one more student), so both
# runs start from the same cache; each timed run starts from an empty output folder
# (fresh clones, no receipts). The time is the whole command, fetch and gradebook
# included. Speed is never judged here: the figures are printed, nothing more.
. "$(dirname "$0")/lib.sh"
N=${3:-${BENCH_STUDENTS:-6}}

COURSE=$TMP/course.json
make_course "$COURSE"
i=0
while [ $i -le "$N" ]; do
    s=b$i
    workspace $s
    start $s 1
    { cat "$(reference 1)"; echo "/* student $s */"; } >$s.c
    put $s 1 $s.c $((DEADLINE - DAY))
    i=$((i + 1))
done
echo "id,repo" >warmup.csv
echo "b0,b0" >>warmup.csv
echo "id,repo" >roster.csv
i=1
while [ $i -le "$N" ]; do echo "b$i,b$i" >>roster.csv; i=$((i + 1)); done

"$TITO" grade --batch warmup.csv --course "$COURSE" --modules 01 --jobs 1 --out warm --quiet \
    >/dev/null 2>&1 || fail "warm-up run"

now() { date +%s.%N; }
for w in 1 2; do
    t0=$(now)
    if "$TITO" grade --batch roster.csv --course "$COURSE" --modules 01 --jobs $w --out out$w --quiet \
        >run$w.out 2>run$w.err; then
        t1=$(now)
        graded=$(jq '[.students[].modules[] | select(.status == "graded")] | length' out$w/gradebook.json)
        same "$w worker(s): every student graded" "$graded" "$N"
        awk -v n="$N" -v w="$w" -v a="$t0" -v b="$t1" 'BEGIN {
            printf "batch grading, module 01 in full, %d students, %d worker%s: %.1f s, %.2f students per minute\n",
                   n, w, w == 1 ? "" : "s", b - a, n * 60 / (b - a) }' | tee -a rates
    else
        fail "$w worker(s): the batch failed"
        sed 's/^/    /' run$w.err
    fi
done
check "the two runs agree" cmp out1/gradebook.json out2/gradebook.json
echo "load average when done: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
finish
