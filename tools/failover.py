"""./dsys bench rsm's fail-over across network namespaces: the pause lab 8's clients see when the
primary's link is cut (nftables drops everything to and from it; the process lives on), beside the
pause when the primary is killed with SIGKILL, measured the same way in the same run.

    failover.py PROGRAMS_DIR [--clients N] [--seconds S]

PROGRAMS_DIR holds lab 8's lock_server and bench_rsm. For each fault, a fresh cluster
(tools/cluster.py): 3 replicas on nodes 1-3, N `bench_rsm --client` processes on node 4 (each
acquires and releases a lock of its own through a backup's address, over and over, and prints the
longest gap between two pairs); 2 s into the run, the fault; the run lasts max(S, 12) s. Without
root, network namespaces or nftables it says why it measured nothing, and exits 0 (a benchmark's
missing part is no failure; tests/bench/check_bench_rsm.py fails it under CI).
"""

import argparse
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402

PORT = 3772


def measure(programs, clients, seconds, fault, work):
    """(longest pause in ms, pairs, errors) of CLIENTS clients over SECONDS, with FAULT ("cut" or
    "kill") done to the primary 2 s in. Raises cluster.ClusterError when the run cannot be made."""
    os.environ["DSYS_CLUSTER_DIR"] = os.path.join(work, fault)
    cluster.up(4)
    try:
        first = f"{cluster.address(1)}:{PORT}"
        for k in (1, 2, 3):
            cluster.run(k, f"replica{k}", [os.path.join(programs, "lock_server"), first,
                                           f"{cluster.address(k)}:{PORT}", "--dir",
                                           os.path.join(work, fault, f"disk{k}")])
            if not cluster.wait_until(lambda: re.search(rf"^view {k}:", cluster.log(f"replica{k}"), re.M), 30):
                raise cluster.ClusterError(f"replica {k} did not join: {cluster.log(f'replica{k}')[-1000:]}")
        backup = f"{cluster.address(2)}:{PORT}"
        for i in range(clients):
            cluster.run(4, f"client{i + 1}", [os.path.join(programs, "bench_rsm"), "--client", backup,
                                              str(i + 1), str(seconds)])
        time.sleep(2)  # the benchmark's schedule: the fault lands 2 s into the run
        if fault == "cut":
            cluster.partition("1/2,3,4")
        else:
            cluster.kill("replica1")
        pattern = re.compile(r"^pairs (\d+) errors (\d+) max_gap_ms (\d+)$", re.M)
        if not cluster.wait_until(lambda: all(pattern.search(cluster.log(f"client{i + 1}")) for i in range(clients)), seconds + 90):
            raise cluster.ClusterError("a client did not finish: " + cluster.log("client1")[-1000:])
        pause = pairs = errors = 0
        for i in range(clients):
            p, e, g = (int(v) for v in pattern.search(cluster.log(f"client{i + 1}")).groups())
            pairs, errors, pause = pairs + p, errors + e, max(pause, g)
        return pause, pairs, errors
    finally:
        cluster.down()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="failover.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", metavar="PROGRAMS_DIR")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 600:
        parser.error("--clients 1-64, --seconds 1-600")
    seconds = max(args.seconds, 12)
    why = cluster.why_unavailable() or (cluster.namespaces() and "a cluster is up already (./dsys cluster down)")
    if why:
        print(f"\nfail-over with the primary's link cut: skipped, as {why}; the SIGKILL pause above is "
              "on loopback", flush=True)
        return 0
    work = os.path.join(cluster.ROOT, "build", "failover")
    shutil.rmtree(work, ignore_errors=True)
    print(f"\nfail-over across network namespaces (./dsys cluster: 3 replicas on {cluster.address(1)}-3, "
          f"{args.clients} clients on {cluster.address(4)}, runs of {seconds} s, the fault 2 s in):", flush=True)
    for fault, label in (("cut", "the primary's link cut (nftables)"), ("kill", "the primary killed (SIGKILL)")):
        try:
            pause, pairs, errors = measure(args.programs, args.clients, seconds, fault, work)
        except cluster.ClusterError as e:
            print(f"bench rsm: fail-over with {label}: {e}", file=sys.stderr)
            return 1
        print(f"  {label:<36} the longest pause a client saw: {pause:>6} ms ({pairs} pairs, {errors} errors)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
