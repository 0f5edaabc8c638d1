#!/bin/sh
# tests/batch/t_verify_milestone.sh: `tito course verify` on milestone claims, against a
# real tito-leaderboard (LB_SERVER) on loopback.
#
# Two students run milestone 1 themselves and submit it. Ada has the reference
# solutions of modules 01-07 and reaches it. Grace's optimizer step is not written, so
# her run has no result; she edits her receipt to say she reached it. The instructor's
# verify runs milestone 1 on each student's modules at the commit they name: Ada's claim
# is verified and sent signed (the ranking then shows it verified), Grace's is a
# mismatch with the reason, and is not sent. A file of claims checks a milestone claim
# that is no milestone and one at a commit the repository does not have.
#
# Run as `LB_SERVER=... sh t_verify_milestone.sh TITO SOURCE_DIR` (ctest:
# batch.verify_milestone).
. "$(dirname "$0")/lib.sh"
leaderboard_up
unsolve "$(reference 6)" no-step.c tt_optimizer_step
for who in ada grace; do
    mkdir -p $who
    (HOME=$TMP/$who && export HOME && cd $who && "$TITO" init ws >/dev/null) || fail "init $who"
    for n in 1 2 3 4 5 6 7; do
        as $who "$TITO" module start $n >/dev/null || fail "module start $n for $who"
        file=$(reference $n)
        [ $who = grace ] && [ $n = 6 ] && file=no-step.c
        put $who/ws $n "$file" "$NOW"
    done
done
expect "ada runs milestone 1: reached" 0 as ada "$TITO" milestone run 1 --trials 1
expect "grace runs milestone 1: no result" 1 as grace "$TITO" milestone run 1 --trials 1
R=.tito/results/milestone_01.json
same "grace's receipt says no-result" "$(jq -r .outcome grace/ws/$R)" no-result
# Grace says she reached it, every bar met at its value.
jq '.outcome = "reached" | .reached = true | .bars |= map(.met = true | .value = .bar)' \
    grace/ws/$R >forged.json && cp forged.json grace/ws/$R
ADA_COMMIT=$(jq -r .provenance.commit ada/ws/$R)
GRACE_COMMIT=$(jq -r .provenance.commit grace/ws/$R)
for who in ada grace; do
    token=$TOKEN_ADA
    [ $who = grace ] && token=$TOKEN_GRACE
    expect "$who logs in" 0 as $who "$TITO" login "$URL" "$token" --name $who
    expect "$who submits milestone 1" 0 as $who "$TITO" submit milestone_01
done
KEY_ADA=$(jq -r .key_id ada/.config/tito/identity.json)
KEY_GRACE=$(jq -r .key_id grace/.config/tito/identity.json)
ranking() { curl -s "$URL/api/v1/courses/$LBCOURSE/ranking"; }
milestone_of() {
    ranking | jq -r --arg who "$1" '.students[] | select(.name == $who) | .milestones["01_perceptron"] | "\(.reached) \(.status)"'
}
same "the leaderboard: Grace reached, self-reported" "$(milestone_of grace)" "true self-reported"

printf 'id,name,repo,key_id\nada,Ada,ada/ws,%s\ngrace,Grace,grace/ws,%s\n' "$KEY_ADA" "$KEY_GRACE" >roster.csv

expect "verify: one mismatch, so exit 1" 1 "$TITO" course verify --roster roster.csv --key course.key --server "$URL"
cp out verify.out
has "two claims" err "2 self-reported results to check"
has "a line before each run" err "running milestone 01_perceptron on grace's modules at ${GRACE_COMMIT%"${GRACE_COMMIT#???????}"}"
check "and one after, with its time" grep -Eq "milestone 01_perceptron for ada at ${ADA_COMMIT%"${ADA_COMMIT#???????}"}: reached \([0-9.]+ s\)" err
check "Ada's verified and sent" \
    grep -Eq "verified +ada +01_perceptron +${ADA_COMMIT%"${ADA_COMMIT#???????}"} +claimed reached +regraded reached +sent" verify.out
check "Grace's a mismatch, saying why" \
    grep -Eq "mismatch +grace +01_perceptron +${GRACE_COMMIT%"${GRACE_COMMIT#???????}"} +claimed reached +regraded not reached +the run: no-result: .*it said: .*tt_optimizer_step" verify.out
has "the counts" verify.out "1 verified, 1 mismatch, 0 unknown students, 0 not checkable, 0 not graded"
has "one sent" verify.out "1 verification sent to $URL"
same "the leaderboard: Ada verified" "$(milestone_of ada)" "true verified"
same "the leaderboard: Grace still self-reported" "$(milestone_of grace)" "true self-reported"
same "nothing left behind in grades/milestones" "$(ls grades/milestones)" ""

# ------------------------------------------------------------ a file of claims
cat >claims.json <<EOF
{"schema": "tito-claims/1", "claims": [
  {"student": "ada", "milestone": "01_perceptron", "commit": "$ADA_COMMIT", "reached": true},
  {"student": "grace", "milestone": "01_perceptron", "commit": "$GRACE_COMMIT", "reached": false},
  {"student": "ada", "milestone": "01_perceptron", "commit": "0123456789abcdef0123456789abcdef01234567", "reached": true},
  {"student": "ada", "milestone": "01_perceptron", "commit": "$ADA_COMMIT", "reached": false}
]}
EOF
expect "milestone claims from a file" 1 "$TITO" course verify --roster roster.csv --claims claims.json
has "two verified, a mismatch, one not checkable" out "2 verified (nothing sent: --key FILE sends them), 1 mismatch, 0 unknown students, 1 not checkable, 0 not graded"
check "understating is a mismatch too" grep -Eq "mismatch +ada +01_perceptron .* claimed not reached +regraded reached +the run: reached" out
has "the commit nobody has" out "commit 0123456789ab is not in the student's repository"
printf '{"schema": "tito-claims/1", "claims": [{"student": "ada", "milestone": "09_nothing", "commit": "%s", "reached": true}]}\n' "$ADA_COMMIT" >bad.json
expect "a milestone this tito does not have is refused" 4 "$TITO" course verify --roster roster.csv --claims bad.json
has "saying which" err "claims bad.json: claims[0]: milestone: not a milestone slug of this tito"
stop_server
finish
