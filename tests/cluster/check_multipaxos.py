#!/usr/bin/env python3
"""Lab 10's paxos_node (the reference) across three namespaces of ./dsys cluster, with real faults:

- three nodes on 10.77.0.1-3:7100, each with its --dir; all print "leader: 3";
- paxos_client in node 1's namespace appends 20 commands (client 1);
- with 5 % loss on every link (nftables), client 2 appends 20 more while the leader, node 3, is
  SIGKILLed mid-stream; they are all delivered; node 3 restarts on its --dir;
- node 3 cut off (`fault partition 3/1-2`): client 3 appends 10 through nodes 1 and 2; after
  `fault heal`, every node's log holds the 50 commands once each, in each client's order, in one
  order at every node (node 3 caught up on what it missed, though it was the leader before);
- `down` leaves nothing.

Needs root, network namespaces and nftables: without them it says why and is skipped (status 77),
except under CI (CI=true), where that is a failure.

usage: check_multipaxos.py PROGRAMS_DIR WORK_DIR   (build/dev/solutions/lab10)
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
from check_leaders import leaders, mark, wait_for_leaders  # noqa: E402

LIMIT = 60  # seconds, for any one wait
PORT = 7100


def appended(name):
    """The commands client NAME says were appended ("C:n")."""
    return re.findall(r"^appended (\d+:\d+) at slot \d+$", log_of(name), re.M)


def wait_for(condition, limit=LIMIT):
    return cluster.wait_until(condition, limit)


def read_log(programs, peers, k):
    """Node K's log as paxos_client reads it from node 1's namespace: ["C:n", ...], or None."""
    out = dsys("exec", "1", "--seconds", "30", os.path.join(programs, "paxos_client"), "--peers", peers,
               "read", "--node", str(k), "--timeout", "10", expect=None)
    if not re.search(r"^commands: \d+$", out, re.M):
        return None
    return re.findall(r"^(\d+:\d+) ", out, re.M)


def scenario(programs):
    dsys("up", "3")
    peers = ",".join(f"{k}={cluster.address(k)}:{PORT}" for k in (1, 2, 3))
    work = os.environ["DSYS_CLUSTER_DIR"]
    for k in (1, 2, 3):
        dsys("run", str(k), "--name", f"paxos{k}", os.path.join(programs, "paxos_node"), "--id", str(k),
             "--peers", peers, "--dir", os.path.join(work, f"disk{k}"))
    nodes = ["paxos1", "paxos2", "paxos3"]
    require(wait_for_leaders(nodes, "3"), "three paxos_nodes on 10.77.0.1-3 all trust node 3", leaders(nodes))
    client = os.path.join(programs, "paxos_client")

    dsys("run", "1", "--name", "client1", client, "--peers", peers, "append", "--client", "1", "--count", "20")
    require(wait_for(lambda: len(appended("client1")) == 20), "client 1 appends 20 commands",
            log_of("client1")[-2000:])

    dsys("fault", "loss", "5")
    started, before = time.monotonic(), mark(nodes)
    dsys("run", "1", "--name", "client2", client, "--peers", peers, "append", "--client", "2", "--count", "20")
    require(wait_for(lambda: len(appended("client2")) >= 5), "client 2 is under way (5 % loss)",
            log_of("client2")[-2000:])
    dsys("kill", "paxos3")
    check(wait_for(lambda: len(appended("client2")) == 20),
          "with the leader node 3 SIGKILLed mid-stream, all of client 2's 20 commands are delivered",
          log_of("client2")[-2000:] + "\n" + leaders(nodes[:2]))
    check(wait_for_leaders(["paxos1", "paxos2"], "2", before), "nodes 1 and 2 trust node 2", leaders(nodes))
    print(f"      ({time.monotonic() - started:.1f} s)")
    dsys("fault", "clear")
    before = mark(nodes)
    dsys("restart", "paxos3")
    check(wait_for_leaders(nodes, "3", before), "node 3, restarted on its --dir, leads again", leaders(nodes))

    dsys("fault", "partition", "3/1-2")
    dsys("run", "1", "--name", "client3", client, "--peers", peers, "append", "--client", "3", "--count", "10")
    check(wait_for(lambda: len(appended("client3")) == 10),
          "with node 3 cut off (nftables), client 3's 10 commands are delivered through nodes 1 and 2",
          log_of("client3")[-2000:] + "\n" + leaders(nodes))
    dsys("fault", "heal")

    expected = [f"{c}:{n}" for c, count in ((1, 20), (2, 20), (3, 10)) for n in range(1, count + 1)]
    logs = {}
    for k in (1, 2, 3):
        def caught_up(k=k):
            logs[k] = read_log(programs, peers, k) or []
            return len(logs[k]) >= len(expected)
        wait_for(caught_up)
    for k in (1, 2, 3):
        check(sorted(logs[k]) == sorted(expected) and
              all([c for c in logs[k] if c.startswith(f"{n}:")] ==
                  [c for c in expected if c.startswith(f"{n}:")] for n in (1, 2, 3)),
              f"after the heal node {k}'s log holds the 50 commands once each, in each client's order",
              f"{len(logs[k])} commands: {' '.join(logs[k])}")
    check(logs[1] == logs[2] == logs[3], "the three logs are one order", "")


if __name__ == "__main__":
    sys.exit(programs_main(__doc__, scenario))
