#!/usr/bin/env python3
"""./dsys yfs start|status|stop and ./dsys demo, as a user runs them, on the reference labs of the
kit's build tree (built already: each command's own build finds nothing to do).

    check_yfs_demo.py KIT WORK

yfs runs in WORK (DSYS_YFS_ROOT), not in the kit's top directory: lab 4 (a lock server) and lab 8
(two lock replicas). A file written through WORK/yfs1 is read back through WORK/yfs2; stop stops
every program and undoes both mounts; status then says nothing runs. A second start while one runs,
and a start on a mount point that is not empty, are refused with exit 2 and change nothing. The
demo's simulated half runs from its seed and prints the line that replays it; its real half runs
too. Exit 77 (skipped) without /dev/fuse or root, except under CI (CI=true), where that fails.
"""
import os
import shutil
import subprocess
import sys

kit, work = (os.path.abspath(a) for a in sys.argv[1:3])
failures = []


def expect(condition, what):
    print(f"check: {'ok' if condition else 'FAILED'}: {what}", flush=True)
    if not condition:
        failures.append(what)


if not os.path.exists("/dev/fuse") or os.geteuid() != 0:
    why = "no /dev/fuse here" if not os.path.exists("/dev/fuse") else "FUSE mounts here need root"
    if os.environ.get("CI") == "true":
        print(f"check_yfs_demo: under CI this must run: {why}")
        sys.exit(1)
    print(f"dsys: skipped: {why}")
    sys.exit(77)

env = dict(os.environ, DSYS_YFS_ROOT=work)


def dsys(*args, timeout=300):
    out = subprocess.run([os.path.join(kit, "dsys"), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=timeout, env=env, cwd=kit)
    print(f"$ ./dsys {' '.join(args)}  (exit {out.returncode})\n{out.stdout[-2500:]}", flush=True)
    return out


def mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


if os.path.isdir(os.path.join(work, "yfs-logs")):
    dsys("yfs", "stop")  # what a killed run of this check left
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
yfs1, yfs2 = os.path.join(work, "yfs1"), os.path.join(work, "yfs2")
try:
    for lab, extra in (("4", []), ("8", ["--replicas", "2"])):
        out = dsys("yfs", "start", "--lab", lab, "--impl", "solutions", *extra)
        expect(out.returncode == 0 and "is running" in out.stdout, f"./dsys yfs start --lab {lab} starts yfs")
        if out.returncode != 0:
            continue
        out = dsys("yfs", "status")
        expect(out.returncode == 0 and "./yfs1: mounted, answers" in out.stdout
               and "./yfs2: mounted, answers" in out.stdout,
               f"lab {lab}: status says every program runs and both mounts answer")
        with open(os.path.join(yfs1, "hello"), "w") as f:
            f.write(f"written through yfs1 of lab {lab}\n")
        with open(os.path.join(yfs2, "hello")) as f:
            expect(f.read() == f"written through yfs1 of lab {lab}\n", f"lab {lab}: yfs2 reads what yfs1 wrote")
        out = dsys("yfs", "start", "--lab", lab, "--impl", "solutions")
        expect(out.returncode == 2 and "running already" in out.stdout, "a second start is refused")
        out = dsys("yfs", "stop")
        expect(out.returncode == 0 and "stopped" in out.stdout, f"lab {lab}: stop stops what start started")
        expect(not mounted(yfs1) and not mounted(yfs2), f"lab {lab}: and both mounts are gone")
        out = dsys("yfs", "status")
        expect(out.returncode == 1 and "nothing is running" in out.stdout, "status then says nothing runs")
    with open(os.path.join(yfs1, "left-here"), "w") as f:
        f.write("a file\n")
    out = dsys("yfs", "start", "--lab", "4", "--impl", "solutions")
    expect(out.returncode == 2 and "not empty" in out.stdout and not mounted(yfs1),
           "a start on a mount point that holds a file is refused, and mounts nothing")
    os.remove(os.path.join(yfs1, "left-here"))
finally:
    if os.path.isfile(os.path.join(work, "yfs-logs", "state")):
        dsys("yfs", "stop")

out = dsys("demo", "--sim", "--seed", "3")
expect(out.returncode == 0 and "--seed 3" in out.stdout, "./dsys demo --sim --seed 3 runs and prints its replay line")
out = dsys("demo", "--real")
expect(out.returncode == 0, "./dsys demo --real runs yfs as real processes and FUSE mounts")

print("check_yfs_demo: " + ("FAILED: " + "; ".join(failures) if failures else "passed"))
sys.exit(1 if failures else 0)
