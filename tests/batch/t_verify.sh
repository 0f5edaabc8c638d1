# tests/batch/t_verify.sh: `tito course verify`, against a list of claims and against a
# real tito-leaderboard (LB_SERVER) on loopback.
#
# Two students grade module 02 themselves and submit: Ada honestly (the reference), Grace
# after raising the score in her receipt to full marks (her softmax is missing). The
# instructor's verify regrades both at the commits they name: Ada's is verified and sent
# signed with the course key (the ranking then shows it verified), Grace's is a mismatch,
# listed and not sent. A file of claims checks the other outcomes without a server: a
# student not in the roster, a commit the repository does not have, a wrong score.
#
# Run as `LB_SERVER=... sh t_verify.sh TITO SOURCE_DIR` (ctest: batch.verify).
. "$(dirname "$0")/lib.sh"
leaderboard_up
unsolve "$(reference 2)" partial.c tt_softmax
for who in ada grace; do
    mkdir -p $who
    (HOME=$TMP/$who && export HOME && cd $who && "$TITO" init ws >/dev/null) || fail "init $who"
    as $who "$TITO" module start 02 >/dev/null || fail "module start $who"
done
put ada/ws 2 "$(reference 2)" "$NOW"
put grace/ws 2 partial.c "$NOW"
expect "ada grades 02" 0 as ada "$TITO" grade 02
expect "grace grades 02" 1 as grace "$TITO" grade 02
ADA_COMMIT=$(jq -r .provenance.commit ada/ws/.tito/results/02_activations.json)
GRACE_COMMIT=$(jq -r .provenance.commit grace/ws/.tito/results/02_activations.json)
same "the receipt names the commit graded" "$(git -C grace/ws cat-file -t "$GRACE_COMMIT")" commit
GRACE_EARNED=$(jq .score.earned grace/ws/.tito/results/02_activations.json)
check "grace did not earn full marks" test "$GRACE_EARNED" -lt 100
# Grace raises her score before she submits.
jq '.score.earned = .score.possible' grace/ws/.tito/results/02_activations.json >forged.json &&
    cp forged.json grace/ws/.tito/results/02_activations.json
for who in ada grace; do
    token=$TOKEN_ADA
    [ $who = grace ] && token=$TOKEN_GRACE
    expect "$who logs in" 0 as $who "$TITO" login "$URL" "$token" --name $who
    expect "$who submits 02" 0 as $who "$TITO" submit 02
done
KEY_ADA=$(jq -r .key_id ada/.config/tito/identity.json)
KEY_GRACE=$(jq -r .key_id grace/.config/tito/identity.json)
ranking() { curl -s "$URL/api/v1/courses/$LBCOURSE/ranking"; }
same "the leaderboard has Grace at 100, self-reported" \
    "$(ranking | jq -r '.students[] | select(.name == "grace") | .modules["02_activations"] | "\(.earned) \(.status)"')" \
    "100 self-reported"

printf 'id,name,repo,key_id\nada,Ada,ada/ws,%s\ngrace,Grace,grace/ws,%s\n' "$KEY_ADA" "$KEY_GRACE" >roster.csv

# ------------------------------------------------------------ against the leaderboard
# Stopped half-way (SIGTERM after the first regrade, one worker): nothing is published,
# the run says how to go on, and the next run starts from the receipts made so far.
"$TITO" course verify --roster roster.csv --key course.key --server "$URL" --jobs 1 \
    >stopped.out 2>stopped.err &
pid=$!
end=$(( $(date +%s) + 300 ))
while [ "$(find grades/receipts -name '*.json' 2>/dev/null | wc -l)" -lt 1 ] &&
      [ "$(date +%s)" -lt "$end" ] && kill -0 $pid 2>/dev/null; do
    sleep 0.2
done
kill -TERM $pid
wait $pid
same "verify stopped by SIGTERM exits 143" "$?" 143
has "verify stopped: nothing published" stopped.err "nothing published; run the same command again to go on"
same "verify stopped: Ada is still self-reported" \
    "$(ranking | jq -r '.students[] | select(.name == "ada") | .modules["02_activations"].status')" \
    "self-reported"

expect "verify: one mismatch, so exit 1" 1 "$TITO" course verify --roster roster.csv --key course.key --server "$URL"
cp out verify1.out
has "two claims" err "2 self-reported results to check"
check "Ada's verified and sent" grep -Eq "verified +ada +02_activations +${ADA_COMMIT%"${ADA_COMMIT#???????}"}.*regraded 100/100 +sent" verify1.out
check "Grace's a mismatch, with both scores" grep -Eq "mismatch +grace +02_activations .*claimed 100/100 +regraded +$GRACE_EARNED/100" verify1.out
has "the counts" verify1.out "1 verified, 1 mismatch, 0 unknown students, 0 not checkable, 0 not graded"
has "one sent" verify1.out "1 verification sent to $URL"
same "the leaderboard: Ada verified" \
    "$(ranking | jq -r '.students[] | select(.name == "ada") | .modules["02_activations"].status')" verified
same "the leaderboard: Grace still self-reported" \
    "$(ranking | jq -r '.students[] | select(.name == "grace") | .modules["02_activations"].status')" self-reported
same "the regrades went to the shared receipts" "$(find grades/receipts -name '*.json' | wc -l | tr -d ' ')" 2

expect "verify again: only Grace's is left" 1 "$TITO" course verify --roster roster.csv --key course.key --server "$URL"
has "one claim" err "1 self-reported result to check"
lacks "nothing regraded" err "regraded grace"

expect "--dry-run sends nothing" 1 "$TITO" course verify --roster roster.csv --key course.key --server "$URL" --dry-run
has "--dry-run: says so" out "nothing sent"

# ------------------------------------------------------------ a file of claims
cat >claims.json <<EOF
{"schema": "tito-claims/1", "claims": [
  {"student": "ada", "module": "02_activations", "commit": "$ADA_COMMIT", "earned": 100, "possible": 100},
  {"key_id": "$KEY_GRACE", "module": "02_activations", "commit": "$GRACE_COMMIT", "earned": $GRACE_EARNED, "possible": 100},
  {"student": "ada", "module": "02_activations", "commit": "$ADA_COMMIT", "earned": 90, "possible": 100},
  {"student": "bob", "module": "02_activations", "commit": "$ADA_COMMIT", "earned": 100, "possible": 100},
  {"student": "ada", "module": "02_activations", "commit": "0123456789abcdef0123456789abcdef01234567", "earned": 100, "possible": 100},
  {"student": "grace", "module": "04_losses", "commit": "$GRACE_COMMIT", "earned": 100, "possible": 100}
]}
EOF
expect "claims from a file" 1 "$TITO" course verify --roster roster.csv --claims claims.json --out grades
has "all six" out "2 verified (nothing sent: --key FILE sends them), 1 mismatch, 1 unknown student, 2 not checkable, 0 not graded"
check "the wrong score" grep -Eq "mismatch +ada .*claimed  90/100 +regraded 100/100" out
has "the unknown student" out "no student of the roster has this id"
has "the commit nobody has" out "commit 0123456789ab is not in the student's repository"
has "the module never committed" out "has no modules/04_losses/losses.c"
expect "--tolerance 10 accepts the wrong score" 1 "$TITO" course verify --roster roster.csv --claims claims.json --out grades --tolerance 10
has "three verified" out "3 verified"

printf '{"schema": "tito-claims/1", "claims": [{"module": "02_activations", "commit": "%s", "earned": 1, "possible": 2}]}\n' "$ADA_COMMIT" >bad.json
expect "a claim without a student is refused" 4 "$TITO" course verify --roster roster.csv --claims bad.json
has "saying which" err "claims bad.json: claims[0]: a student or a key_id is required"
expect "no leaderboard and no claims" 2 "$TITO" course verify --roster roster.csv
echo '{"schema": "tito-course-key/1"}' >badkey.json
expect "a bad course key" 4 "$TITO" course verify --roster roster.csv --key badkey.json --server "$URL"
stop_server
finish
