#!/usr/bin/env python3
"""Runs the grader on the misbehaving fixture program and checks what it reports.

    check_grader.py GRADE_PY FIXTURE_BINARY WORK_DIR
"""
import json
import os
import re
import subprocess
import sys
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


def grade(*args, extra_env=None):
    run = subprocess.run([sys.executable, grade_py, "--lab", "fixture", "--tests", fixture, "--jobs", "2", *args],
                         capture_output=True, text=True, timeout=120, cwd=work, env={**env, **(extra_env or {})})
    print(f"$ grade.py {' '.join(args)}  (exit {run.returncode})\n{run.stdout}{run.stderr}")
    return run


def section(stdout, number):
    """The failure report of test `number` in the grader's output."""
    found = re.search(rf"^--- {number}\. .*?(?=^--- \d+\. |^wrote |\Z)", stdout, re.M | re.S)
    return found.group(0) if found else ""


def table_row(stdout, number):
    found = re.search(rf"^\s*{number}  fixture: .*$", stdout, re.M)
    return found.group(0) if found else ""


# A trace of an earlier run: a full run clears it.
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
expect(not os.path.exists(stale), "a full run left the trace of an earlier run in traces/fixture/")

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
expect(os.path.exists(stale), "a run of one test cleared the traces of the others")
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

if failures:
    print("grader check FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("grader check: every misbehaving test was reported with its cause (the first failed assertion in full, "
      "a dead child's last words, its trace and log), the table and reports are complete, --only and --verbose work")
