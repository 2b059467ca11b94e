#!/usr/bin/env python3
"""Releasing the next lab (./dsys release) into a student's clone that holds their work.

    check_release.py KIT WORK

In a copy of the instructor's tree (WORK/instructor) it releases lab 1 into a new handout
repository, clones that as a student would, and commits the student's lab 1 there (solutions'
files) and a file of their own. The instructor then fixes a lab 1 test and releases lab 2; the
student's `git pull` must merge without a conflict, keep their work, and bring the fix and lab 2
(and nothing after it). The student's clone then configures with CMake, which leaves out the
labs not yet released, and ./dsys submit says so of them. Releases follow the lab manifest: in a
second handout, lab 7 (which builds on no lab, as the first lab of another track) ships alone,
without labs 1-6; lab 1 released after it joins it, and lab 8 then brings labs 2-5 it builds on.
Bad uses of ./dsys release fail with a message and change nothing.
"""
import os
import shutil
import subprocess
import sys

kit, work = (os.path.abspath(a) for a in sys.argv[1:3])
sys.path.insert(0, os.path.join(kit, "tools"))
import submissions  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
instructor = os.path.join(work, "instructor")
handout = os.path.join(work, "handout")
student = os.path.join(work, "student")
failures = []
GIT_ID = ["-c", "user.name=Student", "-c", "user.email=student@example.invalid"]


def expect(condition, what):
    print(f"check: {'ok' if condition else 'FAILED'}: {what}", flush=True)
    if not condition:
        failures.append(what)


def run(command, cwd, expect_rc=0):
    out = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=600)
    print(f"$ {' '.join(command)}  (in {os.path.relpath(cwd, work)}, exit {out.returncode})\n{out.stdout[-2500:]}",
          flush=True)
    if expect_rc is not None and out.returncode != expect_rc:
        failures.append(f"{' '.join(command)} exited {out.returncode}, not {expect_rc}")
    return out


def read(path):
    with open(path) as f:
        return f.read()


# The instructor's tree: the kit's files (what git tracks), as a repository of its own.
for path in submissions.kit_files(kit):
    os.makedirs(os.path.dirname(os.path.join(instructor, path)), exist_ok=True)
    shutil.copy2(os.path.join(kit, path), os.path.join(instructor, path))
run(["git", "init", "-q", "-b", "main"], instructor)
run(["git", *GIT_ID, "add", "-A"], instructor)
run(["git", *GIT_ID, "commit", "-q", "-m", "the instructor's tree"], instructor)
labs = submissions.lab_table(instructor)
lab1_dir, lab2_dir, lab3_dir = (labs[n]["dir"] for n in ("lab1", "lab2", "lab3"))

# Release lab 1 into a new handout repository.
out = run(["./dsys", "release", "lab1", "--to", handout], instructor)
expect(os.path.isdir(os.path.join(handout, "labs", lab1_dir)), "the first release holds lab 1")
expect(not os.path.exists(os.path.join(handout, "labs", lab2_dir)), "the first release holds no lab 2")
expect(not os.path.exists(os.path.join(handout, "solutions")), "the release holds no solutions/")
expect(os.path.isfile(os.path.join(handout, "dsys")) and os.access(os.path.join(handout, "dsys"), os.X_OK),
       "the release holds ./dsys, executable")

# The student clones it, writes lab 1 (the reference's files stand for theirs) and a file of their own.
run(["git", "clone", "-q", handout, student], work)
mine = {}
for name in submissions.own_files(instructor, labs, "lab1"):
    text = read(os.path.join(instructor, name.replace("labs/", "solutions/", 1))) + "// my lab 1\n"
    mine[name] = text
    with open(os.path.join(student, name), "w") as f:
        f.write(text)
with open(os.path.join(student, "NOTES.md"), "w") as f:
    f.write("my notes\n")
run(["git", *GIT_ID, "add", "-A"], student)
run(["git", *GIT_ID, "commit", "-q", "-m", "my lab 1"], student)

# The instructor fixes a lab 1 test and releases lab 2.
tests_dir = os.path.join(instructor, "labs", lab1_dir, "tests")
test_file = os.path.join(tests_dir, sorted(n for n in os.listdir(tests_dir) if n.endswith(".cpp"))[0])
with open(test_file, "a") as f:
    f.write("// a fix to a test, released with lab 2\n")
run(["git", *GIT_ID, "commit", "-q", "-am", "fix a lab 1 test"], instructor)
run(["./dsys", "release", "lab2", "--to", handout], instructor)
out = run(["./dsys", "release", "lab2", "--to", handout], instructor)
expect("nothing to commit" in out.stdout, "releasing the same again commits nothing")

# The student pulls: a merge, no conflict, their work kept, the fix and lab 2 there, lab 3 not.
out = run(["git", *GIT_ID, "pull", "--no-rebase", "--no-edit", "-q"], student)
expect(out.returncode == 0, "git pull merges the release into the student's clone")
expect(all(read(os.path.join(student, n)) == t for n, t in mine.items()), "the student's lab 1 files are theirs after the pull")
expect(read(os.path.join(student, "NOTES.md")) == "my notes\n", "the student's own file is kept")
expect(read(os.path.join(student, os.path.relpath(test_file, instructor))).endswith("released with lab 2\n"),
       "the test fix reached the student")
expect(os.path.isdir(os.path.join(student, "labs", lab2_dir)), "lab 2 reached the student")
expect(not os.path.exists(os.path.join(student, "labs", lab3_dir)), "lab 3 is not released yet")
status = run(["git", "status", "--porcelain"], student).stdout
expect(status.strip() == "", "the student's clone is clean after the merge")

# The student's clone configures: CMake leaves out the labs not released.
out = run(["cmake", "--preset", "dev"], student)
expect("lab3: not released yet" in out.stdout, "CMake says lab 3 is not released yet")
tsv = os.path.join(student, "build", "dev", "labs.tsv")
rows = read(tsv).splitlines() if os.path.isfile(tsv) else []
listed = sorted({r.split("\t")[0] for r in rows if r.split("\t")[2:3] == ["lab"]})
expect(listed == ["lab1", "lab2"], f"labs.tsv lists lab1 and lab2 only (it lists {listed})")
out = run(["./dsys", "submit", "lab3"], student, expect_rc=2)
expect("not released" in out.stdout, "./dsys submit of an unreleased lab says it is not released")

# Releases follow the manifest: lab 7 builds on nothing, so it ships alone.
other = os.path.join(work, "other-track")


def shipped(repo):
    return sorted(name for name in labs if os.path.isdir(os.path.join(repo, "labs", labs[name]["dir"])))


out = run(["./dsys", "release", "lab7", "--to", other], instructor)
expect(shipped(other) == ["lab7"], f"a release of lab 7 ships lab 7 alone (it ships {shipped(other)})")
out = run(["./dsys", "release", "lab1", "--to", other], instructor)
expect(shipped(other) == ["lab1", "lab7"], f"lab 1 released next joins lab 7 (the handout holds {shipped(other)})")
out = run(["./dsys", "release", "lab8", "--to", other], instructor)
expect(shipped(other) == [f"lab{n}" for n in range(1, 9) if n != 6],
       f"lab 8 brings the labs it builds on, and not lab 6 (the handout holds {shipped(other)})")
# The DAT520 track: a course that gives labs 1 and 9 releases them alone, in either order.
dat520 = os.path.join(work, "dat520")
out = run(["./dsys", "release", "lab9", "--to", dat520], instructor)
expect(shipped(dat520) == ["lab9"], f"a release of lab 9 ships lab 9 alone (it ships {shipped(dat520)})")
out = run(["./dsys", "release", "lab1", "--to", dat520], instructor)
expect(shipped(dat520) == ["lab1", "lab9"], f"lab 1 released next joins lab 9 (the handout holds {shipped(dat520)})")

# Bad uses: an unknown lab, a handout with uncommitted changes, a student's clone (no solutions/).
out = run(["./dsys", "release", "lab99", "--to", handout], instructor, expect_rc=2)
expect("no lab 'lab99'" in out.stdout, "an unknown lab is refused")
with open(os.path.join(handout, "STRAY"), "w") as f:
    f.write("uncommitted\n")
head = run(["git", "rev-parse", "HEAD"], handout).stdout
out = run(["./dsys", "release", "lab3", "--to", handout], instructor, expect_rc=2)
expect("uncommitted changes" in out.stdout, "a handout with uncommitted changes is refused")
expect(run(["git", "rev-parse", "HEAD"], handout).stdout == head and os.path.isfile(os.path.join(handout, "STRAY")),
       "and it is left as it was")
out = run(["./dsys", "release", "lab3", "--to", os.path.join(work, "elsewhere")], student, expect_rc=2)
expect("instructor's tree" in out.stdout, "a student's clone cannot release")

print("check_release: " + ("FAILED: " + "; ".join(failures) if failures else "passed"))
sys.exit(1 if failures else 0)
