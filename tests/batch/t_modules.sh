# tests/batch/t_modules.sh: a roster graded on three modules at once (01, 02, 04, each
# with its own deadline), so that grace days are spent across modules in deadline
# order, penalties follow, and the gradebook has a column per module and the weighted
# total.
#
#   m1  every module on time: 100 everywhere
#   m2  01 a few hours late (the one grace day), 02 a day and a half late (2 days at
#       10%), 04 never committed (missing): (100 + 80 + 0) / 3 = 60
#   m3  02 on time only, on a branch of its own named in the roster; 01 committed only
#       on another branch: missing
#
# Run as `sh t_modules.sh TITO SOURCE_DIR` (ctest: batch.modules).
. "$(dirname "$0")/lib.sh"

COURSE=$TMP/course.json
make_course "$COURSE"
D1=$DEADLINE D2=$((DEADLINE + 7 * DAY)) D4=$((DEADLINE + 14 * DAY))

workspace m1
for n in 1 2 4; do start m1 $n; done
put m1 1 "$(reference 1)" $((D1 - DAY))
put m1 2 "$(reference 2)" $((D2 - DAY))
put m1 4 "$(reference 4)" $((D4 - DAY))

workspace m2
for n in 1 2 4; do start m2 $n; done
# 04's starter is committed by `module start` (before every deadline): a student who
# only started it gets the starter graded; to be "missing" the module must never be
# committed, so m2 removes it again before its deadline.
git -C m2 rm -q -r modules/04_losses
GIT_COMMITTER_DATE="@$((D4 - 2 * DAY)) +0000" git -C m2 commit -q -m "not doing 04"
put m2 1 "$(reference 1)" $((D1 + 5 * 3600)) "01, a little late"
put m2 2 "$(reference 2)" $((D2 + 36 * 3600)) "02, later"

workspace m3
git -C m3 checkout -q -b work
start m3 2
put m3 2 "$(reference 2)" $((D2 - DAY))
git -C m3 checkout -q -b other
start m3 1
put m3 1 "$(reference 1)" $((D1 - DAY))
git -C m3 checkout -q main 2>/dev/null || git -C m3 checkout -q master

printf 'id,name,repo,branch\nm1,One,m1,\nm2,Two,m2,\nm3,Three,m3,work\n' >roster.csv
expect "three modules graded" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 01,02,04 --jobs 2
has "the count" err "3 students x 3 modules (01_tensor 02_activations 04_losses): 6 submissions"
m() { field "$1" ".modules[\"$2\"].$3"; }

same "m1: 100" "$(field m1 .total)" 100
for s in 01_tensor 02_activations 04_losses; do
    same "m1 $s: on time, 100" "$(m m1 $s late_days) $(m m1 $s percent)" "0 100"
done

same "m2 01: one day late" "$(m m2 01_tensor late_days)" 1
same "m2 01: the grace day" "$(m m2 01_tensor grace_days) $(m m2 01_tensor penalty_percent)" "1 0"
same "m2 02: two days late" "$(m m2 02_activations late_days)" 2
same "m2 02: no grace left, 20%" "$(m m2 02_activations grace_days) $(m m2 02_activations penalty_percent)" "0 20"
same "m2 02: 80" "$(m m2 02_activations percent)" 80
same "m2 04: missing" "$(m m2 04_losses status)" missing
same "m2: (100 + 80 + 0) / 3" "$(field m2 .total)" 60
same "m2: one grace day used in all" "$(field m2 .grace_days_used)" 1

same "m3 01: on another branch, missing" "$(m m3 01_tensor status)" missing
same "m3 02: graded from the roster's branch" "$(m m3 02_activations percent)" 100
same "m3: the branch's tip" "$(field m3 .tip)" "$(git -C m3 rev-parse work)"
same "m3: 100 / 3" "$(field m3 .total)" 33.33

has "CSV: a column per module" grades/gradebook.csv "id,name,email,01_tensor,02_activations,04_losses,total"
has "CSV: m2's row" grades/gradebook.csv "m2,Two,,100.00,80.00,0.00,60.00"

# A roster branch that does not exist: recorded for that student, the rest graded.
printf 'id,repo,branch\nm1,m1,\nm3,m3,nope\n' >bad-branch.csv
expect "a missing branch does not stop the batch" 0 "$TITO" grade --batch bad-branch.csv --course "$COURSE" --modules 02 --out other
same "the student without the branch" "$(field m3 '.modules["02_activations"].status' other/gradebook.json)" no-repository
same "why" "$(field m3 .fetch_message other/gradebook.json)" 'the repository has no branch "nope"'
same "the other student is graded" \
    "$(field m1 '.modules["02_activations"].percent' other/gradebook.json)" 100

# A second run fetches again: a commit pushed since is seen.
{ cat "$(reference 2)"; echo "/* checked again */"; } >again.c
{ cat "$(reference 2)"; echo "/* and again */"; } >again2.c
put m1 2 again.c $((D2 - 3600)) "touch 02 again"
expect "a later run" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 02 --jobs 1
same "the new commit is graded" "$(m m1 02_activations commit)" "$(git -C m1 rev-parse HEAD)"
has "only it" err "3 submissions, 2 already graded, 1 to grade"
# ... and --no-fetch grades the copies as they were.
put m1 2 again2.c $((D2 - 1800)) "and again"
expect "--no-fetch" 0 "$TITO" grade --batch roster.csv --course "$COURSE" --modules 02 --no-fetch
has "--no-fetch: nothing new" err "3 submissions, 3 already graded, 0 to grade"
finish
