#!/usr/bin/env python3
"""The instructors' tools, end to end, on lab 1: ./dsys autograder, its setup.sh and
run_autograder on a fake /autograder tree, ./dsys grade-many and ./dsys submit.

    check_autograder.py KIT WORK

It makes lab 1's autograder zip, unpacks it as Gradescope does into WORK/autograder/source, runs
setup.sh (which builds the library and lab 1 once), then run_autograder for submissions that are
correct, empty, do not compile and crash at start-up, and checks each results.json. Then
./dsys grade-many grades three submissions (a zip of loose files, a broken directory, an empty
one) in that same copy (its build tree is reused) and it checks the CSV. The submissions are
made from solutions/lab1_lock, so this runs only in the instructor's tree.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile

kit, work = (os.path.abspath(a) for a in sys.argv[1:3])
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
root = os.path.join(work, "autograder")
source = os.path.join(root, "source")
failures = []
reference = os.path.join(kit, "solutions", "lab1_lock")
names = [n.strip() for n in open(os.path.join(kit, "labs", "lab1_lock", "STUDENT_FILES"))
         if n.strip() and not n.startswith("#")]


def expect(condition, what):
    if not condition:
        failures.append(what)
        print(f"check: FAILED: {what}", flush=True)


def run(command, limit, **kw):
    start = time.monotonic()
    out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=limit, **kw)
    print(f"$ {' '.join(command)}  (exit {out.returncode}, {time.monotonic() - start:.0f} s)\n{out.stdout[-3000:]}",
          flush=True)
    return out


def unpack(zip_path, into):
    """As unzip does: the files and their Unix permissions (Python's extractall drops those)."""
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            path = z.extract(info, into)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(path, mode & 0o777)


def submission(files, layout="kit"):
    """A fresh WORK/autograder/submission holding `files` ({name: text}) at their kit paths, or
    loose at its top (layout "loose")."""
    directory = os.path.join(root, "submission")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for name, text in files.items():
        path = os.path.join(directory, "labs", "lab1_lock", name) if layout == "kit" else os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return directory


def grade(case):
    results = os.path.join(root, "results", "results.json")
    shutil.rmtree(os.path.dirname(results), ignore_errors=True)
    out = run([os.path.join(source, "run_autograder")], 1200, env={**os.environ, "AUTOGRADER_ROOT": root})
    expect(out.returncode == 0, f"{case}: run_autograder exited with {out.returncode}")
    try:
        with open(results) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        expect(False, f"{case}: no valid results.json: {e}")
        return {"score": None, "output": "", "tests": []}
    expect(isinstance(report.get("score"), (int, float)), f"{case}: results.json has no score")
    print(f"--- {case}: score {report.get('score')}\n{report.get('output', '')[:1500]}", flush=True)
    return report


correct = {n: open(os.path.join(reference, n)).read() for n in names}
broken = dict(correct, **{"lock_server.cpp": correct["lock_server.cpp"] + "\nint this_does_not_compile = ;\n"})
crashing = dict(correct, **{"lock_server.cpp": correct["lock_server.cpp"] +
                            "\n#include <cstdlib>\n[[maybe_unused]] static const int crash_at_start = (std::abort(), 0);\n"})

# The zip: setup.sh, run_autograder, the kit without lab 1's reference.
zip_path = os.path.join(work, "autograder-lab1.zip")
out = run([os.path.join(kit, "dsys"), "autograder", "lab1", "--out", zip_path], 120, cwd=kit)
expect(out.returncode == 0 and os.path.isfile(zip_path), "./dsys autograder lab1 did not write its zip")
members = zipfile.ZipFile(zip_path).namelist()
expect({"setup.sh", "run_autograder", "kit/dsys", "kit/labs/lab1_lock/lock_server.cpp"} <= set(members),
       "the zip lacks setup.sh, run_autograder or the kit")
expect(not any(m.startswith("kit/solutions/lab1_lock/") for m in members), "the zip holds lab 1's reference")
# A lab that builds on others, graded on their reference: theirs is in its zip, its own is not.
zip2 = os.path.join(work, "autograder-lab2.zip")
run([os.path.join(kit, "dsys"), "autograder", "lab2", "--out", zip2], 120, cwd=kit)
members2 = set(zipfile.ZipFile(zip2).namelist())
expect("kit/solutions/lab1_lock/lock_server.cpp" in members2, "lab 2's zip lacks the reference of lab 1")
expect(not any(m.startswith("kit/solutions/lab2_fileserver/") for m in members2), "lab 2's zip holds lab 2's reference")
out = run([os.path.join(kit, "dsys"), "autograder", "lab1", "--base", "sideways"], 60, cwd=kit)
expect(out.returncode == 2 and "unknown base 'sideways'" in out.stdout, "a wrong --base is not refused clearly")

unpack(zip_path, source)
out = run(["bash", os.path.join(source, "setup.sh")], 3000)
expect(out.returncode == 0, "setup.sh failed")

submission(correct)
report = grade("a correct submission")
expect(report["score"] is not None and report["score"] == sum(t["max_score"] for t in report["tests"]) > 0
       and all(t["status"] == "passed" for t in report["tests"]), "a correct submission did not get full points")
full_score = report["score"]

submission({})
report = grade("an empty submission")
expect(report["score"] == 0 and "missing 5 of the 5 files" in report["output"]
       and "./dsys submit lab1" in report["output"], "an empty submission is not scored 0 with the missing files named")

submission(broken)
report = grade("a submission that does not compile")
expect(report["score"] == 0 and "does not compile" in report["output"] and "error:" in report["output"]
       and "lock_server.cpp" in report["output"], "a compile error is not scored 0 with the compiler's first error")

submission(crashing)
report = grade("a submission that crashes at start-up")
expect(report["score"] == 0 and "could not start" in report["output"],
       "a test program that crashes at start-up is not scored 0 and said")

# grade-many, in the same copy of the kit (its build is reused): a zip of loose files, a broken
# directory, an empty one.
loose_zip = os.path.join(work, "alice.zip")
with zipfile.ZipFile(loose_zip, "w") as z:
    for n, text in correct.items():
        z.writestr(n, text)
bob = os.path.join(work, "bob")
os.makedirs(os.path.join(bob, "labs", "lab1_lock"))
for n, text in broken.items():
    open(os.path.join(bob, "labs", "lab1_lock", n), "w").write(text)
carol = os.path.join(work, "carol")
os.makedirs(carol)
out = run([os.path.join(kit, "dsys"), "grade-many", "lab1", loose_zip, bob, carol, "--out", source], 2400, cwd=kit)
expect(out.returncode == 0, "grade-many failed")
try:
    rows = list(csv.DictReader(open(os.path.join(source, "grades.csv"))))
except OSError as e:
    rows = []
    expect(False, f"grade-many wrote no grades.csv: {e}")
by_name = {r["submission"]: r for r in rows}
expect(list(by_name) == ["alice", "bob", "carol"], f"grades.csv's rows: {list(by_name)}")
if len(rows) == 3:
    expect(int(by_name["alice"]["score"]) == full_score and by_name["alice"]["status"] == "graded",
           "grade-many: the zip of loose files did not get full points")
    expect(by_name["bob"]["score"] == "0" and by_name["bob"]["status"] == "build failed", "grade-many: bob's row")
    expect(by_name["carol"]["score"] == "0" and by_name["carol"]["status"] == "missing files", "grade-many: carol's row")
    test_columns = [c for c in rows[0] if c not in ("submission", "score", "status")]
    expect(len(test_columns) >= 5 and all(by_name["bob"][c] == "0" for c in test_columns),
           "grades.csv has not one column per test")
expect(os.path.isfile(os.path.join(source, "summary.txt")), "grade-many wrote no summary.txt")

# ./dsys submit: exactly the lab's STUDENT_FILES (and those of the labs it builds on).
zip_sub = os.path.join(work, "lab2-submission.zip")
out = run([os.path.join(kit, "dsys"), "submit", "lab2", "--out", zip_sub], 60, cwd=kit)
listed = sorted(zipfile.ZipFile(zip_sub).namelist()) if os.path.isfile(zip_sub) else []
want = sorted(run([sys.executable, os.path.join(kit, "tools", "submissions.py"), "files", "lab2"], 60).stdout.split())
expect(out.returncode == 0 and listed == want and "labs/lab1_lock/lock_server.cpp" in listed
       and "labs/lab2_fileserver/extent_server.cpp" in listed, f"./dsys submit lab2 packed {listed}")
out = run([os.path.join(kit, "dsys"), "submit", "lab99"], 60, cwd=kit)
expect(out.returncode == 2 and "no lab 'lab99'" in out.stdout, "./dsys submit of an unknown lab is not refused clearly")

if failures:
    print("autograder check FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("autograder check: lab 1's autograder zip (no lab 1 reference) built in its setup.sh; run_autograder gave "
      f"{full_score} to a correct submission and 0, with the reason, to an empty one, one that does not compile "
      "and one that crashes at start-up; grade-many wrote one row per submission; submit packs STUDENT_FILES")
