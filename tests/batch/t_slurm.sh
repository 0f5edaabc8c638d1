# tests/batch/t_slurm.sh: `tito grade --batch --engine slurm` on a real, throwaway
# single-node Slurm (slurmctld, slurmd, munge) that this test starts and stops
# (slurm-single-node.sh; the packages are installed when missing; needs root).
#
# The batch submits an array job whose tasks grade their slices of OUT/plan.json into the
# shared OUT; the submitting tito waits (sbatch --wait) and writes the gradebook. It must
# be the gradebook the local engine makes of the same roster, byte for byte; a second
# Slurm run has nothing left to grade and submits nothing.
#
# Run as `sh t_slurm.sh TITO SOURCE_DIR` (ctest: batch.slurm, label slurm; exit 77 =
# skipped when not root).
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "skipped: a throwaway Slurm needs root"
    exit 77
fi

export SLURM_CI_DIR=$TMP/slurmci SLURM_CI_OUT=$TMP/slurmtest
slurm_down() { bash "$HERE/slurm-single-node.sh" down >"$TMP/slurm-down.log" 2>&1; }
trap 'slurm_down; rm -rf "$TMP"' EXIT
# The tasks run as root in their own folders; what they share is OUT.
chmod 755 "$TMP"

COURSE=$TMP/course.json
make_course "$COURSE"
for s in a1 a2 a3; do workspace $s; start $s 2; done
put a1 2 "$(reference 2)" $((DEADLINE))
put a2 2 "$(reference 2)" $((DEADLINE + 7 * DAY + 2 * 3600)) "a little late"
unsolve "$(reference 2)" partial.c tt_softmax
put a3 2 partial.c $((DEADLINE))
printf 'id,name,repo\na1,One,a1\na2,Two,a2\na3,Three,a3\na4,Four,no-such-repo\n' >roster.csv

if ! bash "$HERE/slurm-single-node.sh" up >slurm-up.log 2>&1; then
    fail "a single-node Slurm did not start:"
    sed 's/^/    /' slurm-up.log
    finish
fi
ok "a single-node Slurm is up"

expect "the batch through Slurm" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 02 \
    --engine slurm --out on-slurm
has "it went to Slurm" err "Submitting an array job with sbatch --wait"
has "and came back" err "Slurm: 3 graded, 0 not graded"
check "the job script" test -x on-slurm/slurm/job.sh
check "the job script runs worker slices" grep -q -- '--worker-slice "$SLURM_ARRAY_TASK_ID/3"' on-slurm/slurm/job.sh
same "one log per task" "$(ls on-slurm/slurm/task-*.log | wc -l | tr -d ' ')" 3
check "each task graded its slice" sh -c 'cat on-slurm/slurm/task-*.log | grep -c "1 graded, 0 not graded" | grep -qx 3'
same "a1: 100" "$(field a1 .total on-slurm/gradebook.json)" 100
same "a2: late, 1 grace day" "$(field a2 '.modules["02_activations"] | "\(.late_days) \(.grace_days) \(.percent)"' on-slurm/gradebook.json)" "1 1 100"
check "a3: softmax missing" jq -e '.students[] | select(.id == "a3") | .total < 100 and .total > 0' on-slurm/gradebook.json
same "a4: no repository" "$(field a4 '.modules["02_activations"].status' on-slurm/gradebook.json)" no-repository

expect "nothing left: no job" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 02 \
    --engine slurm --out on-slurm
has "nothing to grade" err "3 already graded, 0 to grade"
lacks "nothing submitted" err "Submitting"

expect "the same roster on the local pool" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 02 \
    --out local
check "the same gradebook from both engines" cmp on-slurm/gradebook.json local/gradebook.json
check "the same CSV" cmp on-slurm/gradebook.csv local/gradebook.csv

# sbatch refusing the job is an error that says so (an account that does not exist).
rm -rf on-slurm/receipts
expect "a refused job" 3 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 02 \
    --engine slurm --out on-slurm --sbatch-args "--partition=no-such-partition"
has "with sbatch's words" err "sbatch did not accept the job"

slurm_down
check "Slurm stopped" test ! -d "$SLURM_CI_DIR"
finish
