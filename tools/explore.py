#!/usr/bin/env python3
"""Schedule exploration: a lab's simulated tests run under many schedules, looking for one that fails.

  tools/explore.py --tests PROGRAM [--test NAME] [--strategy random|pct|exhaustive] [--runs N]
                   [--depth D] [--seed S] [--jobs J] [--out DIR] [--no-shrink]

(./dsys explore LAB ... finds PROGRAM.) Every run is one simulated test (tagged with points, not
[processes]) in a process of its own, under the scheduler DSYS_SCHEDULE names
(include/dsys/sim/strategies.hpp), with DSYS_SCHEDULE_RECORD writing down every decision it made:

  random      seeds S, S+1, ...: the runs ./dsys grade and the seed sweep make
  pct         PCT with depth D (default 3) over seeds S, S+1, ...: priorities per node, D-1
              changes (a node's messages held back from then on)
  exhaustive  every sequence of route decisions up to depth D (default 6): for each message in
              turn, each fate its link allows (on time, late, lost, duplicated), the rest on time;
              stateless: each run starts from scratch with a recorded prefix of decisions

The runs of a test are spread over J processes at a time (default: one per CPU), and stop at N runs
(default 200). A failing schedule is shrunk before it is reported: its decisions after some point
are dropped (on time from there) and its faults (losses, duplicates, late copies) are removed one
group at a time, each change kept only if the test still fails. The shrunk schedule is saved as a
choices file, with its diagram and a line that replays it:

  DSYS_SEED=7 DSYS_SCHEDULE=choices:explore/lab1/...schedule build/dev/.../lab1_tests "name"

Prints runs, distinct schedules, violations and runs per minute. Exit status 1 when some run
failed, 0 when none did, 2 on bad arguments.
"""

import argparse
import concurrent.futures
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import grade  # tools/grade.py: how tests are listed and named to Catch2

FAULTS = re.compile(r"^[lxd]$|r|,")  # a decision that is a fault: late, lost, duplicated, held back


class Run:
    """One run's outcome: passed, its decisions (the record's lines), its events, its output."""

    def __init__(self, passed, record, output, trace_dir):
        self.passed = passed
        self.record = record
        self.output = output
        self.trace_dir = trace_dir

    def routes(self):
        return [line.split()[1] for line in self.record if line.startswith("route ")]

    def choices(self):
        return [line.split()[2] if len(line.split()) > 2 else "o"
                for line in self.record if line.startswith("route ")]

    def events(self):
        return sum(int(line.split()[2]) for line in self.record if line.startswith("# events "))

    def schedule_id(self):
        body = "\n".join(line for line in self.record if not line.startswith("#"))
        return hashlib.sha1(body.encode()).hexdigest()

    def diagram(self):
        for root, _, files in os.walk(self.trace_dir):
            for f in sorted(files):
                if f.endswith(".html"):
                    return os.path.join(root, f)
        return None


def run_test(program, test, env_extra, work, timeout):
    """Runs `test` once with `env_extra`; its trace and record go to a new directory in `work`."""
    run_dir = tempfile.mkdtemp(prefix="run-", dir=work)
    record = os.path.join(run_dir, "record")
    env = dict(os.environ, DSYS_SCHEDULE_RECORD=record, DSYS_TRACE_DIR=run_dir, **env_extra)
    try:
        done = subprocess.run([program, grade.catch_spec(test["name"])], capture_output=True,
                              text=True, env=env, timeout=timeout)
        passed, output = done.returncode == 0, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        passed, output = False, f"(timed out after {timeout} s)"
    lines = []
    if os.path.exists(record):
        with open(record) as f:
            lines = f.read().splitlines()
    result = Run(passed, lines, output, run_dir)
    if passed:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def write_choices(path, routes):
    with open(path, "w") as f:
        f.write("world\n" + "".join(f"route {r}\n" for r in routes))


def faults_in(routes):
    return sum(1 for r in routes if FAULTS.search(r))


def shrink(program, test, seed, failing, work, timeout, budget):
    """Fewer decisions, then fewer faults, while the test still fails. Returns (routes, run)."""
    routes = failing.routes()
    best = failing
    tries = 0
    path = os.path.join(work, "candidate.schedule")

    def still_fails(candidate):
        nonlocal tries, best
        tries += 1
        write_choices(path, candidate)
        r = run_test(program, test, {"DSYS_SEED": str(seed), "DSYS_SCHEDULE": f"choices:{path}"},
                     work, timeout)
        if not r.passed:
            best = r
        else:
            shutil.rmtree(r.trace_dir, ignore_errors=True)
        return not r.passed

    # Fewer decisions: the shortest prefix found by halving (on time after it).
    lo, hi = 0, len(routes)
    while lo < hi and tries < budget // 3:
        mid = (lo + hi) // 2
        if still_fails(routes[:mid]):
            hi = mid
        else:
            lo = mid + 1
    if hi < len(routes):
        routes = routes[:hi]
    # Fewer faults: groups of faulty decisions made on time, halving the group size.
    group = max(1, faults_in(routes))
    while group >= 1 and tries < budget:
        faulty = [i for i, r in enumerate(routes) if FAULTS.search(r)]
        if not faulty:
            break
        changed = False
        for start in range(0, len(faulty), group):
            if tries >= budget:
                break
            candidate = list(routes)
            for i in faulty[start:start + group]:
                candidate[i] = "o"
            if still_fails(candidate):
                routes, changed = candidate, True
        if not changed:
            group //= 2
    return routes, best, tries


def exhaustive_prefixes(first_run_choices, prefix, taken, depth):
    """The prefixes that branch off a run (which made decisions `taken`, offered `choices`) after
    its prefix: at each later position below `depth`, every other choice offered."""
    children = []
    for p in range(len(prefix), min(depth, len(taken))):
        for alternative in first_run_choices[p]:
            if alternative != taken[p]:
                children.append(taken[:p] + [alternative])
    return children


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--tests", required=True, help="the lab's test program")
    parser.add_argument("--test", help="one test: its exact name or the start of its name")
    parser.add_argument("--strategy", choices=["random", "pct", "exhaustive"], default="random")
    parser.add_argument("--runs", type=int, default=200, help="at most this many runs (default 200)")
    parser.add_argument("--depth", type=int, help="pct: change points + 1 (3); exhaustive: decisions branched (6)")
    parser.add_argument("--seed", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--out", default="explore", help="where failing schedules go (default ./explore)")
    parser.add_argument("--no-shrink", action="store_true", help="report failing schedules as found")
    parser.add_argument("--shrink-runs", type=int, default=60, help="runs spent shrinking one failure (60)")
    args = parser.parse_args()
    if args.runs < 1 or args.jobs < 1:
        parser.error("--runs and --jobs must be at least 1")
    depth = args.depth if args.depth is not None else (3 if args.strategy == "pct" else 6)
    if depth < 1:
        parser.error("--depth must be at least 1")
    if not os.access(args.tests, os.X_OK):
        parser.error(f"no test program {args.tests} (build it first: ./dsys build)")

    tests = [t for t in grade.list_tests(args.tests) if "[processes]" not in t["tags"]]
    if args.test:
        exact = [t for t in tests if t["name"] == args.test]
        tests = exact or [t for t in tests if t["name"].startswith(args.test)]
        if not tests:
            parser.error(f"no simulated graded test named '{args.test}' in {args.tests}")
    if not tests:
        print(f"explore: {args.tests} has no simulated graded test", file=sys.stderr)
        return 2

    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="work-", dir=args.out)
    started = time.monotonic()
    runs = violations = 0
    schedules = set()
    found = {}  # test name -> (seed, env, Run)
    per_test = max(1, args.runs // len(tests))
    print(f"explore: {len(tests)} test{'s' if len(tests) != 1 else ''} of {args.tests}, strategy "
          f"{args.strategy}{f' (depth {depth})' if args.strategy != 'random' else ''}, "
          f"{per_test} runs each, {args.jobs} at a time", flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for test in tests:
            timeout = test["timeout"]
            if args.strategy in ("random", "pct"):
                def env_of(i):
                    env = {"DSYS_SEED": str(args.seed + i)}
                    if args.strategy == "pct":
                        env["DSYS_SCHEDULE"] = f"pct:{depth}"
                    return env
                jobs = {pool.submit(run_test, args.tests, test, env_of(i), work, timeout): env_of(i)
                        for i in range(per_test)}
                for future in concurrent.futures.as_completed(jobs):
                    r = future.result()
                    runs += 1
                    schedules.add(r.schedule_id())
                    if not r.passed:
                        violations += 1
                        env = jobs[future]
                        seed = int(env["DSYS_SEED"])
                        if test["name"] not in found or seed < found[test["name"]][0]:
                            how = f"seed {seed}" + (f", pct depth {depth}" if args.strategy == "pct" else "")
                            found[test["name"]] = (seed, how, r)
            else:  # exhaustive: waves of prefixes, each run giving the prefixes that branch off it
                pending, done_here = [[]], 0
                choices_at = None
                while pending and done_here < per_test:
                    wave = pending[:args.jobs]
                    pending = pending[args.jobs:]
                    futures = []
                    for prefix in wave:
                        path = os.path.join(work, f"prefix-{done_here + len(futures)}.schedule")
                        write_choices(path, prefix)
                        env = {"DSYS_SEED": str(args.seed), "DSYS_SCHEDULE": f"choices:{path}"}
                        futures.append((prefix, env, pool.submit(run_test, args.tests, test, env,
                                                                 work, timeout)))
                    for prefix, env, future in futures:
                        r = future.result()
                        runs += 1
                        done_here += 1
                        schedules.add(r.schedule_id())
                        # Beyond its prefix, a choices run puts every message on time.
                        taken = prefix + ["o"] * max(0, len(r.routes()) - len(prefix))
                        offered = r.choices()
                        if choices_at is None or len(offered) > len(choices_at):
                            choices_at = offered
                        pending = exhaustive_prefixes(offered, prefix, taken, depth) + pending
                        if not r.passed:
                            violations += 1
                            if test["name"] not in found:
                                how = f"seed {args.seed}, run {done_here} of the exhaustive search"
                                found[test["name"]] = (args.seed, how, r)
                if not pending:
                    print(f"  {test['name']}: every schedule up to depth {depth} tried "
                          f"({done_here} runs)")

    seconds = time.monotonic() - started
    print(f"explore: {runs} runs, {len(schedules)} distinct schedules, {violations} "
          f"violation{'s' if violations != 1 else ''}, {runs / max(seconds, 1e-9) * 60:.0f} runs per "
          f"minute ({seconds:.1f} s)")
    for test in tests:
        if test["name"] not in found:
            continue
        seed, how, failing = found[test["name"]]
        block = grade.first_failure(failing.output)
        first = grade.failure_summary(block) if block else None
        print(f"\nFAILED: {test['name']} ({how})")
        if first:
            print("  " + first)
        routes, final, tries = failing.routes(), failing, 0
        if not args.no_shrink:
            routes, final, tries = shrink(args.tests, test, seed, failing, work, test["timeout"],
                                          args.shrink_runs)
            print(f"  shrunk in {tries} runs: {len(failing.routes())} decisions with "
                  f"{faults_in(failing.routes())} faults, {failing.events()} events -> "
                  f"{len(routes)} decisions with {faults_in(routes)} faults, {final.events()} events")
        saved = os.path.join(args.out, f"{grade.slug(test['name'])}.schedule")
        write_choices(saved, routes)
        diagram = final.diagram()
        if diagram:
            kept = os.path.join(args.out, f"{grade.slug(test['name'])}.html")
            shutil.copyfile(diagram, kept)
            print(f"  diagram: {kept}")
        print(f"  schedule: {saved}")
        print(f"  replay: DSYS_SEED={seed} DSYS_SCHEDULE=choices:{shlex.quote(saved)} "
              f"{shlex.quote(args.tests)} {shlex.quote(grade.catch_spec(test['name']))}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
