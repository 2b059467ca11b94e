#!/usr/bin/env python3
"""./dsys explore's scenario strategy, on lab 7's reference with a planted bug.

  check_scenario.py EXPLORE_PY FIXTURE BUG WORK_DIR

explore --strategy scenario must report at least one failing seed within 1,000 runs, with a replay
line; run as printed, the replay line must fail the same way (the invariant the bug breaks) and
write the run's trace and diagram. Prints the first failing seed (the runs it took to find the
bug). Exit status 0 when all of that holds.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

explore, fixture, bug, work = sys.argv[1:5]
# What each planted bug breaks, in the words of the test's invariants.
expected = {"forget_promises": "promises hold", "ignore_v_a": "agreement"}[bug]
out_dir = os.path.join(work, bug)
shutil.rmtree(out_dir, ignore_errors=True)
os.makedirs(out_dir)
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)
    return condition


done = subprocess.run([sys.executable, explore, "--tests", fixture, "--strategy", "scenario",
                       "--runs", "1000", "--jobs", "2", "--out", out_dir],
                      capture_output=True, text=True, timeout=500)
out = done.stdout + done.stderr
print(out[-4000:])
expect(done.returncode == 1, f"explore exited with {done.returncode}, not 1 (violations found)")
summary = re.search(r"explore: (\d+) runs, (\d+) violations?, (\d+) runs per minute", out)
if expect(summary, "no summary line (runs, violations, runs per minute)"):
    runs, violations, _ = map(int, summary.groups())
    expect(runs == 1000, f"{runs} runs, not 1000")
    expect(violations >= 1, "no violation found")
found = re.findall(r"^violation: .*, seed (\d+): (.*)\n  replay: (.*)$", out, re.M)
if expect(found, "no violation with a replay line"):
    seeds = sorted(int(s) for s, _, _ in found)
    print(f"check_scenario: {bug}: {len(found)} of 1000 runs failed; the first at seed {seeds[0]}")
    expect(any(expected in why for _, why, _ in found),
           f"no violation says '{expected}': {[why for _, why, _ in found][:3]}")
    seed, why, replay = min(found, key=lambda f: int(f[0]))
    words = shlex.split(replay)
    env = dict(os.environ, DSYS_TRACE_DIR=os.path.join(out_dir, "replay"))
    env.pop("DSYS_SCENARIO_RUNS", None)
    while words and "=" in words[0] and not words[0].startswith("/"):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    again = subprocess.run(words, capture_output=True, text=True, env=env, timeout=300)
    replayed = again.stdout + again.stderr
    expect(again.returncode != 0, "the replay line passed")
    expect(why.split(":")[0] in replayed, f"the replay does not fail with '{why.split(':')[0]}'")
    traces = os.listdir(env["DSYS_TRACE_DIR"]) if os.path.isdir(env["DSYS_TRACE_DIR"]) else []
    expect(any(t.endswith(".trace") for t in traces) and any(t.endswith(".html") for t in traces),
           f"the replay wrote no trace and diagram to {env['DSYS_TRACE_DIR']}: {traces}")
for f in failures:
    print(f"check_scenario: not so: {f}")
sys.exit(1 if failures else 0)
