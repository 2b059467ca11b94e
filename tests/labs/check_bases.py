#!/usr/bin/env python3
"""Checks that each flavour of the demo lab (labx, DEPENDS lab1) is built from the code it should be.

    check_bases.py GRADE_PY LABS_TSV WORK_DIR

  labs            labx's stubs on the student's lab 1 (untouched stubs too)
  base_reference  labx's stubs on the reference lab 1
  solutions       the reference of both
"""
import json
import os
import re
import subprocess
import sys

grade_py, manifest, work = (os.path.abspath(a) for a in sys.argv[1:4])
os.makedirs(work, exist_ok=True)
rows = {}
for line in open(manifest):
    lab, flavour, _kind, _depends, _target, tests, apps, _hidden_target, hidden = line.rstrip("\n").split("\t")
    rows[(lab, flavour)] = {"tests": tests, "apps": apps, "hidden": hidden}
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)


def run(command):
    out = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=work)
    return out.returncode, out.stdout + out.stderr


def grade(flavour, *args):
    code, output = run([sys.executable, grade_py, "--lab", "labx", "--tests", rows[("labx", flavour)]["tests"],
                        "--jobs", "2", *args])
    print(f"--- grade labx ({flavour}{', ' + ' '.join(args) if args else ''}): exit {code}\n{output}")
    return code, output


def grade_hidden(flavour, *args):
    return grade(flavour, "--hidden-tests", rows[("labx", flavour)]["hidden"], *args)


def test(flavour, name):
    spec = re.sub(r"([\\,\[\]])", r"\\\1", name)  # exactly this test: as the grader does
    code, output = run([rows[("labx", flavour)]["tests"], spec])
    print(f"--- labx ({flavour}) \"{name}\": exit {code}\n{output[-2000:]}")
    return code, output


for flavour in ["labs", "solutions", "base_reference"]:
    expect(("labx", flavour) in rows, f"labs.tsv has no labx {flavour}")
if failures:
    print("\n".join(failures))
    sys.exit(1)

# The graded test: full points on the reference; the stub of labx is what fails on either base.
code, _ = grade("solutions")
expect(code == 0, "labx does not pass in full on solutions/")
code, output = grade("labs", "--expect-fail")
expect(code == 0, "a graded test of labx passes on the untouched stubs")
code, output = grade("base_reference", "--expect-fail")
expect(code == 0, "a graded test of labx passes on its untouched stubs on the reference base")
expect("unimplemented: LockedCounter::add" in output,
       "on the reference base, labx's own code is not the stub of labs/ (no 'unimplemented: LockedCounter::add')")

# The hidden test (solutions/labx_demo/hidden/): a program of its own in every flavour, graded
# after the lab's own tests with --hidden-tests, shown after the due date in results.json.
for flavour in ["labs", "solutions", "base_reference"]:
    expect(os.path.isfile(rows[("labx", flavour)]["hidden"]), f"labx ({flavour}) has no hidden test program")
expect(not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "labs", "labx_demo", "hidden")),
       "the hidden tests were copied into the handout (labs/labx_demo/hidden)")
report = os.path.join(work, "hidden.json")
code, output = grade_hidden("solutions", "--json", report)
expect(code == 0 and "15/15" in output and "(hidden)" in output,
       "labx with its hidden test does not pass in full (15/15) on solutions/")
try:
    tests = {t["name"]: t for t in json.load(open(report))["tests"]}
except (OSError, ValueError, KeyError) as e:
    tests = {}
    failures.append(f"no results.json from the grade with the hidden test: {e}")
hidden_name = "LockedCounter::add keeps two counters on two locks apart"
expect(tests.get(hidden_name, {}).get("visibility") == "after_due_date",
       "the hidden test is not in results.json with visibility after_due_date")
expect(all(t["visibility"] == "visible" for n, t in tests.items() if n != hidden_name),
       "a test of the lab's own is not visible in results.json")
code, output = grade_hidden("base_reference", "--expect-fail")
expect(code == 0, "the hidden test passes on labx's untouched stubs")

# The given code on lab 1: it works on the reference lab 1, and reaches lab 1's stub on the student's.
given = "with_lock: bodies under one lock never overlap, on lab 1's lock service"
code, output = test("base_reference", given)
expect(code == 0 and "All tests passed" in output, "with --base reference, labx's given code fails on lab 1")
code, output = test("solutions", given)
expect(code == 0 and "All tests passed" in output, "on solutions/, labx's given code fails on lab 1")
code, output = test("labs", given)
expect(code != 0 and "unimplemented: LockClient::acquire" in output,
       "on the default base, labx is not built on the student's lab 1 (no 'unimplemented: LockClient::acquire')")

# Each flavour's tests find its programs beside them, and those are lab 1's, built on the same base.
base_of = {"labs": "labs", "solutions": "solutions", "base_reference": "solutions"}
for flavour, base in base_of.items():
    code, output = test(flavour, "the lab's programs are beside its tests, in DSYS_APPS_DIR")
    expect(code == 0 and "All tests passed" in output,
           f"labx ({flavour}): its programs are not in DSYS_APPS_DIR beside its tests")
    for program in ["lock_server", "lock_tester"]:
        mine = os.path.realpath(os.path.join(rows[("labx", flavour)]["apps"], program))
        lab1 = os.path.realpath(os.path.join(rows[("lab1", base)]["apps"], program))
        expect(mine == lab1, f"labx ({flavour}): {program} is {mine}, not lab 1's on its base ({lab1})")
expect(rows[("lab1", "labs")]["apps"] != rows[("lab1", "solutions")]["apps"],
       "lab 1's flavours share a program directory")

if failures:
    print("check FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("check: labx is built on the student's lab 1 by default, on the reference with --base reference, "
      "and from solutions/ with --impl solutions; each flavour's tests find its own programs")
