#!/usr/bin/env python3
"""./dsys cluster, as a user runs it, with lab 8's reference programs across namespaces:

- `up 5`: five namespaces and a bridge namespace; the root namespace gains no link and no nft table;
- lab 8's three replicas on nodes 1-3 (10.77.0.1-3), the extent server on node 4, two yfs_clients on
  node 5, mounted here; with 5 % loss on every node's link, the yfs tester (lab 4's checks) passes
  through both mounts, while the primary is cut off from everyone (`fault partition 1/2-5`): the
  others' views drop it, and after `fault heal` the views have it again;
- `kill 2` and `restart 2` (SIGKILL, then the same --dir): the views lose node 2, then have it;
- with 10 % duplication, `exec` runs lab 8's lock_tester in node 4, and it passes; `stop`
  (SIGTERM) makes a yfs_client unmount;
- bad input to the command is refused with a message; `status` and `log` say what happened;
- `down` leaves nothing: no namespace, no mount.

Needs root, network namespaces and nftables: without them it says why and is skipped (status 77),
except under CI (CI=true), where that is a failure.

usage: check_cluster.py PROGRAMS_DIR WORK_DIR   (build/dev/solutions/lab8)
"""

import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(KIT, "tools"))
import cluster  # noqa: E402
from processes import Program  # noqa: E402

LIMIT = 60  # seconds, for any one wait
failures = []


def check(ok, what, detail=""):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)
        if detail:
            print("      " + detail.replace("\n", "\n      "), flush=True)
    return ok


def require(ok, what, detail=""):
    if not check(ok, what, detail):
        raise Abort()


class Abort(Exception):
    pass


def dsys(*args, expect=0, limit=300):
    done = subprocess.run([os.path.join(KIT, "dsys"), "cluster", *args], capture_output=True, text=True,
                          timeout=limit)
    out = done.stdout + done.stderr
    if expect is not None:
        require(done.returncode == expect, f"./dsys cluster {' '.join(args)}: status {expect}",
                f"status {done.returncode}:\n{out}")
    return out


def root_namespace():
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    return sorted(line.split(":")[1].strip() for line in links.splitlines()), tables


def log_of(name):
    try:
        with open(os.path.join(cluster.state_dir(), f"{name}.log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_for_view(name, members, after=0, limit=LIMIT):
    """The number of the first view above AFTER that NAME's log shows with exactly MEMBERS
    (node numbers), within LIMIT seconds; None if none comes."""
    wanted = sorted(f"{cluster.address(k)}:3772" for k in members)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for m in re.finditer(r"^view (\d+): (.*)$", log_of(name), re.M):
            if int(m.group(1)) > after and sorted(m.group(2).split()) == wanted:
                return int(m.group(1))
        time.sleep(0.05)
    return None


def views(name):
    return "\n".join(re.findall(r"^view .*$", log_of(name), re.M))


def wait_for_mount(path, client):
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        if "yfs_client: mounted" in log_of(client):
            return True
        time.sleep(0.05)
    return False


def tester(mounts):
    return Program([os.path.join(PROGRAMS, "yfs_tester"), "lab4", *mounts])


def finished(t, what, limit=240):
    status = t.wait(limit)
    if status is None:
        t.stop()
    check(status == 0 and "passed all tests" in t.output(), what, t.output()[-3000:])


def scenario(work):
    before = root_namespace()
    dsys("up", "5")
    check(cluster.namespaces() == ["dsys-bridge"] + [f"dsys-node{k}" for k in range(1, 6)],
          "up 5 makes dsys-bridge and dsys-node1-5", " ".join(cluster.namespaces()))
    check(root_namespace() == before, "the root namespace has no new link and no new nft table",
          f"before {before}\nafter {root_namespace()}")

    server = os.path.join(PROGRAMS, "lock_server")
    first = f"{cluster.address(1)}:3772"
    for k in (1, 2, 3):
        dsys("run", str(k), "--name", f"replica{k}", server, first, f"{cluster.address(k)}:3772",
             "--dir", os.path.join(work, f"r{k}"))
        require(wait_for_view(f"replica{k}", range(1, k + 1)) is not None,
                f"replica {k} on node {k} joins: view {k}", views(f"replica{k}") or log_of(f"replica{k}"))
    dsys("run", "4", "--name", "extent", os.path.join(PROGRAMS, "extent_server"), f"{cluster.address(4)}:3773")
    mounts = []
    for i in (1, 2):
        mount = os.path.join(work, f"yfs{i}")
        os.mkdir(mount)
        mounts.append(mount)
        dsys("run", "5", "--name", f"yfs{i}", "--mount", mount, os.path.join(PROGRAMS, "yfs_client"), mount,
             f"{cluster.address(4)}:3773", f"{cluster.address(2)}:3772")
    for i, m in enumerate(mounts, 1):
        require(wait_for_mount(m, f"yfs{i}"), f"yfs_client {i} on node 5 mounts {m}", log_of(f"yfs{i}"))

    # One tester run, with 5 % loss on every link, and the primary (node 1) cut off from everyone
    # while it runs, then healed.
    dsys("fault", "loss", "5")
    started = time.monotonic()
    t = tester(mounts)
    check(t.wait_for_line("test 2:", LIMIT) is not None, "the tester has begun", t.output())
    dsys("fault", "partition", "1/2-5")
    cut = [wait_for_view(f"replica{k}", [2, 3], after=3) for k in (2, 3)]
    check(all(cut), "with node 1 cut off, replicas 2 and 3 form a view without it",
          views("replica2") + "\n--\n" + views("replica3"))
    dsys("fault", "heal")
    back = [wait_for_view(f"replica{k}", [1, 2, 3], after=max(c or 0 for c in cut)) for k in (1, 2, 3)]
    check(all(back), "after heal, every replica is in a view with node 1 again",
          "\n--\n".join(views(f"replica{k}") for k in (1, 2, 3)))
    finished(t, "with 5 % loss on every link, yfs_tester lab4 passes through both mounts, across the partition "
                "of the primary and the heal")
    print(f"      ({time.monotonic() - started:.1f} s)")

    last = max(b or 0 for b in back)
    dsys("kill", "2")
    gone = wait_for_view("replica3", [1, 3], after=last)
    check(gone is not None, "after kill 2 (SIGKILL), the view is nodes 1 and 3", views("replica3"))
    dsys("restart", "2")
    check(wait_for_view("replica3", [1, 2, 3], after=gone or last) is not None,
          "after restart 2 (its --dir), node 2 is in the view again", views("replica3"))
    dsys("fault", "clear")
    # A tester run in a node, in the foreground (lab 8's lock tester from node 4, through replica
    # 3), with 10 % of every node's packets sent twice.
    dsys("fault", "duplicate", "10")
    out = dsys("exec", "4", "--seconds", "240", os.path.join(PROGRAMS, "lock_tester"), f"{cluster.address(3)}:3772")
    check("passed all tests successfully" in out, "with 10 % duplication, exec 4 lock_tester passes", out)
    dsys("fault", "clear")
    # stop: SIGTERM, so that a yfs_client unmounts.
    dsys("stop", "yfs2")
    check(not os.path.ismount(mounts[1]), "stop yfs2 (SIGTERM) unmounts it", log_of("yfs2")[-800:])

    # Bad input: a message, status 1 or 2, and nothing changed.
    for args, says in ((["up", "3"], "a cluster is up already"),
                       (["kill", "9"], "there is no node 9"),
                       (["fault", "loss", "150"], "not a percentage"),
                       (["fault", "partition", "1,2"], "is not a partition"),
                       (["fault", "partition", "1/1"], "a node is in two groups"),
                       (["fault", "loss", "5", "--nodes", "0-2"], "there is no node 0"),
                       (["run", "2", "no-such-program"], "no program 'no-such-program'"),
                       (["restart", "nobody"], "neither a node's number nor a program's name")):
        out = dsys(*args, expect=1)
        check(says in out, f"./dsys cluster {' '.join(args)} says {says!r}", out)
    status = dsys("status")
    check("node 5   10.77.0.5" in status and "replica1" in status and "no fault" in status,
          "status lists the nodes, their programs and their faults", status)
    log = dsys("log")
    for event in ("up: 5 nodes", "loss 5%", "partition 1 / 2,3,4,5", "heal", "kill replica2 (SIGKILL)",
                  "restart replica2", "duplicate 10%", "stop yfs2"):
        check(re.search(r"^\d{4}-\d\d-\d\dT[\d:.]+ +\+ *[\d.]+s  " + re.escape(event), log, re.M) is not None,
              f"the log has '{event}' with its time", log)
    return mounts


def run_cluster_test(work, scenario, after_down=None):
    """The frame of a test of ./dsys cluster: skipped (77) where no cluster can be made (no root,
    no namespaces, no nftables) or one is up already, and failed there under CI; else `scenario()`
    runs in a fresh state directory under WORK, and the cluster is taken down whatever happened,
    `after_down()` then checking what it must have left behind. Returns the exit status."""
    under_ci = os.environ.get("CI") == "true"
    try:
        why = cluster.why_unavailable()
    except cluster.ClusterError as e:
        why = str(e)
    if why:
        print(f"{'FAIL' if under_ci else 'skip'}: {why}")
        return 1 if under_ci else 77
    if cluster.namespaces():
        print(f"{'FAIL' if under_ci else 'skip'}: a cluster is up already ({' '.join(cluster.namespaces())}); "
              "this test leaves it alone")
        return 1 if under_ci else 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.environ["DSYS_CLUSTER_DIR"] = os.path.join(work, "state")
    try:
        scenario()
    except Abort:
        pass
    finally:
        out = subprocess.run([os.path.join(KIT, "dsys"), "cluster", "down"], capture_output=True, text=True,
                             timeout=300)
        check(out.returncode == 0, "./dsys cluster down", out.stdout + out.stderr)
        check(cluster.namespaces() == [], "down leaves no namespace", " ".join(cluster.namespaces()))
        if after_down:
            after_down()
    if failures:
        print(f"{len(failures)} check(s) failed: " + "; ".join(failures))
        return 1
    print("all checks passed")
    return 0


def programs_main(doc, scenario):
    """The main of a cluster test whose usage (the last line of DOC) is `PROGRAMS_DIR WORK_DIR`:
    runs SCENARIO(programs) in run_cluster_test. Returns the exit status."""
    if len(sys.argv) != 3:
        print(doc.strip().splitlines()[-1], file=sys.stderr)
        return 2
    programs, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    return run_cluster_test(work, lambda: scenario(programs))


def main():
    global PROGRAMS
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    PROGRAMS, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    mounts = []

    def run():
        mounts.extend(scenario(work))

    def unmounted():
        left = [m for m in mounts + [os.path.join(work, "yfs1"), os.path.join(work, "yfs2")] if os.path.ismount(m)]
        check(not left, "down leaves no mount", " ".join(left))

    return run_cluster_test(work, run, unmounted)


PROGRAMS = None

if __name__ == "__main__":
    sys.exit(main())
