#!/usr/bin/env python3
"""Runs the grader on the misbehaving fixture program and checks what it reports.

    check_grader.py GRADE_PY FIXTURE_BINARY WORK_DIR
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

grade_py, fixture, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
results, junit = os.path.join(work, "results.json"), os.path.join(work, "junit.xml")
run = subprocess.run([sys.executable, grade_py, "--lab", "fixture", "--tests", fixture, "--json", results,
                      "--junit", junit, "--jobs", "2"], capture_output=True, text=True, timeout=120, cwd=work)
print(run.stdout)
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)


expect(run.returncode == 1, f"exit status {run.returncode}, expected 1 (not every test passed)")
report = json.load(open(results))
tests = {t["name"]: t for t in report["tests"]}
expect(report["score"] == 3 and report["max_score"] == 15, f"score {report['score']}/{report['max_score']}, expected 3/15")
expect(set(tests) == {"fixture: passes", "fixture: fails an assertion, with a seed", "fixture: crashes",
                      "fixture: hangs", "fixture: reaches a stub"}, f"graded tests: {sorted(tests)}")
for t in report["tests"]:
    expect(set(t) >= {"name", "score", "max_score", "status", "output", "visibility"}, f"fields of {t['name']}")
expect(tests["fixture: passes"]["status"] == "passed", "the passing test did not pass")
for name in ["fixture: fails an assertion, with a seed", "fixture: crashes", "fixture: hangs", "fixture: reaches a stub"]:
    expect(tests[name]["status"] == "failed" and tests[name]["score"] == 0, f"{name} was not failed")
    expect('--only "' + name + '"' in tests[name]["output"], f"{name}: no replay line")
expect("DSYS_SEED=77 ./dsys grade fixture" in tests["fixture: fails an assertion, with a seed"]["output"],
       "the seeded failure's replay line has no DSYS_SEED=77")
expect("crashed" in run.stdout, "the table does not say a test crashed")
expect("timeout" in run.stdout and "killed after its 2 s limit" in run.stdout, "the table does not show the timeout")
expect("unimplemented: Fixture::method" in run.stdout, "the table does not name the stub")
expect(tests["fixture: hangs"]["execution_time"] < 30, "the hanging test was not stopped at its limit")
suite = ET.parse(junit).getroot()
expect(suite.get("tests") == "5" and suite.get("failures") == "4", f"junit: {suite.attrib}")

if failures:
    print("grader check FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("grader check: every misbehaving test was reported, and the table and reports are complete")
