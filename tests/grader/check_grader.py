#!/usr/bin/env python3
"""Runs the grader on the misbehaving fixture program and checks what it reports.

    check_grader.py GRADE_PY FIXTURE_BINARY WORK_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

grade_py, fixture, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
results, junit = os.path.join(work, "results.json"), os.path.join(work, "junit.xml")
trace_dir = os.path.join(work, "traces", "fixture")
env = {k: v for k, v in os.environ.items() if k not in ("DSYS_TRACE_DIR", "DSYS_SEED")}
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)


def grade(*args, extra_env=None, cwd=work):
    run = subprocess.run([sys.executable, grade_py, "--lab", "fixture", "--tests", fixture, "--jobs", "2", *args],
                         capture_output=True, text=True, timeout=120, cwd=cwd, env={**env, **(extra_env or {})})
    print(f"$ grade.py {' '.join(args)}  (exit {run.returncode})\n{run.stdout}{run.stderr}")
    return run


def section(stdout, number):
    """The failure report of test `number` in the grader's output."""
    found = re.search(rf"^--- {number}\. .*?(?=^--- \d+\. |^wrote |\Z)", stdout, re.M | re.S)
    return found.group(0) if found else ""


def table_row(stdout, number):
    found = re.search(rf"^\s*{number}  fixture: .*$", stdout, re.M)
    return found.group(0) if found else ""


def under_row(stdout, number):
    """The lines under test `number`'s row of the table (its figures), without their indent."""
    found = re.search(rf"^\s*{number}  fixture: .*\n((?:       .*\n)*)", stdout, re.M)
    return [line.strip() for line in found.group(1).splitlines()] if found else None


def run_dir_of(stdout):
    """The run directory the grader's output names, or None."""
    found = re.search(r"^this run's traces and logs: (\S+)/", stdout, re.M)
    return found.group(1) if found else None


# A trace that a grader before the run directories left loose in traces/fixture/: a full run
# clears it.
os.makedirs(trace_dir, exist_ok=True)
stale = os.path.join(trace_dir, "fixture-stale-seed1.trace")
open(stale, "w").close()

run = grade("--json", results, "--junit", junit)
out = run.stdout
expect(run.returncode == 1, f"exit status {run.returncode}, expected 1 (not every test passed)")
report = json.load(open(results))
tests = {t["name"]: t for t in report["tests"]}
names = ["fixture: passes", "fixture: fails an assertion, with a seed", "fixture: crashes", "fixture: hangs",
         "fixture: reaches a stub", "fixture: compares enums, with messages, then talks a lot",
         "fixture: a child process dies", "fixture: a run breaks an invariant",
         "fixture: a run breaks an invariant, tracing off"]
expect(report["score"] == 3 and report["max_score"] == 19, f"score {report['score']}/{report['max_score']}, expected 3/19")
expect(set(tests) == set(names), f"graded tests: {sorted(tests)}")
for t in report["tests"]:
    expect(set(t) >= {"name", "score", "max_score", "status", "output", "visibility"}, f"fields of {t['name']}")
expect(tests["fixture: passes"]["status"] == "passed", "the passing test did not pass")
for number, name in enumerate(names, 1):
    if number == 1:
        continue
    expect(tests[name]["status"] == "failed" and tests[name]["score"] == 0, f"{name} was not failed")
    expect('--only "' + name + '"' in tests[name]["output"], f"{name}: no replay line in results.json")
    block = section(out, number)
    expect('--only "' + name + '"' in block, f"{name}: no replay line in its failure report")
    log = re.search(r"^log:\s+(\S+)", block, re.M)
    expect(log and os.path.isfile(os.path.join(work, log.group(1))), f"{name}: no log file named in its report")
expect(out.startswith("grading fixture: 9 tests, 2 at a time"), "the first line does not count 9 tests")
progress = [int(n) for n in re.findall(r"^\s+(\d+)\. (?:PASSED|FAILED|CRASHED|TIMEOUT|ERROR)", out, re.M)]
rows = [int(n) for n in re.findall(r"^\s*(\d+)  fixture: ", out, re.M)]
expect(progress == list(range(1, 10)), f"progress is not in the table's order: {progress}")
expect(rows == list(range(1, 10)), f"the table's rows are not numbered 1 to 9: {rows}")
expect(not os.path.exists(stale), "a full run left the trace an earlier grader left loose in traces/fixture/")

# The run's directory, named by its start, holds its logs and traces, and the output names it.
run_dir = run_dir_of(out)
expect(run_dir and re.fullmatch(r"traces/fixture/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(-\d+)?", run_dir) and
       os.path.isdir(os.path.join(work, run_dir)), f"the output does not name the run's directory: {run_dir}")
for number in range(2, 10):
    log = re.search(r"^log:\s+(\S+)", section(out, number), re.M)
    expect(log and os.path.dirname(log.group(1)) == run_dir, f"test {number}'s log is not in the run's directory")
shown_trace = re.search(r"^trace:\s+(\S+)", section(out, 2), re.M)
expect(shown_trace and os.path.dirname(shown_trace.group(1)) == run_dir, "test 2's trace is not in the run's directory")

# A passing test's figures, under its row: its "dsys: " lines, not its chatter nor Catch2's.
expect(under_row(out, 1) == ["fixture RPCs: plan 40, made 4 (10.0x fewer)"],
       f"the passing test's figure is not under its row: {under_row(out, 1)}")
expect(under_row(out, 2) == [], f"a failed test has lines under its row: {under_row(out, 2)}")
expect("chatter that is not a figure" not in out and "All tests passed" not in out,
       "a line that is not a figure is shown")

# The reasons in the table.
expect("crashed (signal 6" in table_row(out, 3), "the table does not say a test crashed")
expect("killed after its 2 s limit" in table_row(out, 4), "the table does not show the timeout")
expect("unimplemented: Fixture::method" in table_row(out, 5), "the table does not name the stub")
expect("lock_server exited: unimplemented: ReplyWindow::admit" in table_row(out, 7),
       "the table does not name the child process that died, and its last words")
expect("invariant 'never' broken" in table_row(out, 8), "the table does not say which invariant broke")
expect("CHECK( world.seed() == 1234567 )" in table_row(out, 2), "the table does not show the failed check")

# The first failed assertion in full, though the test printed hundreds of lines after it.
enums = section(out, 6)
for part in ["fixture_test.cpp:", ": FAILED:", "CHECK( seen == fixture::Colour::blue )", "with expansion:",
             "red == blue", "with messages:", "the colour the test saw", "a second message"]:
    expect(part in enums, f"the first failed assertion is not shown in full: no '{part}'")
expect("Colour::green" not in enums, "a later failed assertion is shown, not only the first")
expect("later output line" not in out, "the output after the first failed assertion is shown without --verbose")
log = re.search(r"^log:\s+(\S+)", enums, re.M)
text = open(os.path.join(work, log.group(1))).read() if log else ""
expect("later output line 0\n" in text and "later output line 399\n" in text, "the log is not the whole output")
expect(enums.index("red == blue") < enums.index("replay:") < enums.index("log:"),
       "the report is not: the assertion, the replay line, the log")
expect("77 == 1234567" in section(out, 2), "the seeded failure does not show its expansion")
expect("DSYS_SEED=77 ./dsys grade fixture" in tests["fixture: fails an assertion, with a seed"]["output"],
       "the seeded failure's replay line has no DSYS_SEED=77")

# A dead child's last words, in its failure report.
expect("dsys: child process lock_server exited: unimplemented: ReplyWindow::admit" in section(out, 7),
       "the failure report does not show the child process that died")

# Traces: a live world's, a world that died of a RunFailure, a world that does not trace.
for number, trace in [(2, "fixture-seeded-seed77.trace"), (8, "fixture-invariant-seed78.trace")]:
    shown = re.search(r"^trace:\s+(\S+)", section(out, number), re.M)
    expect(shown and shown.group(1).endswith(trace) and os.path.isfile(os.path.join(work, shown.group(1))),
           f"test {number}: its report does not name its trace {trace}, or it was not written")
    diagram = re.search(r"^diagram:\s+(\S+)", section(out, number), re.M)
    expect(diagram and diagram.group(1).endswith(trace.replace(".trace", ".html")) and
           os.path.isfile(os.path.join(work, diagram.group(1))),
           f"test {number}: its report does not name its diagram, or it was not written")
expect(re.search(r"^trace:\s+none \(tracing is off in this test\)$", section(out, 9), re.M),
       "a test with tracing off does not say so on its trace line")
expect(tests["fixture: hangs"]["execution_time"] < 30, "the hanging test was not stopped at its limit")
suite = ET.parse(junit).getroot()
expect(suite.get("tests") == "9" and suite.get("failures") == "8", f"junit: {suite.attrib}")

# --only: a number, numbers, a name's start, a name that is not there; --verbose.
open(stale, "w").close()
run = grade("--only", "2", "--json", results)
one = json.load(open(results))
expect(run.returncode == 1 and [t["name"] for t in one["tests"]] == [names[1]], "--only 2 did not run test 2 alone")
expect(run.stdout.startswith("grading fixture: 1 test, 1 at a time"), "--only 2: the first line does not say '1 test'")
expect(table_row(run.stdout, 2) != "" and table_row(run.stdout, 1) == "", "--only 2: the table does not number it 2")
expect(os.path.exists(stale), "a run of one test cleared traces that were not its own")
expect(run_dir and os.path.isdir(os.path.join(work, run_dir)), "a run of one test removed the directory of the run before")
run = grade("--only", "1,5", "--json", results)
expect([t["name"] for t in json.load(open(results))["tests"]] == [names[0], names[4]], "--only 1,5 did not run tests 1 and 5")
run = grade("--only", "fixture: a run", "--json", results)
expect([t["name"] for t in json.load(open(results))["tests"]] == names[7:9],
       "--only 'fixture: a run' did not run the two tests whose names start so")
run = grade("--only", names[7], "--json", results)
expect([t["name"] for t in json.load(open(results))["tests"]] == [names[7]], "--only NAME did not run that test alone")
run = grade("--only", "no such test")
expect(run.returncode == 2 and " 9. fixture: a run breaks an invariant, tracing off" in run.stdout,
       "--only with an unknown name does not list the numbered tests")
run = grade("--only", "12")
expect(run.returncode == 2 and "numbered 1 to 9" in run.stdout, "--only 12 is not refused")
run = grade("--only", "6", "--verbose")
expect("later output line 399" in run.stdout and "red == blue" in run.stdout,
       "--verbose does not show the whole output and the first failed assertion")

# Figures: at most 3 under a row, and a line that says how many more; --verbose shows them all.
run = grade("--only", "1", extra_env={"FIXTURE_FIGURES": "5"})
expect(under_row(run.stdout, 1) == ["fixture RPCs: plan 40, made 4 (10.0x fewer)", "fixture figure 2 of 5",
                                    "fixture figure 3 of 5", "[... 2 more figure lines: --verbose shows them]"],
       f"5 figures: not the first 3 and how many more: {under_row(run.stdout, 1)}")
run = grade("--only", "1", "--verbose", extra_env={"FIXTURE_FIGURES": "5"})
expect(under_row(run.stdout, 1) == ["fixture RPCs: plan 40, made 4 (10.0x fewer)"] +
       [f"fixture figure {i} of 5" for i in range(2, 6)], f"--verbose: not all 5 figures: {under_row(run.stdout, 1)}")

# A test that skips itself ("dsys: skipped: WHY"): no points, not a failure, and said so.
run = grade("--only", "1", "--json", results, extra_env={"FIXTURE_SKIP": "1"})
skipped = json.load(open(results))
expect(run.returncode == 0, f"a skipped test made the grader fail (exit {run.returncode})")
expect(skipped["score"] == 0 and skipped["tests"][0]["score"] == 0, "a skipped test earned points")
expect("FIXTURE_SKIP is set" in skipped["tests"][0]["output"], "results.json does not say why the test was skipped")
expect(re.search(r"0/3\s+skipped .*not run here, 0 points: FIXTURE_SKIP is set", table_row(run.stdout, 1)),
       "the table does not show the test as skipped, with why")
expect("(3 points skipped: not run here)" in run.stdout, "the total does not say how many points were not run")
run = grade("--only", "1", "--expect-fail", extra_env={"FIXTURE_SKIP": "1"})
expect(run.returncode == 0, "--expect-fail counts a skipped test as passing")

# Hidden tests: a second test program's graded tests, numbered after the lab's, shown after the
# due date (the fixture's own program stands in for it).
run = grade("--hidden-tests", fixture, "--only", "1,10", "--json", results)
both = json.load(open(results))["tests"]
expect(run.returncode == 0 and [(t["number"], t["visibility"]) for t in both] == [("1", "visible"), ("10", "after_due_date")],
       f"--hidden-tests: not test 1 visible and test 10 hidden: {[(t['number'], t['visibility']) for t in both]}")
expect("fixture: passes (hidden)" in table_row(run.stdout, 10), "the table does not mark the hidden test")

# The run directories: 6 runs (of one test, a few in the same second) leave the 5 newest, each
# with its own name; the newest holds the last run's log. A run that leaves nothing (its tests
# passed) leaves no directory.
runs_work = os.path.join(work, "runs")
shutil.rmtree(runs_work, ignore_errors=True)
os.makedirs(runs_work)
runs_root = os.path.join(runs_work, "traces", "fixture")


def on_disk():
    def key(name):
        m = re.fullmatch(r"(.{19})(?:-(\d+))?", name)
        return (m.group(1), int(m.group(2) or 1))
    return sorted(os.listdir(runs_root), key=key) if os.path.isdir(runs_root) else []


named = []
for i in range(6):
    run = grade("--only", "2", cwd=runs_work)
    named.append(run_dir_of(run.stdout))
kept = on_disk()
expect(None not in named and len(set(named)) == 6, f"6 runs did not name 6 different directories: {named}")
expect(len(kept) == 5, f"6 runs left {len(kept)} run directories, not 5: {kept}")
expect(named[0] and os.path.basename(named[0]) not in kept, "the oldest of 6 runs' directories was not removed")
expect(kept and named[-1] == f"traces/fixture/{kept[-1]}", f"the last run's directory {named[-1]} is not the newest")
log = re.search(r"^log:\s+(\S+)", run.stdout, re.M)
expect(log and kept and log.group(1) == f"traces/fixture/{kept[-1]}/fixture-fails-an-assertion-with-a-seed.log"
       and os.path.isfile(os.path.join(runs_work, log.group(1))), "the newest run directory does not hold the new log")
expect(kept and os.path.isfile(os.path.join(runs_root, kept[-1], "fixture-seeded-seed77.trace")),
       "the newest run directory does not hold the new trace")
run = grade("--only", "1", cwd=runs_work)
expect(on_disk() == kept and run_dir_of(run.stdout) is None,
       "a run whose tests passed left a directory, or named one")
sys.path.insert(0, os.path.dirname(os.path.abspath(grade_py)))
import grade as grader  # noqa: E402 (tools/grade.py)
said = ("dsys: first failed assertion\ndsys: end of first failed assertion\ndsys: skipped: no FUSE\n"
        "dsys: child process lock_server exited with status 1: bye\ndsys: lab 4 40, lab 5 4 (10.0x fewer)\n"
        "lab 4 1\n================\nAll tests passed (1 assertion in 1 test case)\n")
expect(grader.figures(said) == ["lab 4 40, lab 5 4 (10.0x fewer)"],
       f"the grader's own lines or Catch2's are taken for figures: {grader.figures(said)}")
started = time.time()
same_root = os.path.join(runs_work, "same")
same = [os.path.basename(grader.new_run_dir(same_root, started)) for _ in range(11)]
expect(len(set(same)) == 11 and same[1] == same[0] + "-2" and
       sorted(same, key=grader.run_key) == same, f"runs started in the same second: {same}")
os.rmdir(os.path.join(same_root, same[0]))  # the oldest of that second removed: the next is still the newest
later = os.path.basename(grader.new_run_dir(same_root, started))
expect(later == same[0] + "-12", f"a run after the oldest of its second was removed is named {later}")


# --format quickfeed: after the table, one QuickFeed score line per graded test, with the session
# secret, which no test could read (the passing test checks that its environment has none).
secret = "s3cr3t-of-this-session"
run = grade("--format", "quickfeed", extra_env={"QUICKFEED_SESSION_SECRET": secret})
lines = [line for line in run.stdout.splitlines() if line.startswith('{"Secret":')]
scores = [json.loads(line) for line in lines]
expect(len(scores) == 9, f"{len(scores)} QuickFeed score lines, expected one per graded test (9)")
expect(all(set(sc) == {"Secret", "TestName", "TaskName", "Score", "MaxScore", "Weight"} for sc in scores),
       f"QuickFeed's fields: {[sorted(sc) for sc in scores]}")
expect(all(sc["Secret"] == secret and sc["TaskName"] == "fixture" for sc in scores),
       "every score line carries the secret and the lab as its task")
by_name = {sc["TestName"]: sc for sc in scores}
expect(set(by_name) == set(names), f"the score lines' tests: {sorted(by_name)}")
expect(by_name.get("fixture: passes", {}).get("Score") == 3 == by_name["fixture: passes"]["MaxScore"],
       "the passing test scores its points (3 of 3): the secret was out of its environment")
expect(all(isinstance(sc[k], int) and sc["MaxScore"] > 0 and sc["Weight"] > 0 and 0 <= sc["Score"] <= sc["MaxScore"]
           for sc in scores for k in ("Score", "MaxScore", "Weight")), "scores are whole, weights positive")
expect(sum(sc["Score"] for sc in scores) == 3 and sum(sc["Weight"] for sc in scores) == 19,
       "the score lines add up to the table's 3/19")
expect(secret not in run.stdout.replace("\n".join(lines), ""), "the secret appears outside the score lines")
run = grade("--format", "quickfeed")
expect("QUICKFEED_SESSION_SECRET is not set" in run.stderr, "a missing secret is not reported")
fractional = grader.quickfeed_lines("lab6", [{"name": "a", "points": 2.3077, "status": "passed"},
                                             {"name": "b", "points": 5, "status": "failed"}], "x")
expect([json.loads(line)["Weight"] for line in fractional] == [231, 500],
       f"points that are not whole are weighed in hundredths: {fractional}")

if failures:
    print("grader check FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("grader check: every misbehaving test was reported with its cause (the first failed assertion in full, "
      "a dead child's last words, its trace and log), the table and reports are complete, a passing test's "
      "figures are under its row, each run keeps its logs and traces in its own directory (the last 5 kept), "
      "--only and --verbose work")
