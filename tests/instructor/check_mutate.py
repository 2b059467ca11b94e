#!/usr/bin/env python3
"""./dsys mutate (tools/mutate.py) on lab 1, in the kit's build tree, with a catalogue of its own.

    check_mutate.py KIT BUILD WORK

The catalogue (WORK/catalogue, given with --catalogue; solutions/ is never touched) holds lab 1's
if_instead_of_while, which must be killed on seeds 1 and 2, with --explore 6 too (the JSON has its
matrix row and what explore found), and an equivalent mutant (a comment changed), which must
survive: mutate exits 1 and names it. A patch that no longer applies, one that changes a header,
and a bad argument each exit 2 with a message that says what is wrong.
"""
import json
import os
import shutil
import subprocess
import sys

kit, build, work = (os.path.abspath(a) for a in sys.argv[1:4])
shutil.rmtree(work, ignore_errors=True)
catalogue = os.path.join(work, "catalogue")
os.makedirs(catalogue)
failures = []
MUTATE = [sys.executable, os.path.join(kit, "tools", "mutate.py")]


def expect(condition, what):
    print(f"check: {'ok' if condition else 'FAILED'}: {what}", flush=True)
    if not condition:
        failures.append(what)


def mutate(*args):
    out = subprocess.run(MUTATE + list(args) + ["--build", build, "--catalogue", catalogue],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    print(f"$ mutate.py {' '.join(args)}  (exit {out.returncode})\n{out.stdout[-3000:]}", flush=True)
    return out


def write(name, text):
    with open(os.path.join(catalogue, name + ".patch"), "w") as f:
        f.write(text)


source = os.path.join(kit, "solutions", "lab1_lock", "lock_server.cpp")
with open(source) as f:
    lines = f.read().splitlines(True)
waits = next(i for i, l in enumerate(lines) if "co_await l.freed.wait()" in l)


def patch(what, index, new_line, file="lock_server.cpp"):
    """A one-line change of lock_server.cpp's line `index` (from 0), with 3 lines of context."""
    before, after = lines[index - 3:index], lines[index + 1:index + 4]
    return (f"what: {what}\nbreaks: a rule of the check's own\n--- a/{file}\n+++ b/{file}\n"
            f"@@ -{index - 2},7 +{index - 2},7 @@\n" + "".join(" " + l for l in before)
            + "-" + lines[index] + "+" + new_line + "".join(" " + l for l in after))


# 1. A real bug, killed on both seeds, and explored.
shutil.copy(os.path.join(kit, "solutions", "lab1_lock", "mutants", "if_instead_of_while.patch"), catalogue)
result = os.path.join(work, "killed.json")
out = mutate("lab1", "--mutant", "if_instead_of_while", "--seeds", "2", "--explore", "6", "--json", result)
expect(out.returncode == 0, "if_instead_of_while is killed on seeds 1 and 2: exit 0")
expect("2/2" in out.stdout, "the matrix says it was killed on 2 of 2 seeds")
if os.path.exists(result):
    with open(result) as f:
        row = json.load(f)["lab1"]["mutants"][0]
    expect(row["name"] == "if_instead_of_while" and row["result"]["killed_seeds"] == [1, 2],
           "the JSON names the mutant and the seeds that killed it")
    expect(row["result"]["points_lost_seed_1"] > 0, "the JSON gives the points it lost on seed 1")
    lost = [n for n, t in row["result"]["tests"].items() if t["points_lost_seed_1"]]
    expect(bool(lost), f"the JSON names the tests that failed on seed 1 ({lost})")
    explored = row.get("explore", {})
    expect(explored.get("runs") == 6 and explored.get("found"), "the JSON has explore's runs, which found it")
    expect("violation" in explored.get("summary", ""), f"and explore's summary ({explored.get('summary')})")
else:
    expect(False, "mutate wrote the JSON it was asked for")

# 2. An equivalent mutant: a comment changed. It survives; mutate says so and exits 1.
os.remove(os.path.join(catalogue, "if_instead_of_while.patch"))
comment = next(i for i in range(waits, 0, -1) if lines[i].lstrip().startswith("// Look again"))
write("comment_only", patch("only a comment changes", comment, lines[comment].replace("Look again", "Look")))
out = mutate("lab1", "--seeds", "1")
expect(out.returncode == 1, "an equivalent mutant survives: exit 1")
expect("SURVIVES comment_only on seeds 1" in out.stdout, "it is named, with the seed it survived")
shutil.rmtree(os.path.join(build, "mutants", "lab1", "comment_only"), ignore_errors=True)
os.remove(os.path.join(catalogue, "comment_only.patch"))

# 3. Catalogue errors: a patch that no longer applies, a header changed, a header line missing.
write("stale", patch("a line that is not there", waits, "  while (no_such_thing) {}\n").replace(
    lines[waits], "  while (the_old_code) co_await wait();\n"))
out = mutate("lab1", "--seeds", "1")
expect(out.returncode == 2 and "no longer applies" in out.stdout, "a stale patch: exit 2, 'no longer applies'")
os.remove(os.path.join(catalogue, "stale.patch"))
header = os.path.join(kit, "solutions", "lab1_lock", "lock_server.hpp")
with open(header) as f:
    header_lines = f.read().splitlines(True)
lines = header_lines  # patch() reads `lines`
write("header", patch("a header changed", 5, "// changed\n", "lock_server.hpp"))
out = mutate("lab1", "--seeds", "1")
expect(out.returncode == 2 and ".cpp files only" in out.stdout, "a header changed: exit 2, '.cpp files only'")
os.remove(os.path.join(catalogue, "header.patch"))
with open(os.path.join(catalogue, "nameless.patch"), "w") as f:
    f.write("--- a/lock_server.cpp\n+++ b/lock_server.cpp\n")
out = mutate("lab1", "--seeds", "1")
expect(out.returncode == 2 and "what:" in out.stdout, "a mutant without 'what:': exit 2, says so")
os.remove(os.path.join(catalogue, "nameless.patch"))
out = mutate("lab99")
expect(out.returncode == 2 and "no lab 'lab99'" in out.stdout, "an unknown lab: exit 2, says so")
out = mutate("lab1", "--seeds", "0")
expect(out.returncode == 2, "--seeds 0: exit 2")

print(f"check_mutate: {len(failures)} failed" if failures else "check_mutate: every check passed")
sys.exit(1 if failures else 0)
