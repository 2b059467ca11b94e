"""./dsys cluster: a cluster of network namespaces on this machine, its programs and its real
faults (tools/cluster.py does the work)."""

import argparse
import os
import shutil
import sys

from driver import common

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import cluster  # noqa: E402  (tools/cluster.py)
import nemesis  # noqa: E402  (tools/nemesis.py)


def fail(e):
    print(f"dsys cluster: {e}", file=sys.stderr)
    return 1


def as_root(command):
    """COMMAND, refused with a message (status 1) unless run as root, as the cluster needs."""
    def run(args):
        if os.geteuid() != 0:
            return fail("the cluster needs root (network namespaces and nftables): run it as root")
        return command(args)
    return run


def program_path(args):
    """PROGRAM as a path: itself when it names a file (it has a '/'), else LAB/PROGRAM of a lab's
    build (lab8/lock_server: build/dev/labs/lab8/lock_server, or the flavour --impl names)."""
    text = args.program
    if os.path.isfile(text):
        if not os.access(text, os.X_OK):
            raise cluster.ClusterError(f"{text} is not executable")
        return os.path.abspath(text)
    if "/" in text and text.count("/") == 1 and not text.startswith((".", "/")):
        lab, name = text.split("/")
        try:
            lab = common.lab_name(lab)
        except argparse.ArgumentTypeError as e:
            raise cluster.ClusterError(f"'{text}': {e}")
        chosen = common.flavour(args)[0] or "labs"
        rows = common.lab_rows(args.preset)
        row = common.lab_row(rows, lab, chosen)
        path = os.path.join(row["dir"], name)
        if os.access(path, os.X_OK):
            return path
        raise cluster.ClusterError(f"{common.shown(path)} is not built: ./dsys build --lab {lab}")
    raise cluster.ClusterError(f"no program '{text}': give a path, or LAB/PROGRAM (e.g. lab8/lock_server)")


def cmd_up(args):
    try:
        cluster.up(args.nodes)
    except cluster.ClusterError as e:
        return fail(e)
    common.say(f"cluster: {args.nodes} nodes are up")
    for k in range(1, args.nodes + 1):
        print(f"  node {k:<3} {cluster.address(k):<12} namespace {cluster.node_namespace(k)}")
    print(f"  the bridge: namespace {cluster.BRIDGE}; logs and events: {common.shown(cluster.state_dir())}")
    print(f"  run a program:  ./dsys cluster run 1 lab8/lock_server {cluster.address(1)}:3772 "
          f"{cluster.address(1)}:3772 --dir cluster-logs/r1")
    print("  remove it all:  ./dsys cluster down")
    return 0


def cmd_down(args):
    try:
        removed = cluster.down()
    except cluster.ClusterError as e:
        return fail(e)
    common.say(f"cluster: down ({', '.join(removed) if removed else 'nothing was up'})")
    return 0


def cmd_status(args):
    try:
        n = cluster.size()
        if n == 0:
            left = cluster.namespaces()
            print("no cluster is up" + (f" (but these namespaces are: {', '.join(left)}; ./dsys cluster down "
                                        "removes them)" if left else ""))
            return 0 if not left else 1
        rules = cluster.faults()
    except cluster.ClusterError as e:
        return fail(e)
    print(f"cluster: {n} nodes; logs and events in {common.shown(cluster.state_dir())}")
    programs = cluster.processes()
    for k in range(1, n + 1):
        print(f"  node {k:<3} {cluster.address(k):<12} {'; '.join(rules[k]) or 'no fault'}")
        for name, p in programs.items():
            if p["node"] == k:
                state = f"pid {p['pid']}" if p["alive"] else "not running"
                print(f"      {name:<16} {state:<12} {' '.join(p['argv'])}")
    return 0


def cmd_run(args):
    try:
        path = program_path(args)
        name = args.name or f"{os.path.basename(path)}@{args.node}"
        mount = os.path.abspath(args.mount) if args.mount else None
        record = cluster.run(args.node, name, [path] + args.arguments, mount=mount)
    except cluster.ClusterError as e:
        return fail(e)
    print(f"{name}: pid {record['pid']} on node {args.node} ({cluster.address(args.node)}), "
          f"log {common.shown(record['log'])}")
    return 0


def cmd_exec(args):
    try:
        path = program_path(args)
        status, out = cluster.exec_in(args.node, [path] + args.arguments, args.seconds)
    except cluster.ClusterError as e:
        return fail(e)
    sys.stdout.write(out)
    if status is None:
        return fail(f"{os.path.basename(path)} did not finish within {args.seconds} s: killed")
    return status


def cmd_each(action):
    def run(args):
        try:
            names = action(args.target)
        except cluster.ClusterError as e:
            return fail(e)
        print(f"{action.__name__}: {', '.join(names) or 'nothing'}")
        return 0
    return run


def cmd_fault(args):
    try:
        if args.fault == "loss":
            cluster.loss(args.percent, args.nodes)
        elif args.fault == "duplicate":
            cluster.duplicate(args.percent, args.nodes)
        elif args.fault == "partition":
            cluster.partition(args.groups)
        elif args.fault == "heal":
            cluster.heal()
        else:
            cluster.clear()
    except cluster.ClusterError as e:
        return fail(e)
    print(cluster.events()[-1])
    return 0


def cmd_log(args):
    lines = cluster.events()
    print("\n".join(lines) if lines else "no events recorded")
    return 0


def cmd_nemesis(args):
    entry = common.load_manifest().get(args.lab)
    if entry is None:
        return fail(f"no lab '{args.lab}'")
    if not entry.get("replicated") or "lock_workload" not in entry.get("programs", {}):
        return fail(f"{args.lab} has no nemesis run yet: it is for a replicated lock service with a "
                    "lock_workload program (lab 8)")
    if not 20 <= args.seconds <= 3600:
        return fail("--seconds: from 20 to 3600")
    why = cluster.why_unavailable()
    if why:
        return fail(f"the nemesis needs the cluster, and {why}")
    if cluster.namespaces():
        return fail(f"a cluster is up already ({', '.join(cluster.namespaces())}): ./dsys cluster down first")
    out = os.path.abspath(args.out or os.path.join(common.ROOT, "nemesis", f"{args.lab}-seed{args.seed}"))
    if os.path.isdir(out) and os.listdir(out):
        # Only a directory a nemesis run made (it marks it) is emptied for the next.
        if not os.path.isfile(os.path.join(out, nemesis.MARK)):
            return fail(f"{out} is not empty and no nemesis run made it: give --out a new directory")
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, nemesis.MARK), "w") as f:
        f.write("made by ./dsys nemesis; removed with this directory by the next run that writes here\n")
    chosen = common.flavour(args)[0] or "labs"
    rows = common.lab_rows(args.preset)
    row = common.lab_row(rows, args.lab, chosen)
    common.build(args.preset, [row["target"], "check_history"], quiet=True)
    common.say(f"nemesis: {args.lab} ({chosen}), seed {args.seed}, {args.seconds} s; the schedule:")
    checker = os.path.join(common.ROOT, "build", args.preset, "apps", "check_history")
    try:
        status, verdict = nemesis.run(row["dir"], checker, args.seconds, args.seed, out)
    except cluster.ClusterError as e:
        return fail(e)
    word = {0: "LINEARIZABLE", 1: "NOT LINEARIZABLE", 3: "UNDECIDED (the check ran out of time: not a pass)",
            4: "NO VERDICT (the run itself failed)"}
    print(f"verdict: {word.get(status, 'THE RUN FAILED')}\n  {verdict}")
    print(f"logs, histories, events.log and timeline.html: {common.shown(out)}")
    return status


def register(commands):
    p = commands.add_parser(
        "cluster", help="a cluster of network namespaces on this machine, with real faults (root)",
        description="N network namespaces on this machine (node K at 10.77.0.K), joined by a bridge "
                    "in a namespace of its own; nothing is added to the root namespace. Programs run "
                    "in a node with its network namespace entered; faults are nftables rules in the "
                    "nodes' namespaces (loss, duplication, partitions) and signals (kill, restart). "
                    "Every event is logged with its time (./dsys cluster log). Needs root, iproute2 "
                    "and nftables (./dsys setup). Logs: cluster-logs/ (DSYS_CLUSTER_DIR).")
    sub = p.add_subparsers(dest="cluster_command", required=True,
                           metavar="up|down|status|run|exec|kill|restart|stop|fault|log")
    s = sub.add_parser("up", help="make N nodes (1-32)")
    s.add_argument("nodes", type=int, metavar="N")
    s.set_defaults(run=as_root(cmd_up))
    s = sub.add_parser("down", help="remove everything the cluster made, even after a crash")
    s.set_defaults(run=as_root(cmd_down))
    s = sub.add_parser("status", help="the nodes, their faults and their programs")
    s.set_defaults(run=cmd_status)
    for name, helptext in (("run", "start a program in a node, in the background (its log in cluster-logs/)"),
                           ("exec", "run a program in a node and wait for it (a tester)")):
        s = sub.add_parser(name, help=helptext,
                           description=helptext + ". PROGRAM is a path or LAB/PROGRAM (lab8/lock_server: "
                                       "the lab's build of your code; --impl solutions: the reference's).")
        s.add_argument("node", type=int, metavar="NODE")
        if name == "run":
            s.add_argument("--name", help="what to call it (default PROGRAM@NODE)")
            s.add_argument("--mount", metavar="DIR", help="the mount point it makes (a yfs_client), for down")
        else:
            s.add_argument("--seconds", type=int, default=300, help="kill it after this long (default 300)")
        common.add_flavour(s)
        s.add_argument("program", metavar="PROGRAM")
        s.add_argument("arguments", nargs="...", metavar="ARG")
        s.set_defaults(run=as_root(cmd_run if name == "run" else cmd_exec))
    for action, helptext in ((cluster.kill, "SIGKILL what runs on NODE (or the program NAME)"),
                             (cluster.restart, "start again what was killed on NODE (or NAME), same command line"),
                             (cluster.stop, "SIGTERM what runs on NODE (or NAME)")):
        s = sub.add_parser(action.__name__, help=helptext)
        s.add_argument("target", metavar="NODE|NAME")
        s.set_defaults(run=as_root(cmd_each(action)))
    s = sub.add_parser("fault", help="loss, duplicate, partition, heal, clear")
    faults = s.add_subparsers(dest="fault", required=True, metavar="loss|duplicate|partition|heal|clear")
    for kind, helptext in (("loss", "drop P %% of the packets the nodes send (0: none)"),
                           ("duplicate", "send P %% of the nodes' packets twice (0: none)")):
        f = faults.add_parser(kind, help=helptext)
        f.add_argument("percent", metavar="P")
        f.add_argument("--nodes", metavar="LIST", help="e.g. 1,2 or 1-3 (default: all)")
        f.set_defaults(run=as_root(cmd_fault))
    f = faults.add_parser("partition", help="cut groups off from one another: 1,2/3 (replaces any before)")
    f.add_argument("groups", metavar="GROUPS")
    f.set_defaults(run=as_root(cmd_fault))
    faults.add_parser("heal", help="end the partition").set_defaults(run=as_root(cmd_fault))
    faults.add_parser("clear", help="end every network fault").set_defaults(run=as_root(cmd_fault))
    s = sub.add_parser("log", help="every event with its time: up, run, kill, restart, faults, down")
    s.set_defaults(run=cmd_log)

    p = commands.add_parser(
        "nemesis", help="real faults on a seeded schedule while clients run, then a linearizability check",
        description="A Jepsen-style run of LAB's real processes in a cluster (./dsys cluster, root): lab 8's "
                    "3 replicas and 2 recording lock workloads, with a seeded random schedule of partitions, "
                    "loss, duplication, kills and restarts; then the kit's linearizability checker on the "
                    "recorded history. Prints the schedule, the verdict and where the logs and the timeline "
                    "(timeline.html) are; exits 0 only when the history is linearizable (tools/nemesis.py).")
    p.add_argument("lab", type=common.lab_name, metavar="LAB")
    p.add_argument("--seconds", type=int, default=60, help="how long the clients run (default 60)")
    p.add_argument("--seed", type=int, default=1, help="the fault schedule's seed (default 1)")
    p.add_argument("--out", metavar="DIR", help="where its logs go (default nemesis/LAB-seedN/)")
    common.add_flavour(p)
    p.set_defaults(run=as_root(cmd_nemesis))
