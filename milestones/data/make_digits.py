#!/usr/bin/python3
"""Make the fixed digits split used by milestones 3 and 4 and by tests/reference/test_digits.c.

Source: the UCI "Optical Recognition of Handwritten Digits" test set (1797 images of
8x8 pixels, each pixel 0..16), as shipped by Debian's python3-sklearn in
sklearn/datasets/data/digits.csv.gz (one image per line: 64 pixels then the label).
Licence: CC BY 4.0 (see README.md in this folder).

Split: for each digit 0..9, the images of that digit in file order are permuted with
NumPy's legacy RandomState(SEED) (its stream is frozen by NumPy's compatibility
policy, so the split does not depend on the NumPy version); the first 100 go to the
training set, the next 20 to the test set, the rest are unused. Each output file
lists its images in the order of the source file.

Output (format version 1, read by reference/core/datasets.c):
    line 1   # tinytorch-digits 1 <split>: <free text>
    line 2   label,p0,p1,...,p63
    then one image per line: label,p0,...,p63   (integers; p<8r+c> is row r, column c)

Run once by a developer, from anywhere:  /usr/bin/python3 milestones/data/make_digits.py
It prints the SHA-256 of what it wrote; README.md records them.
"""
import gzip
import hashlib
import os
import sys

import numpy as np

SOURCE = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
SOURCE_SHA256 = "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a"
SEED = 1986
TRAIN_PER_CLASS = 100
TEST_PER_CLASS = 20
FORMAT_VERSION = 1


def load_source(path):
    with open(path, "rb") as f:
        raw = f.read()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        # A different copy of the data would silently change the split.
        sys.exit(f"{path}: SHA-256 {digest}, expected {SOURCE_SHA256}")
    rows = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",",
                      dtype=np.int64)
    if rows.shape != (1797, 65):
        sys.exit(f"{path}: shape {rows.shape}, expected (1797, 65)")
    pixels, labels = rows[:, :64], rows[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        sys.exit(f"{path}: values outside 0..16 or labels outside 0..9")
    return pixels, labels


def split(labels):
    rng = np.random.RandomState(SEED)
    train, test = [], []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        chosen = members[rng.permutation(len(members))]
        train.extend(chosen[:TRAIN_PER_CLASS])
        test.extend(chosen[TRAIN_PER_CLASS:TRAIN_PER_CLASS + TEST_PER_CLASS])
    return np.sort(np.array(train)), np.sort(np.array(test))


def write(path, name, indices, pixels, labels, per_class):
    lines = [
        f"# tinytorch-digits {FORMAT_VERSION} {name}: {len(indices)} images of 8x8 pixels "
        f"(0..16), {per_class} per digit; UCI optical digits, CC BY 4.0; "
        f"made by make_digits.py (seed {SEED})",
        "label," + ",".join(f"p{i}" for i in range(64)),
    ]
    for i in indices:
        lines.append(f"{labels[i]}," + ",".join(str(v) for v in pixels[i]))
    data = ("\n".join(lines) + "\n").encode("ascii")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    print(f"{hashlib.sha256(data).hexdigest()}  {os.path.basename(path)}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    pixels, labels = load_source(SOURCE)
    train, test = split(labels)
    assert len(set(train) & set(test)) == 0
    write(os.path.join(here, "digits_train.csv"), "train", train, pixels, labels,
          TRAIN_PER_CLASS)
    write(os.path.join(here, "digits_test.csv"), "test", test, pixels, labels, TEST_PER_CLASS)


if __name__ == "__main__":
    main()
