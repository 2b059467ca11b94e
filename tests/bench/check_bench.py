#!/usr/bin/env python3
"""A benchmark, briefly (CI runs every command a user can): it must finish (exit 0) within the time
limit and print every figure it should. The figures are not judged (a loaded CI machine is no place
to time anything): the benchmark itself says whether its goals are met. DSYS_BENCH_BRIEF=1 makes
it do a small fraction of its work (bench/brief.hpp).

  check_bench.py [--expect REGEX]... [--needs PROGRAM] [--needs-fuse] -- COMMAND [ARG]...

COMMAND is the benchmark's program, or ./dsys bench NAME --preset P (the driver's own way to it).
Exit 77 (CTest: skipped) when what it needs is missing here: --needs PROGRAM not on the PATH (an
optional package); --needs-fuse: no /dev/fuse or no root (outside CI; under CI=true that fails).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

SKIP = 77


def skip(why, strict=True):
    """Exit 77 (skipped), saying why; under CI (CI=true) a strict reason fails the test instead."""
    if strict and os.environ.get("CI") == "true":
        print(f"check_bench: under CI, this must run: {why}")
        sys.exit(1)
    print(f"dsys: skipped: {why}")
    sys.exit(SKIP)


def main():
    if "--" in sys.argv:
        split = sys.argv.index("--")
        options, command = sys.argv[1:split], sys.argv[split + 1:]
    else:
        options, command = sys.argv[1:], []
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", action="append", default=[])
    parser.add_argument("--needs")
    parser.add_argument("--needs-fuse", action="store_true")
    parser.add_argument("--timeout", type=int, default=240)
    args = parser.parse_args(options)
    if args.needs and not shutil.which(args.needs):
        skip(f"{args.needs} is not installed (an optional package of ./dsys setup)", strict=False)
    if args.needs_fuse and not os.path.exists("/dev/fuse"):
        skip("no /dev/fuse here")
    if args.needs_fuse and os.geteuid() != 0:
        skip("bench fs mounts tmpfs and FUSE file systems: run as root")
    if not command:
        parser.error("no command to run")
    env = dict(os.environ, DSYS_BENCH_BRIEF="1")
    print("$ " + " ".join(command), flush=True)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout, env=env)
    except subprocess.TimeoutExpired:
        print(f"check_bench: it did not finish within {args.timeout} s")
        return 1
    out = done.stdout + done.stderr
    print(out)
    ok = done.returncode == 0
    if not ok:
        print(f"check_bench: exit status {done.returncode}")
    for pattern in args.expect:
        if not re.search(pattern, out, re.M):
            print(f"check_bench: nothing in its output matches {pattern!r}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
