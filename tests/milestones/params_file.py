#!/usr/bin/env python3
"""params_file.py CASE PROGRAM PARAMS OUT_DIR: a parameters file altered as a student's
code could alter it, measured by PROGRAM --evaluate (the reference's build).

  forged-initial  the initial values all zero, so that every tensor seems to have
                  moved. PARAMS comes from a run whose graph is cut (mutants.c's
                  cut_hidden): the measured min_weight_change must stay under 1e-6,
                  because it is also measured from the initial values the seed gives.
  wrong-size      the first model one value short (a framework whose layers have other
                  parameters than the modules specify): --evaluate must refuse it
                  (exit 6) saying how many values it has and how many the model needs.

Exit 0 when the program behaves so.
"""
import json
import os
import struct
import subprocess
import sys


def models(data):
    """(offset of the count, count) of each model of a parameters file."""
    assert data[:8] == b"TTMSPAR1", "not a parameters file"
    runs = struct.unpack_from("=I", data, 12)[0]
    at, out = 24, []
    for _ in range(runs):
        count = struct.unpack_from("=Q", data, at)[0]
        out.append((at, count))
        at += 8 + 8 * count
    return out


def forged_initial(program, params, out):
    data = bytearray(open(params, "rb").read())
    for at, count in models(data):
        data[at + 8:at + 8 + 4 * count] = bytes(4 * count)  # the initial values: zeros
    forged = os.path.join(out, "forged.params")
    evaluation = os.path.join(out, "forged.evaluation.json")
    open(forged, "wb").write(data)
    subprocess.run([program, "--evaluate", forged, "--json", evaluation], check=True,
                   stdout=subprocess.DEVNULL)
    metrics = json.load(open(evaluation))["metrics"]
    change = [v for k, v in metrics.items() if k.endswith("min_weight_change")]
    print("params_file: measured min_weight_change", change)
    return bool(change) and all(v is not None and v < 1e-6 for v in change)


def wrong_size(program, params, out):
    data = bytearray(open(params, "rb").read())
    at, count = models(data)[0]
    # One value fewer in both copies: drop the last initial and the last final value.
    final_end = at + 8 + 8 * count
    del data[final_end - 4:final_end]
    del data[at + 8 + 4 * count - 4:at + 8 + 4 * count]
    struct.pack_into("=Q", data, at, count - 1)
    short = os.path.join(out, "short.params")
    open(short, "wb").write(data)
    r = subprocess.run([program, "--evaluate", short], capture_output=True, text=True)
    print("params_file: exit", r.returncode, r.stderr.strip())
    want = "the saved model has %d parameter values, this one %d" % (count - 1, count)
    return r.returncode == 6 and want in r.stderr


def main():
    case, program, params, out = sys.argv[1:5]
    ok = {"forged-initial": forged_initial, "wrong-size": wrong_size}[case](program, params, out)
    print("params_file: %s %s" % (case, "ok" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


main()
