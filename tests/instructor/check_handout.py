#!/usr/bin/env python3
"""./dsys handout (tools/handout.py) on a small tree of its own: WORK/solutions/labq_demo and
WORK/labs/labq_demo. It writes the stubs and STUDENT_FILES and nothing else, leaves the given
files of labs/ alone, and --check fails on a stub that differs, on a stub whose reference is gone,
and on a file of labs/ that is a byte copy of one in solutions/; a file of solutions/ without
solution regions, or with a broken one, is an error naming it.

    check_handout.py KIT WORK
"""
import os
import shutil
import subprocess
import sys

kit, work = sys.argv[1], sys.argv[2]
tool = os.path.join(kit, "tools", "handout.py")
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)
        print(f"FAILED: {what}")


def handout(*args):
    result = subprocess.run([sys.executable, tool, "--root", work, *args], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def write(rel, text):
    path = os.path.join(work, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def read(rel):
    with open(os.path.join(work, rel)) as f:
        return f.read()


REFERENCE = """\
int answer() {
  // SOLUTION BEGIN
  return 42;
  // SOLUTION STUB
  // return 0;  // TODO(labq part 1)
  // SOLUTION END
}
"""
STUB = """\
int answer() {
  return 0;  // TODO(labq part 1)
}
"""
GIVEN = "// given: the student's, as it is\nint given();\n"

shutil.rmtree(work, ignore_errors=True)
write("solutions/labq_demo/answer.cpp", REFERENCE)
write("solutions/labq_demo/mutants/wrong.patch", "--- a/answer.cpp\n+++ b/answer.cpp\n")
write("labs/labq_demo/given.hpp", GIVEN)
write("labs/labq_demo/README.md", "# labq\n")

code, out = handout()
expect(code == 0, f"the first handout fails: {out}")
expect(read("labs/labq_demo/answer.cpp") == STUB, "the stub is not the reference with its region's stub text")
expect(read("labs/labq_demo/STUDENT_FILES").rstrip().endswith("\nanswer.cpp"),
       "STUDENT_FILES does not list exactly the file with regions")
expect(read("labs/labq_demo/given.hpp") == GIVEN and read("labs/labq_demo/README.md") == "# labq\n",
       "the given files of labs/ were touched")
expect(not os.path.exists(os.path.join(work, "labs/labq_demo/mutants")), "the mutants were copied into labs/")
code, out = handout("--check")
expect(code == 0, f"--check fails right after handout: {out}")

# A stub edited by hand: --check shows the difference, handout puts it back.
write("labs/labq_demo/answer.cpp", STUB + "// mine\n")
code, out = handout("--check")
expect(code == 1 and "labs/labq_demo/answer.cpp" in out, f"--check misses an edited stub: {out}")
code, out = handout()
expect(code == 0 and read("labs/labq_demo/answer.cpp") == STUB, "handout does not restore an edited stub")

# A byte copy: the same bytes in both trees (whatever the names) fail --check, naming both.
write("solutions/labq_demo/hidden/extra_test.cpp", GIVEN)
code, out = handout("--check")
expect(code == 1 and "labs/labq_demo/given.hpp" in out and "solutions/labq_demo/hidden/extra_test.cpp" in out,
       f"--check misses a file of labs/ that is a byte copy of one in solutions/: {out}")
os.remove(os.path.join(work, "solutions/labq_demo/hidden/extra_test.cpp"))

# A file of solutions/ without regions belongs in labs/: an error that names it, nothing written.
write("solutions/labq_demo/plain.hpp", "int plain();\n")
code, out = handout()
expect(code == 2 and "solutions/labq_demo/plain.hpp has no solution regions" in out,
       f"a file of solutions/ without regions is not refused by name: {out}")
expect(not os.path.exists(os.path.join(work, "labs/labq_demo/plain.hpp")), "a file without regions was copied")
os.remove(os.path.join(work, "solutions/labq_demo/plain.hpp"))

# A broken region: an error with its file and line.
write("solutions/labq_demo/broken.cpp", "// SOLUTION BEGIN\nint x;\n")
code, out = handout("--check")
expect(code == 2 and "solutions/labq_demo/broken.cpp" in out and "not closed" in out,
       f"an unclosed region is not an error naming the file: {out}")
os.remove(os.path.join(work, "solutions/labq_demo/broken.cpp"))

# A reference that is gone: its stub is stale; handout removes it and STUDENT_FILES forgets it.
write("solutions/labq_demo/more.cpp", REFERENCE)
code, out = handout()
expect(code == 0 and os.path.isfile(os.path.join(work, "labs/labq_demo/more.cpp")), f"a new reference gets no stub: {out}")
os.remove(os.path.join(work, "solutions/labq_demo/more.cpp"))
code, out = handout("--check")
expect(code == 1 and "labs/labq_demo/more.cpp" in out and "no longer" in out, f"--check misses a stale stub: {out}")
code, out = handout()
expect(code == 0 and not os.path.exists(os.path.join(work, "labs/labq_demo/more.cpp"))
       and "more.cpp" not in read("labs/labq_demo/STUDENT_FILES"), f"handout leaves a stale stub: {out}")
expect(read("labs/labq_demo/given.hpp") == GIVEN, "a given file was removed or changed")
code, out = handout("--check")
expect(code == 0, f"--check fails at the end: {out}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("handout writes the stubs and STUDENT_FILES only, and --check catches edits, stale stubs and copies")
