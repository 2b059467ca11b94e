#!/usr/bin/env python3
"""./dsys, the driver (tools/driver/): its help is generated from its parsers and names every
command; bad uses exit 2 with a message that says what is wrong, before anything is built or
started; the older spelling `--base mine` is still taken. Nothing here builds or starts a program.

    check_driver.py KIT WORK
"""
import os
import shutil
import subprocess
import sys

kit, work = (os.path.abspath(a) for a in sys.argv[1:3])
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []
COMMANDS = ["setup", "build", "handout", "check", "grade", "explore", "mutate", "test", "bench", "demo",
            "fuzz", "yfs", "cluster", "nemesis", "submit", "autograder", "grade-many", "release", "help"]


def expect(condition, what):
    print(f"check: {'ok' if condition else 'FAILED'}: {what}", flush=True)
    if not condition:
        failures.append(what)


def dsys(*args):
    out = subprocess.run([os.path.join(kit, "dsys"), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=300, cwd=work)
    print(f"$ ./dsys {' '.join(args)}  (exit {out.returncode})\n{out.stdout[-1500:]}", flush=True)
    return out


out = dsys("help")
expect(out.returncode == 0, "./dsys help exits 0")
expect(all(f"./dsys {c}" in out.stdout for c in COMMANDS), "./dsys help names every command with its usage")
expect("./dsys yfs start" in out.stdout and "--replicas" in out.stdout, "./dsys help shows the yfs subcommands' options")
out = dsys()
expect(out.returncode == 2 and "./dsys grade" in out.stdout, "./dsys alone prints the help and exits 2")
out = dsys("help", "grade")
expect(out.returncode == 0 and "--only" in out.stdout and "--base" in out.stdout, "./dsys help grade: its options")

for args, said in [(["frob"], "invalid choice: 'frob'"),
                   (["grade"], "required: LAB|all"),
                   (["grade", "lab1", "--base", "theirs"], "unknown base 'theirs'"),
                   (["grade", "lab1", "--impl", "solutions", "--base", "reference"], "builds every lab from solutions/"),
                   (["grade", "lab9", "--format", "csv"], "invalid choice: 'csv'"),
                   (["bench", "nothing"], "invalid choice: 'nothing'"),
                   (["yfs"], "required: start|stop|status"),
                   (["yfs", "start", "--lossy", "200"], "--lossy takes a percentage"),
                   (["yfs", "start", "--replicas", "9"], "--replicas takes a number of replicas"),
                   (["release", "lab1"], "required: --to"),
                   (["fuzz", "nothing"], "unknown fuzz target 'nothing'"),
                   (["demo", "--sim", "--real"], "choose one"),
                   (["check", "nothing"], "unknown 'nothing'"),
                   (["explore", "lab1", "--runs", "many"], "invalid int value: 'many'"),
                   (["grade-many", "lab1", os.path.join(work, "no-such.zip")], "no submission"),
                   (["help", "frob"], "no command 'frob'")]:
    out = dsys(*args)
    expect(out.returncode == 2 and said in out.stdout, f"./dsys {' '.join(args)}: exit 2, saying \"{said}\"")

# The older spelling of --base labs: an autograder zip graded on the student's own labs.
zip_path = os.path.join(work, "autograder-lab2.zip")
out = dsys("autograder", "lab2", "--base", "mine", "--out", zip_path)
expect(out.returncode == 0 and os.path.isfile(zip_path), "./dsys autograder --base mine (the older spelling) still works")
expect("lab2_fileserver" in out.stdout and "lab1_lock" in out.stdout,
       "and the submission it asks for holds lab 1's files too (the student's own labs)")

print("check_driver: " + ("FAILED: " + "; ".join(failures) if failures else "passed"))
sys.exit(1 if failures else 0)
