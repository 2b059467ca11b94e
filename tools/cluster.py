"""A cluster on one machine: N network namespaces joined by a bridge, with real faults.

    ./dsys cluster up N | down | status | run | exec | kill | restart | fault ... | log

What it makes (as root; tools/driver/cluster.py is the command line, docs/architecture.md "The
real-fault layer" the why):

- the namespace `dsys-bridge`, holding the bridge `br0` and nothing else;
- the namespaces `dsys-node1` ... `dsys-nodeN`: node K has `lo` and `eth0`, with the address
  10.77.0.K/24 (ADDRESS_RANGE); its `eth0` is one end of a veth pair whose other end, `nodeK`, is a
  port of the bridge. Nothing is added to the root namespace;
- in each node's namespace, the nftables table `ip dsys`, whose chains the faults fill: `loss` and
  `duplicate` (`numgen random`, on the packets the node sends on eth0), `partition_in` and
  `partition_out` (the addresses it is cut off from).

Programs run in a node with only its network namespace entered (nsenter --net), so a FUSE mount a
yfs_client makes there is an ordinary mount of this machine, which the testers and `down` see.
What runs is recorded in the state directory (DSYS_CLUSTER_DIR, default cluster-logs/ in the kit),
with each program's log beside it and every event (up, run, kill, restart, each fault, down) in
events.log with its time. `down` removes everything: it also finds the namespaces by their names
and the processes by their namespace, so it works after a crash of whatever made them.

Every wait is bounded; nothing sleeps a fixed time to let something happen.
"""

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "dsys-"
BRIDGE = "dsys-bridge"
ADDRESS_RANGE = "10.77.0.0/24"
MAX_NODES = 32
COMMAND_LIMIT = 20  # seconds, for any one ip/nft command
STOP_LIMIT = 10  # seconds a program has to end after SIGTERM before it gets SIGKILL


class ClusterError(Exception):
    """What went wrong, said for the user."""


def node_namespace(k):
    return f"dsys-node{k}"


def address(k):
    """Node K's address: 10.77.0.K."""
    return f"10.77.0.{k}"


def state_dir():
    return os.environ.get("DSYS_CLUSTER_DIR") or os.path.join(ROOT, "cluster-logs")


def _path(name):
    return os.path.join(state_dir(), name)


# ---- can it be done here? ----------------------------------------------------------------------

def why_unavailable():
    """None when a cluster can be made here, else why not (for a skip or a failure)."""
    if os.geteuid() != 0:
        return "the cluster needs root (network namespaces and nftables): run it as root"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables"), ("nsenter", "util-linux")):
        if shutil.which(tool) is None:
            return f"'{tool}' is missing (Debian package {package}: ./dsys setup installs it)"
    probe = f"{PREFIX}probe{os.getpid()}"
    made = _run(["ip", "netns", "add", probe], check=False)
    if made.returncode != 0:
        return f"network namespaces are not available here: {made.stderr.strip()}"
    try:
        listed = _run(["nft", "list", "tables"], netns=probe, check=False)
        if listed.returncode != 0:
            return f"nftables does not work in a network namespace here: {listed.stderr.strip()}"
    finally:
        _run(["ip", "netns", "del", probe], check=False)
    return None


# ---- running ip and nft ------------------------------------------------------------------------

def _run(argv, netns=None, check=True, stdin=None):
    if netns is not None:
        argv = ["ip", "netns", "exec", netns] + argv
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=COMMAND_LIMIT)
    except subprocess.TimeoutExpired:
        raise ClusterError(f"'{' '.join(argv)}' did not finish within {COMMAND_LIMIT} s")
    if check and done.returncode != 0:
        raise ClusterError(f"'{' '.join(argv)}' failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def namespaces():
    """The cluster's namespaces that exist now (dsys-bridge, dsys-nodeK), whoever made them (not
    why_unavailable's short-lived probe)."""
    done = _run(["ip", "netns", "list"], check=False)
    names = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
    return sorted(n for n in names if n.startswith(PREFIX) and not n.startswith(f"{PREFIX}probe"))


@contextlib.contextmanager
def _exclusive():
    """Holds the machine's cluster lock (one `up` or `down` at a time, whoever runs it)."""
    if os.geteuid() != 0:
        raise ClusterError("the cluster needs root (network namespaces and nftables): run it as root")
    with open("/run/dsys-cluster.lock", "w") as f:
        deadline = time.monotonic() + 2 * COMMAND_LIMIT
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ClusterError("another ./dsys cluster up or down has held the cluster's lock for "
                                       f"{2 * COMMAND_LIMIT} s (/run/dsys-cluster.lock)")
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ---- the record: cluster.json, processes.json, events.log ---------------------------------------

def _load(name, default):
    try:
        with open(_path(name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def _save(name, value):
    os.makedirs(state_dir(), exist_ok=True)
    tmp = _path(name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(value, f, indent=1)
    os.replace(tmp, _path(name))


def event(text):
    """Appends TEXT to events.log with the wall-clock time and the seconds since `up`."""
    os.makedirs(state_dir(), exist_ok=True)
    now = time.time()
    since = now - _load("cluster.json", {}).get("up_at", now)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    with open(_path("events.log"), "a") as f:
        f.write(f"{stamp} +{since:8.3f}s  {text}\n")


def log(name):
    """What the program `run` started as NAME has printed so far ("" before it has)."""
    try:
        with open(_path(f"{name}.log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_until(predicate, limit):
    """Polls PREDICATE every 20 ms until it holds (True) or LIMIT seconds pass (False)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def events():
    try:
        with open(_path("events.log")) as f:
            return f.read().splitlines()
    except OSError:
        return []


def size():
    """The number of nodes of the cluster that is up (0: none)."""
    if BRIDGE not in namespaces():
        return 0
    return int(_load("cluster.json", {}).get("nodes", 0))


def _need(k=None):
    n = size()
    if n == 0:
        raise ClusterError("no cluster is up: ./dsys cluster up N first")
    if k is not None and not 1 <= k <= n:
        raise ClusterError(f"there is no node {k}: the cluster has nodes 1-{n}")
    return n


# ---- up and down -------------------------------------------------------------------------------

TABLE = """table ip dsys {
  chain partition_in { }
  chain partition_out { }
  chain loss { }
  chain duplicate { }
  chain input { type filter hook input priority 0; policy accept; jump partition_in; }
  chain output { type filter hook output priority 0; policy accept; jump partition_out; jump loss; jump duplicate; }
}
"""


def up(n):
    """Makes a cluster of N nodes. Fails, leaving nothing behind, when it cannot."""
    if not 1 <= n <= MAX_NODES:
        raise ClusterError(f"a cluster has 1 to {MAX_NODES} nodes, not {n}")
    why = why_unavailable()
    if why:
        raise ClusterError(why)
    with _exclusive():
        left = namespaces()
        if left:
            raise ClusterError(f"a cluster is up already ({', '.join(left)}): ./dsys cluster down first")
        os.makedirs(state_dir(), exist_ok=True)
        for stale in ("processes.json", "events.log"):
            if os.path.exists(_path(stale)):
                os.remove(_path(stale))
        _save("cluster.json", {"nodes": n, "up_at": time.time(), "range": ADDRESS_RANGE})
        made = []  # what this call made, and so removes if it fails: never another's
        try:
            _run(["ip", "netns", "add", BRIDGE])
            made.append(BRIDGE)
            _run(["ip", "-n", BRIDGE, "link", "add", "br0", "type", "bridge"])
            _run(["ip", "-n", BRIDGE, "link", "set", "br0", "up"])
            for k in range(1, n + 1):
                ns = node_namespace(k)
                _run(["ip", "netns", "add", ns])
                made.append(ns)
                _run(["ip", "-n", BRIDGE, "link", "add", f"node{k}", "type", "veth", "peer", "name", "eth0",
                      "netns", ns])
                _run(["ip", "-n", BRIDGE, "link", "set", f"node{k}", "master", "br0", "up"])
                _run(["ip", "-n", ns, "addr", "add", f"{address(k)}/24", "dev", "eth0"])
                _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
                _run(["ip", "-n", ns, "link", "set", "lo", "up"])
                _run(["nft", "-f", "-"], netns=ns, stdin=TABLE)
        except ClusterError:
            for ns in made:
                _run(["ip", "netns", "del", ns], check=False)
            os.remove(_path("cluster.json"))
            raise
    event(f"up: {n} nodes, {address(1)}-{address(n)}")


def _alive(pid, started):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z" and fields[19] == str(started)


def _start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _stop_pids(pids, sig=signal.SIGTERM):
    """Signals PIDS ((pid, start time) pairs), then SIGKILLs those still alive after STOP_LIMIT."""
    for pid, started in pids:
        if _alive(pid, started):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + STOP_LIMIT
    while any(_alive(p, s) for p, s in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid, started in pids:
        if _alive(pid, started):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _reap(pids)


def _reap(pids):
    for pid, _ in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def down(quiet=False):
    """Removes the cluster: its programs (SIGTERM, so that yfs clients unmount, then SIGKILL), the
    mounts they left, the namespaces (and with them the veths, the bridge and the nft tables).
    Returns what it removed. Works from what exists, not only from the record."""
    with _exclusive():
        return _down(quiet)


def _down(quiet):
    removed = []
    recorded = _load("processes.json", {})
    pids = [(p["pid"], p["started"]) for p in recorded.values() if _alive(p["pid"], p["started"])]
    for ns in namespaces():
        listed = _run(["ip", "netns", "pids", ns], check=False).stdout.split()
        pids += [(int(pid), _start_time(int(pid))) for pid in listed if pid.isdigit()]
    pids = [(p, s) for p, s in set(pids) if s is not None]
    if pids:
        _stop_pids(pids)
        removed.append(f"{len(pids)} program(s)")
    for p in recorded.values():
        mount = p.get("mount")
        if mount and os.path.ismount(mount):
            try:
                subprocess.run(["fusermount3", "-u", "-z", mount], capture_output=True, timeout=COMMAND_LIMIT)
            except (OSError, subprocess.TimeoutExpired) as e:
                raise ClusterError(f"could not unmount {mount}: {e}")
            if not os.path.ismount(mount):
                removed.append(f"the mount {mount}")
    for ns in namespaces():
        _run(["ip", "netns", "del", ns], check=False)
        removed.append(f"namespace {ns}")
    left = namespaces()
    if left:
        raise ClusterError(f"could not remove {', '.join(left)}")
    if os.path.exists(_path("processes.json")):
        os.remove(_path("processes.json"))
    if os.path.exists(_path("cluster.json")):
        if not quiet:
            event(f"down: removed {', '.join(removed) or 'nothing'}")
        os.remove(_path("cluster.json"))
    return removed


# ---- programs in nodes -------------------------------------------------------------------------

def processes():
    """{name: record} of what run started: node, argv, pid, started, log, mount, alive."""
    out = _load("processes.json", {})
    for p in out.values():
        p["alive"] = _alive(p["pid"], p["started"])
    return out


def _spawn(record, fresh=False):
    """Starts RECORD's program; its log starts anew when FRESH, else (a restart) goes on."""
    log = open(record["log"], "w" if fresh else "a")
    try:
        process = subprocess.Popen(["nsenter", f"--net=/run/netns/{node_namespace(record['node'])}"]
                                   + record["argv"], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env=dict(os.environ, **record.get("env", {})), cwd=record["cwd"])
    except OSError as e:
        raise ClusterError(f"{record['argv'][0]} did not start: {e}")
    finally:
        log.close()
    record["pid"], record["started"] = process.pid, None
    deadline = time.monotonic() + COMMAND_LIMIT
    while record["started"] is None and time.monotonic() < deadline:
        record["started"] = _start_time(process.pid)
        if record["started"] is None:
            time.sleep(0.001)
    record["popen"] = process


def run(k, name, argv, env=None, mount=None, cwd=None):
    """Starts ARGV in node K in the background, as NAME (unique), its output in NAME.log in the
    state directory. MOUNT: the mount point it makes (a yfs_client), for `down` to undo."""
    _need(k)
    if not argv:
        raise ClusterError("run needs a program")
    table = _load("processes.json", {})
    if name in table and _alive(table[name]["pid"], table[name]["started"]):
        raise ClusterError(f"'{name}' runs already (pid {table[name]['pid']})")
    record = {"node": k, "argv": list(argv), "env": env or {}, "mount": mount,
              "cwd": cwd or os.getcwd(), "log": _path(f"{name}.log")}
    _spawn(record, fresh=True)
    record.pop("popen")
    table[name] = record
    _save("processes.json", table)
    event(f"run {name} on node {k} (pid {record['pid']}): {' '.join(argv)}")
    return record


def exec_in(k, argv, limit, env=None):
    """Runs ARGV in node K in the foreground for at most LIMIT seconds: (exit status or None when
    it did not finish and was killed, its output)."""
    _need(k)
    process = subprocess.Popen(["nsenter", f"--net=/run/netns/{node_namespace(k)}"] + list(argv),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               text=True, errors="replace", start_new_session=True,
                               env=dict(os.environ, **(env or {})))
    try:
        out, _ = process.communicate(timeout=limit)
        return process.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        try:
            out, _ = process.communicate(timeout=COMMAND_LIMIT)
        except subprocess.TimeoutExpired:  # something it started holds the pipe: give up on it
            out = "(its output could not be read: a process it started still holds it)"
        return None, out


def _chosen(target):
    """The records TARGET names: a process's name, or a node's number (all of its programs)."""
    table = _load("processes.json", {})
    if target in table:
        return table, [target]
    if str(target).isdigit():
        _need(int(target))
        names = [n for n, p in table.items() if p["node"] == int(target)]
        if not names:
            raise ClusterError(f"node {target} runs nothing that `run` started")
        return table, names
    raise ClusterError(f"'{target}' is neither a node's number nor a program's name "
                       f"({', '.join(table) or 'none runs'})")


def kill(target):
    """SIGKILLs what runs on node TARGET (or the program named TARGET)."""
    table, names = _chosen(target)
    pids = [(table[n]["pid"], table[n]["started"]) for n in names]
    for pid, started in pids:
        if _alive(pid, started):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it ended meanwhile
            except PermissionError:
                raise ClusterError("kill needs root, as the cluster does")
    deadline = time.monotonic() + STOP_LIMIT
    while any(_alive(p, s) for p, s in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    _reap(pids)
    event(f"kill {', '.join(names)} (SIGKILL)")
    return names


def restart(target):
    """Starts again, with the same command line (so the same --dir), what `kill` stopped on node
    TARGET (or the program named TARGET); what still runs is left alone."""
    table, names = _chosen(target)
    started = []
    for n in names:
        if _alive(table[n]["pid"], table[n]["started"]):
            continue
        _spawn(table[n])
        table[n].pop("popen")
        started.append(n)
    _save("processes.json", table)
    event(f"restart {', '.join(started) or 'nothing (all still run)'}")
    return started


def stop(target):
    """SIGTERM (then SIGKILL after STOP_LIMIT) to what runs on node TARGET or as TARGET."""
    table, names = _chosen(target)
    _stop_pids([(table[n]["pid"], table[n]["started"]) for n in names])
    event(f"stop {', '.join(names)}")
    return names


# ---- faults ------------------------------------------------------------------------------------

def _nodes_of(spec, n):
    """[1, 3] from "1,3" or "1-3"; every node from None or "all"."""
    if spec in (None, "", "all"):
        return list(range(1, n + 1))
    out = []
    for part in str(spec).split(","):
        bounds = part.split("-")
        if not all(b.strip().isdigit() for b in bounds) or len(bounds) > 2:
            raise ClusterError(f"'{spec}' is not a list of nodes (e.g. 1,2 or 1-3)")
        lo, hi = int(bounds[0]), int(bounds[-1])
        if lo > hi:
            raise ClusterError(f"'{part}' is not a range of nodes (low-high, e.g. 1-3)")
        for k in range(lo, hi + 1):
            if not 1 <= k <= n:
                raise ClusterError(f"there is no node {k}: the cluster has nodes 1-{n}")
            out.append(k)
    return sorted(set(out))


def _percent(p):
    try:
        value = int(str(p).rstrip("%"))
    except ValueError:
        raise ClusterError(f"'{p}' is not a percentage (0-100)")
    if not 0 <= value <= 100:
        raise ClusterError(f"'{p}' is not a percentage (0-100)")
    return value


def _set_chain(k, chain, rules):
    script = f"flush chain ip dsys {chain}\n" + "".join(f"add rule ip dsys {chain} {r}\n" for r in rules)
    _run(["nft", "-f", "-"], netns=node_namespace(k), stdin=script)


def loss(percent, nodes=None):
    """Each node of NODES drops PERCENT % of the packets it sends to the others (0: none)."""
    n = _need()
    p, chosen = _percent(percent), _nodes_of(nodes, n)
    for k in chosen:
        _set_chain(k, "loss", [f'oifname "eth0" numgen random mod 100 < {p} drop'] if p else [])
    event(f"loss {p}% on what nodes {_shown(chosen)} send")


def duplicate(percent, nodes=None):
    """Each node of NODES sends PERCENT % of its packets to the others twice (0: none)."""
    n = _need()
    p, chosen = _percent(percent), _nodes_of(nodes, n)
    for k in chosen:
        _set_chain(k, "duplicate",
                   [f'oifname "eth0" numgen random mod 100 < {p} dup to ip daddr device "eth0"'] if p else [])
    event(f"duplicate {p}% of what nodes {_shown(chosen)} send")


def partition(spec):
    """Cuts the groups of SPEC ("1,2/3", "1/2/3-5") off from one another, both ways; nodes not
    named keep every link. Replaces any partition before."""
    n = _need()
    groups = [_nodes_of(g, n) for g in str(spec).split("/")]
    if len(groups) < 2 or any(not g for g in groups):
        raise ClusterError(f"'{spec}' is not a partition: two or more groups of nodes, e.g. 1,2/3")
    seen = [k for g in groups for k in g]
    if len(seen) != len(set(seen)):
        raise ClusterError(f"'{spec}': a node is in two groups")
    for k in range(1, n + 1):
        mine = next((g for g in groups if k in g), None)
        others = [address(j) for g in groups if g is not mine for j in g] if mine else []
        cut = "{ " + ", ".join(others) + " }"
        _set_chain(k, "partition_in", [f"ip saddr {cut} drop"] if others else [])
        _set_chain(k, "partition_out", [f"ip daddr {cut} drop"] if others else [])
    event(f"partition {' / '.join(_shown(g) for g in groups)}")


def heal():
    """Ends the partition: every link is back."""
    n = _need()
    for k in range(1, n + 1):
        _set_chain(k, "partition_in", [])
        _set_chain(k, "partition_out", [])
    event("heal")


def clear():
    """Ends every network fault: partition, loss and duplication."""
    n = _need()
    for k in range(1, n + 1):
        for chain in ("partition_in", "partition_out", "loss", "duplicate"):
            _set_chain(k, chain, [])
    event("clear: no partition, loss or duplication")


def faults():
    """{node: [rules in force]} as nftables lists them."""
    n = _need()
    out = {}
    for k in range(1, n + 1):
        listed = _run(["nft", "list", "table", "ip", "dsys"], netns=node_namespace(k), check=False).stdout
        chain, rules = None, []
        for line in listed.splitlines():
            line = line.strip()
            if line.startswith("chain "):
                chain = line.split()[1]
            elif line and chain in ("partition_in", "partition_out", "loss", "duplicate") and line != "}":
                rules.append(f"{chain}: {line}")
        out[k] = rules
    return out


def _shown(nodes):
    return ",".join(str(k) for k in nodes)
