#!/bin/sh
# tito milestone list | run N | status, end to end: a workspace whose modules are the
# reference solutions reaches milestones 1-3 (progress, receipts, commits); a planted
# autograd bug makes milestone 3 miss its accuracy bar, saying by how much and why, also
# when code in the module forges the result file; code that removes the saved
# parameters leaves no result; a module that does not compile, a function not written yet, a module not started and
# bad milestone numbers are each refused or reported as such.
. "$(dirname "$0")/lib.sh"
need_jq

gitc() { git -c user.name=t -c user.email=t@example.org "$@"; }

# How many milestones the table has, and the last one's slug (later milestones join it).
n_ms=$(sed -n 's/^TT_MILESTONE(\([0-9]*\),.*/\1/p' "$SRC/milestones/milestones.def" | sort -u | wc -l | tr -d ' ')
last_ms=$(sed -n 's/^TT_MILESTONE([0-9]*, "\([^"]*\)".*/\1/p' "$SRC/milestones/milestones.def" | tail -1)

# Outside a workspace: the table, no state.
expect "list outside a workspace" 0 "$TITO" milestone list
has "list: milestone 1" "$TMP/out" "1957"
has "list: milestone 3's title" "$TMP/out" "Backpropagation: a multi-layer perceptron reads digits"
has "list: the bars" "$TMP/out" "bars: test accuracy ≥ 90%, min weight change ≥ 0.01"
has "list: says how to get a workspace" "$TMP/out" "Not in a workspace"
expect "run outside a workspace" 2 "$TITO" milestone run 1
has "run outside: says why" "$TMP/err" "not inside a tito workspace"

"$TITO" init ws >/dev/null 2>&1 || { fail "init"; finish; }
cd ws || exit 1
for n in 1 2 3 4 5 6 7; do
    "$TITO" module start "$n" >/dev/null 2>&1 || fail "module start $n"
done
for n in 1 2 3 4 5 6 7 8; do
    s=$(slug_of "$n") name=$(name_of "$n")
    cp "$SRC/reference/src/$name.c" "$TMP/ref-$name.c"
done
for n in 1 2 3 4 5 6 7; do
    cp "$TMP/ref-$(name_of "$n").c" "modules/$(slug_of "$n")/$(name_of "$n").c"
done
gitc commit -qam "paste the reference solutions of modules 01-07" || fail "commit 01-07"

# Milestone 3 needs module 08, which is not started: refused, naming it.
expect "list with 08 not started" 0 "$TITO" milestone list
grep "^  3 " "$TMP/out" >"$TMP/line.txt"
has "list: 3 is locked" "$TMP/line.txt" "locked"
has "list: 3 needs 08" "$TMP/out" "needs module 08: \`tito module start 08\`"
grep "^  1 " "$TMP/out" >"$TMP/line.txt"
has "list: 1 is not yet reached" "$TMP/line.txt" "not yet"
expect "list --json" 0 "$TITO" milestone list --json
same "list --json: every milestone" "$(jq '.milestones | length' "$TMP/out")" "$n_ms"
same "list --json: 3 locked" "$(jq -r '.milestones[2].state' "$TMP/out")" locked
same "list --json: 3 misses 08" "$(jq -r '.milestones[2].missing_modules | join(",")' "$TMP/out")" \
    "$(slug_of 8)"
same "list --json: 3 links 01-08" "$(jq -r '.milestones[2].modules | length' "$TMP/out")" 8
before=$(git rev-list --count HEAD)
expect "run 3 without module 08: refused" 1 "$TITO" milestone run 3
has "refused: names 08" "$TMP/err" "module 08 ($(name_of 8)) is not started: \`tito module start 08\`"
has "refused: says which modules it links" "$TMP/err" "links your modules 01–08"
same "refused: no commit" "$(git rev-list --count HEAD)" "$before"
refute "refused: no receipt" test -e .tito/results/milestone_03.json

# Milestone numbers that do not exist, and bad command lines.
expect "run 0" 2 "$TITO" milestone run 0
has "run 0: which exist" "$TMP/err" "no milestone '0': milestones are 1..$n_ms"
expect "run 9" 2 "$TITO" milestone run 9
has "run 9: which exist" "$TMP/err" "no milestone '9': milestones are 1..$n_ms (01_perceptron .. $last_ms)"
expect "run abc" 2 "$TITO" milestone run abc
has "run abc: which exist" "$TMP/err" "no milestone 'abc'"
expect "run -1" 2 "$TITO" milestone run -1
has "run -1: a wrong number, not an option" "$TMP/err" "no milestone '-1': milestones are 1..$n_ms"
expect "run without N" 2 "$TITO" milestone run
has "run without N: asks which" "$TMP/err" "which milestone? \`tito milestone run N\`"
expect "run two milestones" 2 "$TITO" milestone run 1 2
has "run 1 2: names the extra" "$TMP/err" "unexpected argument '2'"
expect "run 1 --trials 0" 2 "$TITO" milestone run 1 --trials 0
has "--trials 0: the range" "$TMP/err" "--trials expects a number from 1 to 9, not '0'"
same "bad numbers: no commit" "$(git rev-list --count HEAD)" "$before"

"$TITO" module start 8 >/dev/null 2>&1 || fail "module start 8"
cp "$TMP/ref-$(name_of 8).c" "modules/$(slug_of 8)/$(name_of 8).c"
gitc commit -qam "paste the reference solution of module 08" || fail "commit 08"

# The reference solutions reach every milestone.
for n in 1 3; do
    expect "run $n with the reference solutions" 0 "$TITO" milestone run "$n"
    has "run $n: the history note" "$TMP/out" "Milestone $n · "
    has "run $n: trains on the student's modules" "$TMP/out" "train  on your modules"
    has "run $n: reached" "$TMP/out" "Milestone $n reached."
    has "run $n: a bar met" "$TMP/out" "✓"
    lacks "run $n: no bar missed" "$TMP/out" "✗"
    has "run $n: the time ratio" "$TMP/out" "the reference's speed"
    # A training of a second or less: three runs each by default.
    has "run $n: medians" "$TMP/out" "(medians of 3 runs)"
    has "run $n: the receipt" "$TMP/out" "Receipt: .tito/results/milestone_0$n.json"
    r=.tito/results/milestone_0$n.json
    check "run $n: the receipt exists" test -f "$r"
    same "run $n: receipt schema" "$(jq -r '.schema + " " + .kind' "$r")" "tito-receipt/1 milestone"
    same "run $n: receipt milestone" "$(jq -r '.milestone' "$r")" "$n"
    same "run $n: receipt reached" "$(jq -r '.outcome + " " + (.reached | tostring)' "$r")" "reached true"
    same "run $n: every bar met" "$(jq '[.bars[] | select(.met | not)] | length' "$r")" 0
    same "run $n: provenance commit" "$(jq -r '.provenance.commit' "$r")" "$(git rev-parse HEAD~1)"
    same "run $n: clean" "$(jq -r '.provenance.dirty' "$r")" false
    same "run $n: committed" "$(git log -1 --format=%s)" \
        "tito: milestone $n reached ($(jq -r '.slug' "$r"))"
    same "run $n: the commit holds progress and receipt only" \
        "$(git show --name-only --format= HEAD | sort | tr '\n' ' ')" ".tito/progress.json $r "
    check "run $n: progress records it" \
        jq -e ".milestones[\"$(jq -r '.slug' "$r")\"].reached_at | test(\"^20\")" .tito/progress.json
done
expect "run 2 --json --trials 1" 0 "$TITO" milestone run 02_xor --json --trials 1
same "run 2 --trials 1: one run each" "$(jq '.time.trials' "$TMP/out")" 1
same "run 2 --json: the receipt on stdout" "$(jq -r '.kind + " " + .outcome' "$TMP/out")" "milestone reached"
same "run 2 --json: three bars" "$(jq '.bars | length' "$TMP/out")" 3
same "run 2 --json: the upper bar" "$(jq -r '.bars[0].comparison' "$TMP/out")" "<="
check "run 2 --json: the receipt written" test -f .tito/results/milestone_02.json

expect "status" 0 "$TITO" milestone status
has "status: all reached" "$TMP/out" "3 of $n_ms milestones reached."
has "status: figures" "$TMP/out" "test accuracy "
has "status: dates" "$TMP/out" "reached 20"
expect "status --json" 0 "$TITO" milestone status --json
same "status --json: reached" "$(jq '.reached' "$TMP/out")" 3
same "status --json: figures of 3" \
    "$(jq '.milestones[2].reached.metrics.test_accuracy >= 0.9' "$TMP/out")" true
expect "list after" 0 "$TITO" milestone list
grep "^  3 " "$TMP/out" >"$TMP/line.txt"
has "list: 3 reached" "$TMP/line.txt" "reached"

# A planted autograd bug: cross-entropy's backward with the wrong sign on the target
# (softmax + onehot instead of softmax - onehot). Training climbs the loss instead of
# descending it (tests/milestones: the flipped-gradient mutant), and milestone 3 misses
# its accuracy bar.
auto=modules/$(slug_of 5)/$(name_of 5).c
sed 's/dv\[r \* classes + (size_t)target\] -= 1.0f;/dv[r * classes + (size_t)target] += 1.0f;/' \
    "$auto" >"$TMP/auto.c" && cp "$TMP/auto.c" "$auto"
refute "the bug is planted" cmp -s "$auto" "$TMP/ref-$(name_of 5).c"
expect "run 3 with the planted bug: missed" 1 "$TITO" milestone run 3
grep "^Bar: test accuracy" "$TMP/out" >"$TMP/line.txt"
check "missed: names the bar, the value and the shortfall" \
    grep -Eq "^Bar: test accuracy ≥ 90% → [0-9.]+% ✗ \([0-9.]+ points short\)" "$TMP/line.txt"
has "missed: the weight-change bar still met" "$TMP/out" "Bar: min weight change ≥ 0.01 → "
has "missed: says which" "$TMP/out" "Milestone 3 not reached: 1 of 2 bars missed."
has "missed: the likely cause" "$TMP/out" "gradients with the wrong sign"
has "missed: the reference's figure" "$TMP/out" "reference: "
r=.tito/results/milestone_03.json
same "missed: receipt outcome" "$(jq -r '.outcome + " " + (.reached | tostring)' "$r")" "missed false"
same "missed: receipt names the missed bar" \
    "$(jq -r '[.bars[] | select(.met | not) | .metric] | join(",")' "$r")" test_accuracy
same "missed: the shortfall is the bar minus the value" \
    "$(jq '.bars[0].value < 0.9' "$r")" true
same "missed: dirty work recorded" "$(jq -r '.provenance.dirty' "$r")" true
same "missed: committed" "$(git log -1 --format=%s)" "tito: milestone 3 run, missed (03_mlp)"
same "missed: reached stays recorded" \
    "$(jq -r '.milestones["03_mlp"] | (.reached_at | test("^20")), .last.reached' .tito/progress.json | tr '\n' ' ')" \
    "true false "
same "missed: the student's source is not committed" "$(git status --porcelain -- "$auto")" " M $auto"

# The same bug, and code in the module that rewrites the result file once the trusted
# code has written it, claiming 99%: the verdict comes from the reference's program
# measuring the parameters the run trained, so the forgery changes nothing but the
# report, which shows both figures.
cat >>"$auto" <<'EOF_FORGE'

#include <stdio.h>
#include <string.h>
/* Planted by tests/cli/t0030: every "test_accuracy" of the result file becomes 0.99. */
__attribute__((destructor)) static void forge_result(void)
{
    static char in[1 << 20], out[1 << 21];
    const char *key = "\"test_accuracy\": ";
    FILE *f = fopen("result.json", "rb");
    if (!f)
        return;
    size_t n = fread(in, 1, sizeof in - 1, f), k = strlen(key);
    fclose(f);
    in[n] = '\0';
    char *w = out;
    const char *r = in;
    for (const char *at; (at = strstr(r, key)) != NULL;) {
        memcpy(w, r, (size_t)(at - r) + k);
        w += (at - r) + (ptrdiff_t)k;
        r = at + k + strspn(at + k, "0123456789.e-");
        memcpy(w, "0.99", 4);
        w += 4;
    }
    strcpy(w, r);
    if ((f = fopen("result.json", "wb")) != NULL) {
        fputs(out, f);
        fclose(f);
    }
}
EOF_FORGE
expect "run 3 with a forged result: missed" 1 "$TITO" milestone run 3 --trials 1
check "forged: the bar's figure is the reference's measurement" \
    grep -Eq "^Bar: test accuracy ≥ 90% → [0-9.]+% ✗" "$TMP/out"
has "forged: the program's claim is shown" "$TMP/out" "your program measured 99.0%"
has "forged: its epochs are labelled as its own" "$TMP/out" "Your run's epochs, as it measured them itself:"
has "forged: the cause" "$TMP/out" "your program's own measurement disagrees"
has "forged: and the bug's" "$TMP/out" "gradients with the wrong sign"
same "forged: receipt outcome" "$(jq -r '.outcome' "$r")" missed
same "forged: the claim kept apart" "$(jq '.run.claimed.test_accuracy' "$r")" 0.99
check "forged: the measured accuracy" jq -e '.run.metrics.test_accuracy < 0.9' "$r"
cp "$TMP/ref-$(name_of 5).c" "$auto"

# Correct modules, but code that removes the saved parameters: the run's figures cannot
# be checked, so there is no result.
cat "$TMP/ref-$(name_of 5).c" - >"$auto" <<'EOF_REMOVE'

#include <stdio.h>
/* Planted by tests/cli/t0030: the parameters file disappears. */
__attribute__((destructor)) static void remove_params(void)
{
    remove("params.bin");
}
EOF_REMOVE
expect "run 1 without its parameters file" 1 "$TITO" milestone run 1 --trials 1
has "no parameters: no result" "$TMP/out" "it saved no parameters file"
same "no parameters: receipt" "$(jq -r '.outcome' .tito/results/milestone_01.json)" no-result
cp "$TMP/ref-$(name_of 5).c" "$auto"

# A module that does not compile: the build fails, naming the file.
loss=modules/$(slug_of 4)/$(name_of 4).c
echo "int broken(void) { return }" >>"$loss"
expect "run 1 with a compile error" 1 "$TITO" milestone run 1
has "compile error: named" "$TMP/out" "compile-error in $loss"
has "compile error: the message" "$TMP/out" "$(name_of 4).c:"
same "compile error: receipt" "$(jq -r '.outcome + " " + .build.module' .tito/results/milestone_01.json)" \
    "build-failed $(slug_of 4)"
cp "$TMP/ref-$(name_of 4).c" "$loss"

# A module still at its starter: the program stops on "not implemented", no result.
dl=modules/$(slug_of 8)/$(name_of 8).c
cp "$SRC/student/$(slug_of 8)/$(name_of 8).c" "$dl"
expect "run 3 with module 08's starter" 1 "$TITO" milestone run 3
has "starter: no result" "$TMP/out" "no result: the program built with your modules ran, but"
has "starter: the message names the function" "$TMP/out" "not implemented ($(name_of 8).c:"
has "starter: the likely cause" "$TMP/out" "is not written yet"
same "starter: receipt" "$(jq -r '.outcome' .tito/results/milestone_03.json)" no-result
cp "$TMP/ref-$(name_of 8).c" "$dl"

expect "status after the misses" 0 "$TITO" milestone status
has "status: still reached" "$TMP/out" "3 of $n_ms milestones reached."

finish
