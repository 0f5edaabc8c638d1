#!/bin/sh
# tests/engine/t_suite_tier2.sh TITO SOURCE_DIR MODULE: the suite of one tier-2 module
# (09..13) graded from the outside with `tito dev grade`:
#   - the reference passes every visible and hidden check;
#   - the starter builds and fails every visible check with "not implemented", no crash;
#   - a copy of the reference with one planted bug (a sed expression below, the kind of
#     mistake students make) fails the named check with the named message, and only
#     checks of the concerned kind;
#   - module 09 only: conv2d as a direct loop (correct, not im2col) earns the middle
#     speed band of the course file, by instruction counts (deterministic).
set -u
tito=$1
src=$2
module=$3
out=$(mktemp -d /tmp/tito-suite-t2-XXXXXX)
trap 'rm -rf "$out"' EXIT
failed=0

fail() {
    echo "FAIL: $*" >&2
    failed=1
}

# expect STATUS CMD...: run CMD, keep its output in $out/stdout and $out/stderr.
expect() {
    want=$1
    shift
    "$@" >"$out/stdout" 2>"$out/stderr"
    got=$?
    if [ "$got" != "$want" ]; then
        fail "exit $got, expected $want: $*"
        cat "$out/stdout" "$out/stderr" >&2
    fi
}

contains() {
    grep -q -- "$2" "$out/$1" || { fail "$1 lacks '$2'"; cat "$out/$1" >&2; }
}

# plant NAME SED: a copy of the reference source with one bug; fails if SED changed
# nothing (the reference moved on and the bug must be planted anew).
plant() {
    sed "$2" "$src/reference/src/$name.c" >"$out/$name.c"
    if cmp -s "$out/$name.c" "$src/reference/src/$name.c"; then
        fail "planted bug '$1' changed nothing in reference/src/$name.c"
        return 1
    fi
    return 0
}

case $module in
09)
    slug=09_spatial name=spatial
    # col2im overwrites instead of adding: overlapping patches lose gradient.
    bug='s/dst\[col\] += src\[j\];/dst[col] = src[j];/'
    bug_check="✗ conv.backward "
    bug_message="x.grad\[0,0,0,1\]: expected"
    ;;
10)
    slug=10_tokenization name=tokenization
    # BPE ties go to the largest pair instead of the smallest.
    bug='s/s->key < best/s->key > best/'
    bug_check="✗ bpe.tie_break "
    bug_message="merges\[0\]: expected 97.0, got 99.0"
    ;;
11)
    slug=11_embeddings name=embeddings
    # The lookup's backward overwrites a row instead of adding: a repeated id keeps
    # only its last gradient row.
    bug='s/row\[j\] += gv\[p \* dim + j\];/row[j] = gv[p * dim + j];/'
    bug_check="✗ lookup.backward_repeats "
    bug_message="weight.grad\[1,0\]: expected"
    ;;
12)
    slug=12_attention name=attention
    # The mask convention inverted: 0 read as "may attend", 1 as "blocked".
    bug='s/yr\[j\] = allow;/yr[j] = 1.0f - allow;/; s/if (allow == 1.0f \&\& /if (allow == 0.0f \&\& /'
    bug_check="✗ softmax.blocked_exact "
    bug_message="out\[0,1\]: expected 0.006692851, got 0.0"
    ;;
13)
    slug=13_transformers name=transformers
    # LayerNorm's backward treats the row's mean and variance as constants.
    bug='s/(float)(rstd \* (gy - mean_gy - xhat \* mean_gy_xhat))/(float)(rstd * gy)/'
    bug_check="✗ layernorm.backward "
    bug_message="x.grad\[0,0\]: expected -1.122513, got -0.959452"
    ;;
*)
    echo "t_suite_tier2.sh: no planted bug for module '$module'" >&2
    exit 2
    ;;
esac

# The reference: everything passes, hidden checks too.
expect 0 "$tito" dev grade "$module" "$src/reference/src/$name.c" --hidden --seed 5eed
contains stdout "Module $module · $name"
if grep -q "✗" "$out/stdout"; then fail "the reference fails a check"; fi

# The starter: builds, every visible check fails, saying what is not implemented.
expect 1 "$tito" dev grade "$module" "$src/student/$slug/$name.c" --seed 5eed
contains stdout "status: expected TT_OK (success), got TT_ERR_NOT_IMPLEMENTED"
contains stdout "^0 of [0-9]* visible checks pass"

# The planted bug: the check it breaks fails with a precise message.
if plant "$slug" "$bug"; then
    expect 1 "$tito" dev grade "$module" "$out/$name.c" --seed 5eed
    contains stdout "$bug_check"
    contains stdout "$bug_message"
    if grep -q "crash\|timeout" "$out/stdout"; then fail "the planted bug crashed a check"; fi
fi

if [ "$module" = 09 ]; then
    /usr/bin/python3 "$src/tests/engine/plant_direct_conv.py" "$src/reference/src/$name.c" \
        "$out/direct.c" || fail "plant_direct_conv.py"
    expect 0 "$tito" dev grade 09 "$out/direct.c" --full --deterministic --seed 5eed
    contains stdout "conv2d_32x16x32x32: 0\.[2-4][0-9]× reference (instruction counts), band ≥0\.15×  *10/15"
    contains stdout "total  *95/100"
fi

exit $failed
