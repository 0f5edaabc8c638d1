#!/usr/bin/env python3
"""forged_initial.py PROGRAM PARAMS OUT_DIR: a parameters file whose initial values are
forged (all zero, so that every tensor seems to have moved) is measured by PROGRAM
--evaluate as a framework whose weights never moved: the weight change is also measured
from the initial values the seed gives (ms_least_change), which the run's process
cannot write. PARAMS comes from a run whose graph is cut (mutants.c's cut_hidden):
some tensor never moved. Exit 0 when the measured min_weight_change stays under 1e-6.
"""
import json
import os
import struct
import subprocess
import sys


def forge(src, dst):
    data = bytearray(open(src, "rb").read())
    assert data[:8] == b"TTMSPAR1", "not a parameters file"
    runs = struct.unpack_from("=I", data, 12)[0]
    at = 24
    for _ in range(runs):
        count = struct.unpack_from("=Q", data, at)[0]
        at += 8
        data[at:at + 4 * count] = bytes(4 * count)  # the initial values: zeros
        at += 8 * count
    open(dst, "wb").write(data)


def main():
    program, params, out = sys.argv[1:4]
    forged = os.path.join(out, "forged.params")
    evaluation = os.path.join(out, "forged.evaluation.json")
    forge(params, forged)
    subprocess.run([program, "--evaluate", forged, "--json", evaluation], check=True,
                   stdout=subprocess.DEVNULL)
    metrics = json.load(open(evaluation))["metrics"]
    change = [v for k, v in metrics.items() if k.endswith("min_weight_change")]
    print("forged_initial: measured", change)
    if not change or not all(v is not None and v < 1e-6 for v in change):
        sys.exit("forged_initial: FAIL: the forged initial values made the weights seem to move")
    print("forged_initial: ok")


main()
