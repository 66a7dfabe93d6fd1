"""What the training tests share: train/ on the import path, and check(), which stops at the first failure."""
import os
import sys

TRAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "train")
sys.path.insert(0, TRAIN)


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("    ok: " + what)
