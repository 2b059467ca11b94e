#!/usr/bin/env python3
"""./dsys explore's search, on the planted broken filter (broken_filter_test.cpp).

  check_explore.py EXPLORE_PY FIXTURE STRATEGY WORK_DIR

With the strategy given, explore must find the double grant within its run budget, shrink it,
save the schedule and its diagram, and print a replay line that, run as printed, fails the same
way. Exit status 0 when all of that holds.
"""
import os
import re
import shutil
import subprocess
import sys

explore, fixture, strategy, work = sys.argv[1:5]
out_dir = os.path.join(work, strategy)
shutil.rmtree(out_dir, ignore_errors=True)
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)
    return condition


done = subprocess.run([sys.executable, explore, "--tests", fixture, "--strategy", strategy,
                       "--runs", "400", "--jobs", "2", "--out", out_dir],
                      capture_output=True, text=True, timeout=600)
out = done.stdout + done.stderr
print(out)
expect(done.returncode == 1, f"explore exited with {done.returncode}, not 1 (violations found)")
summary = re.search(r"explore: (\d+) runs, (\d+) distinct schedules, (\d+) violations?, (\d+) runs per minute", out)
if expect(summary, "no summary line (runs, distinct schedules, violations, runs per minute)"):
    runs, distinct, violations, _ = map(int, summary.groups())
    expect(violations >= 1, "no violation found")
    expect(distinct >= 2 and distinct <= runs, f"{distinct} distinct schedules of {runs} runs")
expect("granted lock 0 while" in out, "the failure is not the double grant")
shrunk = re.search(r"shrunk in \d+ runs: (\d+) decisions with (\d+) faults, (\d+) events -> "
                   r"(\d+) decisions with (\d+) faults, (\d+) events", out)
if expect(shrunk, "no shrinking reported"):
    before_faults, after_faults = int(shrunk.group(2)), int(shrunk.group(5))
    expect(1 <= after_faults <= before_faults, f"faults {before_faults} -> {after_faults}")
    expect(int(shrunk.group(4)) <= int(shrunk.group(1)), "more decisions after shrinking")
diagram = re.search(r"^  diagram: (\S+)$", out, re.M)
if expect(diagram and os.path.isfile(diagram.group(1)), "no diagram saved"):
    with open(diagram.group(1)) as f:
        page = f.read()
    expect("holds lock 0 (twice!)" in page, "the diagram does not show the second hold")
schedule = re.search(r"^  schedule: (\S+)$", out, re.M)
if expect(schedule and os.path.isfile(schedule.group(1)), "no schedule saved"):
    with open(schedule.group(1)) as f:
        expect(f.read().startswith("world 0\n"), "the saved schedule does not start with 'world 0'")
found_by = re.search(r"^  found by: (.+)$", out, re.M)
if expect(found_by, "no 'found by' line (the run as it was found)"):
    again = subprocess.run(found_by.group(1), shell=True, capture_output=True, text=True, timeout=120)
    expect(again.returncode != 0 and "granted lock 0 while" in again.stdout + again.stderr,
           "the 'found by' line does not fail with the double grant")
replay = re.search(r"^  replay: (.+)$", out, re.M)
if expect(replay, "no replay line"):
    again = subprocess.run(replay.group(1), shell=True, capture_output=True, text=True, timeout=120)
    expect(again.returncode != 0, "the replay line passes: it does not replay the failure")
    expect("granted lock 0 while" in again.stdout + again.stderr, "the replay fails differently")
for f in failures:
    print("FAILED:", f)
sys.exit(1 if failures else 0)
