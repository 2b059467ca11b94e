#!/usr/bin/env python3
"""The seed sweep: every simulated graded test of a lab, run on the reference code for many seeds.

A graded test must pass on solutions/ for every seed (it asserts what the protocol promises, not
what one schedule happened to do). This runs each graded test that does not start real processes
(tag [processes]) once per seed, DSYS_SEED=1..N, in parallel, and reports the first failing seed
of each test with the line that replays it. A failure here is a bug in the test, not in the code.

With --slow, the slowed variant: every RPC reply held back a further seeded 1-50 ms
(DSYS_SLOW_REPLIES=1, dsys/testing/lab.hpp), as if the code were slower. A graded test may not
depend on the reference's speed, so it must pass so too.

  tools/sweep.py --lab lab1 --tests build/dev/solutions/lab1/lab1_tests [--seeds 20] [--slow] [--jobs 2]
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys
import time

import grade  # tools/grade.py: how tests are listed and named to Catch2


def graded_simulated_tests(binary):
    """The graded tests that run in the simulated world (not tagged [processes])."""
    return [t for t in grade.list_tests(binary) if "[processes]" not in t["tags"]]


def run_one(binary, name, seed, timeout, slow):
    env = dict(os.environ, DSYS_SEED=str(seed))
    if slow:
        env["DSYS_SLOW_REPLIES"] = "1"
    env.setdefault("DSYS_TRACE_DIR", os.path.join(os.path.dirname(binary), "sweep-traces"))
    try:
        done = subprocess.run([binary, grade.catch_spec(name)], capture_output=True, text=True,
                              env=env, timeout=timeout)
        return seed, done.returncode == 0, done.stdout + done.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return seed, False, out + f"\n(timed out after {timeout} s)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", required=True)
    parser.add_argument("--tests", required=True, help="the lab's test program, built from solutions/")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--slow", action="store_true",
                        help="the slowed variant: every reply held back 1-50 ms more")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    # More seeds than labs.json's checks say, for a longer look: DSYS_SWEEP_SEEDS (DSYS_SLOW_SEEDS).
    more = os.environ.get("DSYS_SLOW_SEEDS" if args.slow else "DSYS_SWEEP_SEEDS", "")
    if more.isdigit():
        args.seeds = int(more)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")

    start = time.monotonic()
    tests = graded_simulated_tests(args.tests)
    failures = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {(t["name"], seed): pool.submit(run_one, args.tests, t["name"], seed, t["timeout"],
                                                       args.slow)
                   for t in tests for seed in range(1, args.seeds + 1)}
        for (name, seed), future in futures.items():
            seed, ok, output = future.result()
            if not ok and (name not in failures or seed < failures[name][0]):
                failures[name] = (seed, output)
    seconds = time.monotonic() - start
    variant = " (slowed: DSYS_SLOW_REPLIES=1)" if args.slow else ""
    slow_env = "DSYS_SLOW_REPLIES=1 " if args.slow else ""
    for name in (t["name"] for t in tests):
        if name in failures:
            seed, output = failures[name]
            print(f"sweep {args.lab}{variant}: FAILS on the reference for DSYS_SEED={seed}: {name}")
            print(f"  replay: {slow_env}DSYS_SEED={seed} ./dsys grade {args.lab} --impl solutions --only \"{name}\"")
            tail = [l for l in output.splitlines() if l.strip()][-15:]
            print("\n".join("    " + l for l in tail))
    verdict = (f"{len(failures)} of them fail for some seed (a bug in the test)" if failures
               else "every one passes for every seed")
    print(f"sweep {args.lab}{variant}: {len(tests)} simulated graded tests x seeds 1-{args.seeds} on "
          f"solutions/: {verdict} ({seconds:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
