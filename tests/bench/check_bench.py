#!/usr/bin/env python3
"""A benchmark, briefly (CI runs every command a user can): it must finish (exit 0) within the time
limit and print every figure it should. The figures are not judged (a loaded CI machine is no place
to time anything): the benchmark itself says whether its goals are met. DSYS_BENCH_BRIEF=1 makes
it do a small fraction of its work (bench/brief.hpp).

  check_bench.py [--expect REGEX]... [--needs PROGRAM] -- COMMAND [ARG]...
  check_bench.py --fs BUILD [--expect REGEX]... : ./dsys bench fs over BUILD's reference labs,
      as the driver runs it: every lab of labs.json with a yfs_client of its own, a replicated
      one's lock service as one replica, 3 samples of each operation

Exit 77 (CTest: skipped) when what it needs is missing here: --needs PROGRAM not on the PATH (an
optional package), or for --fs no /dev/fuse or no root (outside CI; under CI=true that fails).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

KIT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(KIT, "tools"))
import labs as labs_manifest  # noqa: E402

SKIP = 77


def skip(why, strict=True):
    """Exit 77 (skipped), saying why; under CI (CI=true) a strict reason fails the test instead."""
    if strict and os.environ.get("CI") == "true":
        print(f"check_bench: under CI, this must run: {why}")
        sys.exit(1)
    print(f"dsys: skipped: {why}")
    sys.exit(SKIP)


def fs_command(build):
    """bench_fs over every lab with a yfs_client of its own, as ./dsys bench fs gives them."""
    if not os.path.exists("/dev/fuse"):
        skip("no /dev/fuse here")
    if os.geteuid() != 0:
        skip("bench fs mounts tmpfs and FUSE file systems: run as root")
    labs = labs_manifest.load()
    command = [os.path.join(build, "bench", "bench_fs"), "--memfs", os.path.join(build, "bench", "bench_memfs"),
               "--samples", "3"]
    for lab in labs:
        if labs_manifest.program_lab(labs, lab, "yfs_client") == lab:
            command += ["--replicated" if labs[lab]["replicated"] else "--programs",
                        os.path.join(build, "solutions", lab)]
    return command


def main():
    if "--" in sys.argv:
        split = sys.argv.index("--")
        options, command = sys.argv[1:split], sys.argv[split + 1:]
    else:
        options, command = sys.argv[1:], []
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", action="append", default=[])
    parser.add_argument("--needs")
    parser.add_argument("--fs")
    parser.add_argument("--timeout", type=int, default=240)
    args = parser.parse_args(options)
    if args.needs and not shutil.which(args.needs):
        skip(f"{args.needs} is not installed (an optional package of ./dsys setup)", strict=False)
    if args.fs:
        command = fs_command(args.fs)
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
