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

  scenario    the tests tagged [scenario] (a lab's randomized crash-and-partition run, e.g. lab
              7's): each runs seeds S..S+N-1 itself, many in one process (DSYS_SCENARIO_RUNS,
              DSYS_SCENARIO_SEED), and prints the seeds that failed; each is reported with the
              line that replays it (DSYS_SEED=S, its trace and diagram on). ./dsys explore picks
              it, on the release build, for a lab that has such a test.

The runs are spread over J processes at a time (default: one per CPU); N runs in all (default 200)
are shared among the tests, at least one each. PCT first counts the messages one run of the test
sends (seed S, random) and puts its change points among them. A failing schedule is shrunk before it is reported: its decisions after some point
are dropped (on time from there) and its faults (losses, duplicates, late copies) are removed one
group at a time, each change kept only if the test still fails. The shrunk schedule is saved as a
choices file, with its diagram and a line that replays it:

  DSYS_SEED=7 DSYS_SCHEDULE=choices:explore/lab1/...schedule build/dev/.../lab1_tests "name"

Beside it, "found by:" is the run as it was found (its seed and strategy; for exhaustive search
the prefix it ran, saved as NAME.found.schedule). A run that was killed or crashed before its
world ended leaves no record: it is reported with that line alone, unshrunk. A saved schedule is
always one that was seen to fail when replayed from its file.

Prints runs, distinct schedules, violations and runs per minute. Exit status 1 when some run
failed, 0 when none did, 2 on bad arguments (and when the test program refuses a schedule).
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

# A choices-file or record line of dsys/sim/strategies.hpp: "world K", "route WORD [CHOICES]",
# "tiebreak CALL VALUE", "wake CALL NS", "# comment". A decision here is (world, "route WORD"),
# (world, "tiebreak CALL VALUE") or (world, "wake CALL NS"); the record names every decision on
# time "o", so any other route word is a fault (late, lost, duplicated, held back, or a delay
# other than the least), and so is a late wake-up ("wake CALL 0" is one made on time).
USAGE_ERROR = re.compile(r"DSYS_SCHEDULE(: |=\S*: )[^\n]*")  # not a replay line's DSYS_SCHEDULE=X


def parse_record(lines):
    """The decisions of record `lines`, with the choices offered for each route, as
    ([(world, text)], [choices or None])."""
    decisions, choices = [], []
    world = -1
    for line in lines:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "world":
            world = int(words[1]) if len(words) > 1 else world + 1
        elif words[0] == "route" and len(words) >= 2:
            decisions.append((max(world, 0), f"route {words[1]}"))
            choices.append(words[2] if len(words) > 2 else "o")
        elif words[0] in ("tiebreak", "wake") and len(words) == 3:
            decisions.append((max(world, 0), line.strip()))
            choices.append(None)
    return decisions, choices


def is_fault(decision):
    text = decision[1]
    if text.startswith("wake "):
        return not text.endswith(" 0")
    return text.startswith("route ") and text != "route o"


def on_time(decision):
    """The decision made on time: a route "o", a wake-up at once."""
    world, text = decision
    if text.startswith("wake "):
        return (world, " ".join(text.split()[:2]) + " 0")
    return (world, "route o")


class Run:
    """One run's outcome: passed, its decisions (from its record), its events, its output."""

    def __init__(self, passed, record, output, trace_dir, timed_out=False):
        self.passed = passed
        self.record = record
        self.output = output
        self.trace_dir = trace_dir
        self.timed_out = timed_out
        self.decisions, self.choices = parse_record(record)

    def routes(self):
        return [d for d in self.decisions if d[1].startswith("route ")]

    def events(self):
        return sum(int(line.split()[2]) for line in self.record if line.startswith("# events "))

    def recorded(self):
        """Whether the run wrote its record (a run killed or crashed before its world ended did
        not)."""
        return any(line.startswith("world") for line in self.record)

    def schedule_id(self):
        body = "\n".join(f"{w} {t}" for w, t in self.decisions)
        return hashlib.sha1(body.encode()).hexdigest()

    def usage_error(self):
        """What the test program said of a DSYS_SCHEDULE it refused, or None."""
        m = USAGE_ERROR.search(self.output) if not self.passed else None
        return m.group(0) if m else None

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
    timed_out = False
    try:
        done = subprocess.run([program, grade.catch_spec(test["name"])], capture_output=True,
                              text=True, env=env, timeout=timeout)
        passed, output = done.returncode == 0, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        passed, output, timed_out = False, f"(timed out after {timeout} s)", True
    lines = []
    if os.path.exists(record):
        with open(record) as f:
            lines = f.read().splitlines()
    result = Run(passed, lines, output, run_dir, timed_out)
    if passed:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def write_choices(path, decisions):
    """A choices file of `decisions`, world by world."""
    worlds = sorted({w for w, _ in decisions} | {0})
    with open(path, "w") as f:
        for w in worlds:
            f.write(f"world {w}\n" + "".join(f"{t}\n" for dw, t in decisions if dw == w))


def faults_in(decisions):
    return sum(1 for d in decisions if is_fault(d))


def replay_line(env, program, test):
    words = [f"{k}={shlex.quote(v)}" for k, v in env.items()]
    return " ".join(words + [shlex.quote(program), shlex.quote(grade.catch_spec(test["name"]))])


def shrink(program, test, seed, failing, work, timeout, budget):
    """Fewer decisions, then fewer faults, while the test still fails. Returns (decisions, the
    run of those decisions, runs spent): the run is None when no candidate failed, in which case
    the decisions are the failing run's own, not yet replayed."""
    decisions = failing.decisions
    best = None
    tries = 0
    path = os.path.join(work, "candidate.schedule")

    def still_fails(candidate):
        nonlocal tries, best
        tries += 1
        write_choices(path, candidate)
        r = run_test(program, test, {"DSYS_SEED": str(seed), "DSYS_SCHEDULE": f"choices:{path}"},
                     work, timeout)
        if not r.passed and not r.usage_error():
            best = r
            return True
        shutil.rmtree(r.trace_dir, ignore_errors=True)
        return False

    # Fewer decisions: the shortest prefix found by halving (on time after it).
    lo, hi = 0, len(decisions)
    while lo < hi and tries < budget // 3:
        mid = (lo + hi) // 2
        if still_fails(decisions[:mid]):
            hi = mid
        else:
            lo = mid + 1
    if best is not None:
        decisions = decisions[:hi]
    # Fewer faults: groups of faulty decisions made on time, halving the group size.
    group = max(1, faults_in(decisions))
    while group >= 1 and tries < budget:
        faulty = [i for i, d in enumerate(decisions) if is_fault(d)]
        if not faulty:
            break
        changed = False
        for start in range(0, len(faulty), group):
            if tries >= budget:
                break
            candidate = list(decisions)
            for i in faulty[start:start + group]:
                candidate[i] = on_time(candidate[i])
            if still_fails(candidate):
                decisions, changed = candidate, True
        if not changed:
            group //= 2
    return decisions, best, tries


SCENARIO_FAILED = re.compile(r"^dsys-scenario: seed (\d+) failed: (.*)$", re.M)
SCENARIO_DONE = re.compile(r"^dsys-scenario: (\d+) runs, (\d+) failed$", re.M)


def scenario_chunk(program, test, first, count, timeout):
    """Seeds first..first+count-1 of a [scenario] test in one process. Returns ([(seed, why)],
    None) or, when the process died before its summary line, (the failures it printed, why)."""
    env = dict(os.environ, DSYS_SCENARIO_RUNS=str(count), DSYS_SCENARIO_SEED=str(first))
    env.pop("DSYS_SEED", None)
    try:
        done = subprocess.run([program, grade.catch_spec(test["name"])], capture_output=True,
                              text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout} s"
    out = done.stdout + done.stderr
    failures = [(int(m.group(1)), m.group(2)) for m in SCENARIO_FAILED.finditer(out)]
    if not SCENARIO_DONE.search(out):
        last = (out.strip().splitlines() or ["no output"])[-1]
        return failures, f"exit status {done.returncode}; its last line: {last}"
    return failures, None


def explore_scenarios(args, tests):
    """--strategy scenario: each [scenario] test runs seeds S..S+N-1 itself (DSYS_SCENARIO_RUNS,
    DSYS_SCENARIO_SEED), in chunks spread over J processes; a chunk whose process dies is run
    again one seed per process, so that every seed is accounted for."""
    chunk = 50
    started = time.monotonic()
    runs = 0
    failed = []  # (test, seed, why)
    for test in tests:
        print(f"explore: scenario '{test['name']}' of {args.tests}, seeds {args.seed} to "
              f"{args.seed + args.runs - 1}, {args.jobs} processes at a time", flush=True)
        # A chunk of 50 seeds gets 4 times the test's time limit (which is for its 20 graded seeds).
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            jobs = {}
            for first in range(args.seed, args.seed + args.runs, chunk):
                count = min(chunk, args.seed + args.runs - first)
                jobs[pool.submit(scenario_chunk, args.tests, test, first, count,
                                 test["timeout"] * 4)] = (first, count)
            for future in concurrent.futures.as_completed(jobs):
                first, count = jobs[future]
                failures, died = future.result()
                if died:
                    print(f"explore: seeds {first}..{first + count - 1} ended early ({died}): "
                          "running them one by one", flush=True)
                    failures = []
                    for seed in range(first, first + count):
                        one, why = scenario_chunk(args.tests, test, seed, 1, test["timeout"])
                        failures += one or ([(seed, why)] if why else [])
                runs += count
                for seed, why in failures:
                    failed.append((test, seed, why))
                    print(f"violation: {test['name']}, seed {seed}: {why}\n  replay: "
                          f"{replay_line({'DSYS_SEED': str(seed)}, args.tests, test)}", flush=True)
    minutes = max(time.monotonic() - started, 1e-6) / 60
    print(f"explore: {runs} runs, {len(failed)} violation{'s' if len(failed) != 1 else ''}, "
          f"{runs / minutes:.0f} runs per minute ({time.monotonic() - started:.1f} s)")
    return 1 if failed else 0


def exhaustive_prefixes(run, prefix, depth):
    """The prefixes that branch off `run` (made under `prefix`, on time after it): at each later
    route decision below `depth`, every other choice its link offered."""
    children = []
    routes = [(i, d) for i, d in enumerate(run.decisions) if d[1].startswith("route ")]
    taken = [d for _, d in routes]
    for p in range(len(prefix), min(depth, len(taken))):
        world, word = taken[p][0], taken[p][1].split()[1]
        for alternative in run.choices[routes[p][0]]:
            if alternative != word:
                children.append(taken[:p] + [(world, f"route {alternative}")])
    return children


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--tests", required=True, help="the lab's test program")
    parser.add_argument("--test", help="one test: its exact name or the start of its name")
    parser.add_argument("--strategy", choices=["random", "pct", "exhaustive", "scenario"],
                        default="random")
    parser.add_argument("--runs", type=int, default=200,
                        help="runs in all, spread over the tests (default 200; at least one a test)")
    parser.add_argument("--depth", type=int, help="pct: change points + 1 (3); exhaustive: decisions branched (6)")
    parser.add_argument("--seed", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--out", default="explore", help="where failing schedules go (default ./explore)")
    parser.add_argument("--no-shrink", action="store_true", help="report failing schedules as found")
    parser.add_argument("--shrink-runs", type=int, default=60, help="runs spent shrinking one failure (60)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.jobs < 1 or args.shrink_runs < 0:
        parser.error("--runs and --jobs must be at least 1, --shrink-runs at least 0")
    depth = args.depth if args.depth is not None else (3 if args.strategy == "pct" else 6)
    if depth < 1:
        parser.error("--depth must be at least 1")
    if not os.access(args.tests, os.X_OK):
        parser.error(f"no test program {args.tests} (build it first: ./dsys build)")

    tests = [t for t in grade.list_tests(args.tests) if "[processes]" not in t["tags"]]
    if args.strategy == "scenario":
        tests = [t for t in tests if "[scenario]" in t["tags"]]
    if args.test:
        exact = [t for t in tests if t["name"] == args.test]
        tests = exact or [t for t in tests if t["name"].startswith(args.test)]
        if not tests:
            parser.error(f"no simulated graded test named '{args.test}' in {args.tests}")
    if not tests:
        what = "scenario test ([scenario])" if args.strategy == "scenario" else "simulated graded test"
        print(f"explore: {args.tests} has no {what}", file=sys.stderr)
        return 2
    if args.strategy == "scenario":
        return explore_scenarios(args, tests)

    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="work-", dir=args.out)
    started = time.monotonic()
    runs = violations = 0
    schedules = set()
    found = {}  # test name -> (seed, how, env, Run)
    # --runs in all: the first (runs % tests) tests get one more.
    budgets = [args.runs // len(tests) + (1 if i < args.runs % len(tests) else 0)
               for i in range(len(tests))]
    budgets = [max(1, b) for b in budgets]
    print(f"explore: {len(tests)} test{'s' if len(tests) != 1 else ''} of {args.tests}, strategy "
          f"{args.strategy}{f' (depth {depth})' if args.strategy != 'random' else ''}, "
          f"{sum(budgets)} runs, {args.jobs} at a time", flush=True)

    def refused(r):
        """A run the test program refused to make (a malformed DSYS_SCHEDULE): explore's bug or
        the user's environment, not a violation."""
        if r.usage_error():
            print(f"explore: the test program refused the schedule: {r.usage_error()}",
                  file=sys.stderr)
            return True
        return False

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for test, budget in zip(tests, budgets):
            timeout = test["timeout"]
            if args.strategy in ("random", "pct"):
                schedule = "random"
                if args.strategy == "pct":
                    # PCT's change points fall among the messages a run sends: count them once.
                    probe = run_test(args.tests, test, {"DSYS_SEED": str(args.seed),
                                                        "DSYS_SCHEDULE": "random"}, work, timeout)
                    if refused(probe):
                        return 2
                    steps = max(1, len(probe.routes()))
                    schedule = f"pct:{depth}:{steps}"
                    shutil.rmtree(probe.trace_dir, ignore_errors=True)

                def env_of(i):
                    return {"DSYS_SEED": str(args.seed + i), "DSYS_SCHEDULE": schedule}
                jobs = {pool.submit(run_test, args.tests, test, env_of(i), work, timeout): env_of(i)
                        for i in range(budget)}
                for future in concurrent.futures.as_completed(jobs):
                    r = future.result()
                    if refused(r):
                        return 2
                    runs += 1
                    schedules.add(r.schedule_id())
                    if not r.passed:
                        violations += 1
                        env = jobs[future]
                        seed = int(env["DSYS_SEED"])
                        if test["name"] not in found or seed < found[test["name"]][0]:
                            how = f"seed {seed}" + (f", {schedule}" if args.strategy == "pct" else "")
                            found[test["name"]] = (seed, how, env, r)
            else:  # exhaustive: waves of prefixes, each run giving the prefixes that branch off it
                pending, done_here = [[]], 0
                while pending and done_here < budget:
                    wave = pending[:min(args.jobs, budget - done_here)]
                    pending = pending[len(wave):]
                    futures = []
                    for prefix in wave:
                        path = os.path.join(work, f"prefix-{runs + len(futures)}.schedule")
                        write_choices(path, prefix)
                        env = {"DSYS_SEED": str(args.seed), "DSYS_SCHEDULE": f"choices:{path}"}
                        futures.append((prefix, env, pool.submit(run_test, args.tests, test, env,
                                                                 work, timeout)))
                    for prefix, env, future in futures:
                        r = future.result()
                        if refused(r):
                            return 2
                        runs += 1
                        done_here += 1
                        schedules.add(r.schedule_id())
                        pending = exhaustive_prefixes(r, prefix, depth) + pending
                        if not r.passed:
                            violations += 1
                            if test["name"] not in found:
                                how = f"seed {args.seed}, run {done_here} of the exhaustive search"
                                kept = os.path.join(args.out, f"{grade.slug(test['name'])}.found.schedule")
                                shutil.copyfile(env["DSYS_SCHEDULE"][len("choices:"):], kept)
                                found[test["name"]] = (args.seed, how, dict(env, DSYS_SCHEDULE=f"choices:{kept}"), r)
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
        seed, how, found_env, failing = found[test["name"]]
        block = grade.first_failure(failing.output)
        first = grade.failure_summary(block) if block else None
        print(f"\nFAILED: {test['name']} ({how})")
        if first:
            print("  " + first)
        elif failing.timed_out:
            print(f"  the test did not finish in {test['timeout']} s")
        saved = os.path.join(args.out, f"{grade.slug(test['name'])}.schedule")
        if not failing.recorded():
            # Killed (or crashed) before its world ended: no record to shrink; the way it was
            # found replays it.
            print("  (the run ended before its world did, so it left no record to shrink)")
            print(f"  replay: {replay_line(found_env, args.tests, test)}")
            continue
        decisions, final, tries = failing.decisions, None, 0
        if not args.no_shrink:
            decisions, final, tries = shrink(args.tests, test, seed, failing, work,
                                             test["timeout"], args.shrink_runs)
        if final is None:
            # The saved schedule has not been replayed yet: replay it once, as it is saved.
            write_choices(saved, decisions)
            final = run_test(args.tests, test, {"DSYS_SEED": str(seed),
                                                "DSYS_SCHEDULE": f"choices:{saved}"},
                             work, test["timeout"])
            tries += 1
            if final.passed:
                print("  (its decisions, replayed from a choices file, pass: the run depends on "
                      "more than its route decisions)")
                print(f"  replay: {replay_line(found_env, args.tests, test)}")
                continue
        if not args.no_shrink:
            print(f"  shrunk in {tries} runs: {len(failing.routes())} decisions with "
                  f"{faults_in(failing.decisions)} faults, {failing.events()} events -> "
                  f"{sum(1 for d in decisions if d[1].startswith('route '))} decisions with "
                  f"{faults_in(decisions)} faults, "
                  f"{final.events()} events")
        write_choices(saved, decisions)
        diagram = final.diagram()
        if diagram:
            kept = os.path.join(args.out, f"{grade.slug(test['name'])}.html")
            shutil.copyfile(diagram, kept)
            print(f"  diagram: {kept}")
        print(f"  schedule: {saved}")
        print(f"  found by: {replay_line(found_env, args.tests, test)}")
        print(f"  replay: {replay_line({'DSYS_SEED': str(seed), 'DSYS_SCHEDULE': f'choices:{saved}'}, args.tests, test)}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
