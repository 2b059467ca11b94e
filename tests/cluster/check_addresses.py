#!/usr/bin/env python3
"""Nodes on any address, as real processes of the reference build (no root needed: every
127.x.y.z is this machine's loopback):

- lab 1's lock server on 127.0.0.2, and its tester given HOST:PORT;
- lab 5's caching lock server listening on 0.0.0.0 and announcing 127.0.0.5, called-back testers
  on the default address and on --listen 127.0.0.6:0;
- lab 8's replicas on 127.0.0.2, 127.0.0.3 and 0.0.0.0 announced as 127.0.0.4, whose views name
  those addresses, and its lock tester through one of them, before and after the primary's SIGKILL;
- lab 4's yfs with the extent server and the lock server on two addresses and two mounts (where
  /dev/fuse is);
- bad addresses: a usage message naming what is wrong, and status 2 (1 for an address that is not
  this machine's), never a crash.

usage: check_addresses.py PROGRAMS_ROOT   (build/dev/solutions: lab1/, lab4/, lab5/, lab8/)
"""

import os
import re
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from processes import Program, port_of  # noqa: E402

LIMIT = 60  # seconds, for any one wait
failures = []


def check(ok, what, output=""):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)
        if output:
            print("      " + output.replace("\n", "\n      "), flush=True)
    return ok


def listening(program, name):
    line = program.wait_for_line("listening on", LIMIT)
    if not check(line is not None, f"{name} says where it listens", program.output()):
        raise SystemExit(finish())
    return line


def run_tester(argv, name):
    tester = Program(argv)
    status = tester.wait(120)
    if status is None:
        tester.stop()
    check(status == 0 and "passed all tests" in tester.output(),
          f"{name} passes ({' '.join(argv[1:])})", tester.output())


def lab1(root):
    server = Program([f"{root}/lab1/lock_server", "127.0.0.2:0"])
    try:
        line = listening(server, "lab 1's lock_server on 127.0.0.2:0")
        check(re.search(r"listening on 127\.0\.0\.2:\d+$", line) is not None, f"it listens on 127.0.0.2: {line!r}")
        run_tester([f"{root}/lab1/lock_tester", f"127.0.0.2:{port_of(line)}"], "lab 1's lock_tester")
    finally:
        server.stop()


def lab5(root):
    server = Program([f"{root}/lab5/lock_server", "--listen", "0.0.0.0:0", "--announce", "127.0.0.5:0"])
    try:
        line = listening(server, "lab 5's lock_server on 0.0.0.0, announced as 127.0.0.5")
        port = port_of(line)
        check(line.endswith(f"listening on 0.0.0.0:{port}, announced as 127.0.0.5:{port}"),
              f"it says both addresses: {line!r}")
        # Two testers at once, so that the server takes locks back (Revoke) and calls them back.
        testers = [Program([f"{root}/lab5/lock_tester", f"127.0.0.5:{port}"]),
                   Program([f"{root}/lab5/lock_tester", "--listen", "127.0.0.6:0", f"localhost:{port}"])]
        for t in testers:
            status = t.wait(120)
            if status is None:
                t.stop()
            check(status == 0 and "passed all tests successfully" in t.output(),
                  f"lab 5's lock_tester {' '.join(t.argv[1:])} passes beside another", t.output())
    finally:
        server.stop()


def views_of(replica, members, limit=LIMIT):
    """The first view line of REPLICA naming exactly MEMBERS (addresses)."""
    wanted = sorted(members)
    while True:
        line = replica.wait_for_line("view ", limit)
        if line is None or (line.startswith("view ") and sorted(line.split(": ", 1)[1].split()) == wanted):
            return line


def lab8(root, disks):
    program = f"{root}/lab8/lock_server"
    replicas = []
    try:
        r1 = Program([program, "127.0.0.2:0", "127.0.0.2:0", "--dir", f"{disks}/r1"])
        replicas.append(r1)
        p1 = port_of(listening(r1, "lab 8's first replica on 127.0.0.2"))
        a1 = f"127.0.0.2:{p1}"
        r2 = Program([program, a1, "127.0.0.3:0", "--dir", f"{disks}/r2"])
        replicas.append(r2)
        a2 = f"127.0.0.3:{port_of(listening(r2, 'the second on 127.0.0.3'))}"
        check(views_of(r2, [a1, a2]) is not None, f"view 2 is {a1} {a2}", r2.output())
        r3 = Program([program, a1, "127.0.0.4:0", "--listen", "0.0.0.0:0", "--dir", f"{disks}/r3"])
        replicas.append(r3)
        line3 = listening(r3, "the third on 0.0.0.0, named 127.0.0.4")
        a3 = f"127.0.0.4:{port_of(line3)}"
        check(line3.endswith(f", announced as {a3}"), f"it announces {a3}: {line3!r}")
        for i, r in enumerate(replicas, 1):
            check(views_of(r, [a1, a2, a3]) is not None, f"replica {i} is in the view {a1} {a2} {a3}",
                  r.output())
        tester = f"{root}/lab8/lock_tester"
        run_tester([tester, a2], "lab 8's lock_tester through the second replica")
        r1.stop(signal.SIGKILL)
        for i, r in ((2, r2), (3, r3)):
            check(views_of(r, [a2, a3]) is not None, f"after the primary's SIGKILL replica {i} is in "
                  f"the view {a2} {a3}", r.output())
        run_tester([tester, a3], "lab 8's lock_tester through the third replica")
    finally:
        for r in replicas:
            r.stop()


def lab4(root, work):
    if not os.path.exists("/dev/fuse") or not shutil.which("fusermount3"):
        print("skip  lab 4's yfs on two addresses: no /dev/fuse or fusermount3 here")
        return
    extent = Program([f"{root}/lab4/extent_server", "127.0.0.2:0"])
    lock = Program([f"{root}/lab4/lock_server", "127.0.0.3:0"])
    clients = []
    try:
        e = f"127.0.0.2:{port_of(listening(extent, 'the extent server on 127.0.0.2'))}"
        lk = f"127.0.0.3:{port_of(listening(lock, 'the lock server on 127.0.0.3'))}"
        mounts = []
        for i in (1, 2):
            mount = os.path.join(work, f"yfs{i}")
            os.mkdir(mount)
            mounts.append(mount)
            clients.append(Program([f"{root}/lab4/yfs_client", mount, e, lk]))
        for c in clients:
            if not check(c.wait_for_line("yfs_client: mounted", LIMIT) is not None,
                         f"yfs_client {' '.join(c.argv[1:])} mounts", c.output()):
                return
        run_tester([f"{root}/lab4/yfs_tester", "lab4"] + mounts, "lab 4's yfs_tester through both mounts")
    finally:
        for c in clients:
            c.stop()
        extent.stop()
        lock.stop()


def bad_addresses(root, work):
    cases = [
        ([f"{root}/lab1/lock_server", "300.1.1.1:5000"], 2, "'300.1.1.1' is not an IPv4 address"),
        ([f"{root}/lab1/lock_server", "--listen"], 2, "--listen needs an address"),
        ([f"{root}/lab1/lock_server", "--listen", "1:x"], 2, "--listen: "),
        ([f"{root}/lab1/lock_server", "5000", "--listen", "5001"], 2, "give the address to listen on once"),
        ([f"{root}/lab1/lock_server", "--announce", "0.0.0.0:5", "0"], 1, "cannot announce '0.0.0.0:5'"),
        ([f"{root}/lab1/lock_server", "10.255.255.254:0"], 1, "cannot listen on 10.255.255.254:0"),
        ([f"{root}/lab1/lock_tester", "nowhere.invalid:5000"], 2, "no IPv4 address for host 'nowhere.invalid'"),
        ([f"{root}/lab1/lock_tester", "--announce", "127.0.0.9:1", "5000"], 2, "needs a tester that listens"),
        ([f"{root}/lab1/lock_tester", "0"], 2, "'0' is not a port number (1-65535)"),
        ([f"{root}/lab8/lock_server", "0.0.0.0:0", "0.0.0.0:0", "--dir", f"{work}/d"], 2, "0.0.0.0 names no one"),
        ([f"{root}/lab8/lock_server", "0", "127.0.0.2:5000"], 2, "MASTER_PORT 0 needs MY_PORT 0"),
        ([f"{root}/lab8/lock_server", "5000", "127.0.0.2:5001", "--listen", "127.0.0.2:5002"], 2,
         "say which the others reach"),
        ([f"{root}/lab4/yfs_client", work, "127.0.0.2:x", "5000"], 2, "EXTENT_PORT '127.0.0.2:x'"),
        ([f"{root}/lab4/yfs_client", "--listen", "a b:1", work, "5000", "5001"], 2, "--listen: 'a b:1'"),
    ]
    for argv, status, says in cases:
        p = Program(argv)
        got = p.wait(LIMIT)
        if got is None:
            p.stop()
        out = p.output()
        check(got == status and says in out, f"{' '.join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))}"
              f": status {status}, says {says!r}", f"status {got}:\n{out}")


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed: " + "; ".join(failures))
        return 1
    print("all checks passed")
    return 0


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = sys.argv[1]
    work = tempfile.mkdtemp(prefix="dsys-addresses-")
    try:
        bad_addresses(root, work)
        lab1(root)
        lab5(root)
        lab8(root, work)
        lab4(root, work)
    finally:
        for m in ("yfs1", "yfs2"):
            path = os.path.join(work, m)
            if os.path.ismount(path):
                os.system(f"fusermount3 -u -z {path} 2>/dev/null")
        shutil.rmtree(work, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
