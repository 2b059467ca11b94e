#!/usr/bin/env python3
"""Lab 9's leader_node (the reference) across three namespaces of ./dsys cluster, the classic
scenarios with real faults:

- three nodes, each on its own address (10.77.0.K:7000), all print "leader: 3";
- `kill 3` (SIGKILL): nodes 1 and 2 print "leader: 2"; `restart 3`: all print "leader: 3" again;
- `fault partition 3/1-2` (nftables drops): nodes 1 and 2 print "leader: 2", node 3 trusts itself;
  `fault heal`: all print "leader: 3" again;
- `down` leaves nothing.

Needs root, network namespaces and nftables: without them it says why and is skipped (status 77),
except under CI (CI=true), where that is a failure.

usage: check_leaders.py PROGRAMS_DIR WORK_DIR   (build/dev/solutions/lab9)
"""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(KIT, "tools"))
import cluster  # noqa: E402
from check_cluster import check, dsys, log_of, programs_main, require  # noqa: E402  (one copy)

LIMIT = 30  # seconds, for any one wait
PORT = 7000


def mark(names):
    """How much each program of NAMES has logged so far: what a later wait looks after."""
    return {n: len(log_of(n)) for n in names}


def last_leader(name, since=None):
    """The last "leader: X" line NAME printed after SINCE (a mark), X as printed; or None."""
    found = re.findall(r"^leader: (\S+)$", log_of(name)[(since or {}).get(name, 0):], re.M)
    return found[-1] if found else None


def wait_for_leaders(names, leader, since=None, limit=LIMIT):
    """Whether every program of NAMES prints "leader: LEADER" as its last such line after SINCE
    (a mark), within LIMIT seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(last_leader(n, since) == leader for n in names):
            return True
        time.sleep(0.05)
    return False


def leaders(names):
    return "\n".join(f"{n}: last said leader {last_leader(n)}; its log ends:\n{log_of(n)[-600:]}" for n in names)


def scenario(programs):
    dsys("up", "3")
    peers = ",".join(f"{k}={cluster.address(k)}:{PORT}" for k in (1, 2, 3))
    for k in (1, 2, 3):
        dsys("run", str(k), "--name", f"leader{k}", os.path.join(programs, "leader_node"), "--id", str(k),
             "--peers", peers)
    all3 = ["leader1", "leader2", "leader3"]
    require(wait_for_leaders(all3, "3"), "three leader_nodes on 10.77.0.1-3 all trust node 3", leaders(all3))
    started, before = time.monotonic(), mark(all3)
    dsys("kill", "leader3")
    check(wait_for_leaders(["leader1", "leader2"], "2", before),
          "after kill leader3 (SIGKILL), nodes 1 and 2 trust node 2", leaders(all3))
    print(f"      ({time.monotonic() - started:.1f} s)")
    before = mark(all3)
    dsys("restart", "leader3")
    check(wait_for_leaders(["leader1", "leader2"], "3", before) and
          "listening on" in log_of("leader3")[before["leader3"]:] and last_leader("leader3", before) == "3",
          "after restart leader3, it runs again and all trust node 3", leaders(all3))
    started, before = time.monotonic(), mark(all3)
    dsys("fault", "partition", "3/1-2")
    check(wait_for_leaders(["leader1", "leader2"], "2", before) and last_leader("leader3", before) is None,
          "with node 3 cut off (nftables), nodes 1 and 2 trust node 2, and node 3 goes on trusting itself",
          leaders(all3))
    print(f"      ({time.monotonic() - started:.1f} s)")
    before = mark(all3)
    dsys("fault", "heal")
    check(wait_for_leaders(["leader1", "leader2"], "3", before) and last_leader("leader3", before) is None,
          "after heal, nodes 1 and 2 trust node 3 again", leaders(all3))


if __name__ == "__main__":
    sys.exit(programs_main(__doc__, scenario))
