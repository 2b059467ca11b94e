"""A nemesis run in the Jepsen style, on the cluster of tools/cluster.py (./dsys nemesis LAB).

For lab 8 (a replicated lock service): 3 replicas on nodes 1-3, and on nodes 4 and 5 a
lock_workload each (5 users of one caching lock client, 3 locks), recording every acquire and
release with its call and return times. Where FUSE is, also yfs: the extent server on node 4 and
two yfs_clients on node 5, whose two mounts two threads of this process use at once, recording
creates, lookups and unlinks (FileSystemWorkload). While they run, a seeded random schedule of real faults:
partitions (one replica alone, or the replicas split with the clients spread), heals, loss and
duplication on some nodes' links, a replica killed with SIGKILL and restarted on its --dir (one at
a time, so that a majority stays). The last CALM seconds are fault-free, so that calls in progress
finish. Then the histories are checked with the kit's linearizability checker (check_history: the
lock model, and the namespace model for the file system), and yfs_tester's two-mount checks run
on the mounts: a verdict, the schedule with its times, the operations and where everything is.

The schedule depends on the seed alone; the times at which things happen are the machine's, so
the interleavings differ from run to run (this is the real world: the seed replays the faults,
not the schedule of messages).
"""

import html
import os
import random
import re
import shutil
import subprocess
import threading
import time

import cluster

CALM = 10  # seconds without faults at the end
EXTENT_PORT = 3773
MARK = ".dsys-nemesis"  # the file that marks a directory as a nemesis run's (--out)
MIN_ACQUIRES = 100  # completed acquires per workload below which the run proves too little
PORT = 3772
REPLICAS = (1, 2, 3)
CLIENTS = (4, 5)


def schedule(seed, seconds):
    """[(at, action, argument)]: the faults, seeded; every fault is undone by seconds - CALM."""
    rng = random.Random(seed)
    steps, at, killed = [], rng.uniform(2, 5), None
    while at < seconds - CALM:
        kinds = ["partition"] * 3 + ["heal", "loss", "loss", "duplicate", "clear"]
        kinds += ["restart"] * 2 if killed else ["kill"] * 2
        kind = rng.choice(kinds)
        if kind == "partition":
            if rng.random() < 0.5:
                alone = rng.choice(REPLICAS)
                others = [k for k in REPLICAS + CLIENTS if k != alone]
                spec = f"{alone}/{','.join(map(str, others))}"
            else:
                minority = [rng.choice(REPLICAS)]
                majority = [k for k in REPLICAS if k not in minority]
                for c in CLIENTS:
                    (minority if rng.random() < 0.5 else majority).append(c)
                spec = f"{','.join(map(str, sorted(minority)))}/{','.join(map(str, sorted(majority)))}"
            steps.append((at, "partition", spec))
        elif kind in ("loss", "duplicate"):
            nodes = sorted(rng.sample(REPLICAS + CLIENTS, rng.randint(1, 5)))
            steps.append((at, kind, (rng.choice((5, 10, 20, 30)), ",".join(map(str, nodes)))))
        elif kind == "kill":
            killed = rng.choice(REPLICAS)
            steps.append((at, "kill", killed))
        elif kind == "restart":
            steps.append((at, "restart", killed))
            killed = None
        else:
            steps.append((at, kind, None))
        at += rng.uniform(2, 6)
    steps.append((seconds - CALM, "clear", None))
    if killed:
        steps.append((seconds - CALM, "restart", killed))
    return steps


def describe(step):
    at, kind, arg = step
    if kind in ("loss", "duplicate"):
        return f"{at:6.1f}s  {kind} {arg[0]}% on nodes {arg[1]}"
    return f"{at:6.1f}s  {kind}" + (f" {arg}" if arg is not None else "")


def apply(step):
    _, kind, arg = step
    if kind == "partition":
        cluster.partition(arg)
    elif kind == "heal":
        cluster.heal()
    elif kind == "clear":
        cluster.clear()
    elif kind == "loss":
        cluster.loss(arg[0], arg[1])
    elif kind == "duplicate":
        cluster.duplicate(arg[0], arg[1])
    elif kind == "kill":
        cluster.kill(f"replica{arg}")
    elif kind == "restart":
        cluster.restart(f"replica{arg}")


class FileSystemWorkload:
    """Two threads, one per yfs mount of one directory, each for SECONDS: create (O_EXCL), look up
    or unlink one of a few names at random, recording each call for the namespace model
    (dsys/testing/linearizability.hpp): create -> the file's inum, or "exists"; lookup -> its inum,
    or "noent"; unlink -> "ok", or "noent". Any other error (EIO while the lock service is cut
    off) leaves the outcome unknown. Times are CLOCK_MONOTONIC, as the lock workloads'."""

    NAMES = 6

    def __init__(self, mounts, seconds, seed):
        self.mounts, self.seconds, self.ops = mounts, seconds, []
        self.rng, self.lock = random.Random(seed), threading.Lock()
        self.threads = [threading.Thread(target=self._loop, args=(i + 1, m, random.Random(seed * 7 + i)),
                                         daemon=True) for i, m in enumerate(mounts)]

    def start(self):
        for t in self.threads:
            t.start()

    def _record(self, client, name, action, call, response, result):
        with self.lock:
            self.ops.append((client, name, action, call, response, result))

    def _loop(self, client, mount, rng):
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            name = f"f{rng.randrange(self.NAMES)}"
            path = os.path.join(mount, "nemesis", name)
            action = rng.choice(("create", "lookup", "lookup", "unlink"))
            call, result = time.monotonic_ns(), None
            try:
                if action == "create":
                    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                    try:
                        result = str(os.fstat(fd).st_ino)
                    finally:
                        os.close(fd)
                elif action == "lookup":
                    result = str(os.stat(path).st_ino)
                else:
                    os.unlink(path)
                    result = "ok"
            except FileExistsError:
                result = "exists"
            except FileNotFoundError:
                result = "noent"
            except OSError:
                result = None  # EIO and the like: it may or may not have taken effect
            self._record(client, name, action, call, time.monotonic_ns() if result else None, result)
            time.sleep(rng.uniform(0, 0.02))

    def finish(self, limit):
        """Waits up to LIMIT seconds for the threads; a call still running counts as unknown."""
        deadline = time.monotonic() + limit
        for t in self.threads:
            t.join(max(deadline - time.monotonic(), 0))
        return all(not t.is_alive() for t in self.threads)

    def write(self, path):
        with self.lock, open(path, "w") as f:
            for client, name, action, call, response, result in self.ops:
                f.write(f"{client} {name} {action} {call} {response if result else '?'} {result or '?'}\n")
        return sum(1 for op in self.ops if op[5] and op[5] not in ("noent",))


def _start_yfs(programs, out, say):
    """The extent server on node 4 and two yfs_clients on node 5 (their lock service: replica 3),
    mounted at OUT/yfs1 and OUT/yfs2 in this mount namespace; the mounts, or None (no FUSE)."""
    if not os.path.exists("/dev/fuse") or shutil.which("fusermount3") is None:
        say("  (no /dev/fuse or fusermount3 here: the file system part is left out)")
        return None
    cluster.run(4, "extent", [os.path.join(programs, "extent_server"), f"{cluster.address(4)}:{EXTENT_PORT}"])
    mounts = []
    for i in (1, 2):
        mount = os.path.join(out, f"yfs{i}")
        os.makedirs(mount, exist_ok=True)
        mounts.append(mount)
        cluster.run(5, f"yfs{i}", [os.path.join(programs, "yfs_client"), mount,
                                   f"{cluster.address(4)}:{EXTENT_PORT}", f"{cluster.address(3)}:{PORT}"], mount=mount)
    for i in (1, 2):
        if not cluster.wait_until(lambda: "yfs_client: mounted" in cluster.log(f"yfs{i}"), 60):
            raise cluster.ClusterError(f"yfs_client {i} did not mount: {cluster.log(f'yfs{i}')[-800:]}")
    os.mkdir(os.path.join(mounts[0], "nemesis"))
    return mounts


def run(programs, check_history, seconds, seed, out, say=lambda text: print(text, flush=True)):
    """Runs the nemesis on lab 8's PROGRAMS (a directory) for SECONDS with SEED, everything in OUT.
    Returns (status, verdict): 0 linearizable, 1 not (or a workload saw a double grant), 3 the
    check ran out of time (never a pass), 4 the run itself failed (a replica never joined, a
    workload crashed or completed fewer than MIN_ACQUIRES acquires: too little to check)."""
    os.environ["DSYS_CLUSTER_DIR"] = out
    steps, origin = schedule(seed, seconds), None
    cluster.up(len(REPLICAS) + len(CLIENTS))
    try:
        first = f"{cluster.address(1)}:{PORT}"
        for k in REPLICAS:
            cluster.run(k, f"replica{k}", [os.path.join(programs, "lock_server"), first,
                                           f"{cluster.address(k)}:{PORT}", "--dir", os.path.join(out, f"disk{k}")])
            members = " ".join(f"{cluster.address(j)}:{PORT}" for j in REPLICAS if j <= k)
            if not cluster.wait_until(lambda: re.search(rf"^view {k}: {re.escape(members)}$", cluster.log(f"replica{k}"), re.M),
                            60):
                return 4, f"replica {k} did not join view {k} within 60 s (its log: {out}/replica{k}.log)"
        mounts = _start_yfs(programs, out, say)
        files = FileSystemWorkload(mounts, seconds, seed) if mounts else None
        histories = []
        for i, k in enumerate(CLIENTS):
            history = os.path.join(out, f"history{k}")
            histories.append(history)
            cluster.run(k, f"workload{k}", [os.path.join(programs, "lock_workload"), "--seconds", str(seconds),
                                            "--history", history, f"{cluster.address(REPLICAS[i])}:{PORT}"])
        start, origin = time.monotonic(), time.monotonic_ns()  # CLOCK_MONOTONIC, as the workloads' times
        cluster.event(f"nemesis: seed {seed}, {seconds} s, {len(steps)} steps")
        if files:
            files.start()
        for step in steps:
            delay = start + step[0] - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the schedule's own clock: the next fault is due then
            apply(step)
            say(f"  {describe(step)}")
        # The workloads stop issuing at SECONDS, and wait for calls in progress (bounded).
        limit = seconds + 60 - (time.monotonic() - start)
        if not cluster.wait_until(lambda: all(not p["alive"] for n, p in cluster.processes().items()
                                    if n.startswith("workload")), max(limit, 1)):
            return 4, f"the workloads did not finish within {seconds + 60} s (logs in {out})"
        summaries, status = [], 0
        for k in CLIENTS:
            text = cluster.log(f"workload{k}")
            line = next((ln for ln in text.splitlines() if re.match(r"lock_workload: \d+ operations", ln)), None)
            failed = next((ln for ln in text.splitlines() if ln.startswith("lock_workload: FAILED")), None)
            summaries.append(f"node {k}: {failed or line or 'no summary (it crashed?): ' + text[-500:]}")
            completed = _completed_acquires(os.path.join(out, f"history{k}"))
            if failed:
                status = 1  # it saw a lock granted to two of its users at once
            elif line is None:
                status = max(status, 4)
            elif completed < MIN_ACQUIRES:
                summaries[-1] += f" -- only {completed} acquires completed: too little to check"
                status = max(status, 4)
        # The checker runs whatever happened: a violation it finds is the verdict (it beats a run
        # that did too little), and beside a double grant a workload saw itself it shows the
        # counterexample.
        present = [h for h in histories if os.path.isfile(h)]
        checked = subprocess.run([check_history, "lock", *present], capture_output=True, text=True) \
            if present else subprocess.CompletedProcess([], 4, "no history was written", "")
        verdict = "\n  ".join(summaries) + "\nlocks: " + checked.stdout.strip() + checked.stderr.strip()
        if status or checked.returncode == 1:
            return (1 if checked.returncode == 1 else status), verdict
        if not files:
            return checked.returncode, verdict
        # The file system: its history (namespace model), then the two-mount checks, fault-free.
        finished = files.finish(60)
        fs_history = os.path.join(out, "fs-history")
        known = files.write(fs_history)
        fs_checked = subprocess.run([check_history, "namespace", fs_history], capture_output=True, text=True)
        verdict += (f"\nfile system: {len(files.ops)} calls through two mounts ({known} that found or made a file)"
                    f"{'' if finished else '; a call still hung after 60 s, of unknown outcome'}"
                    f"\nfile system: {fs_checked.stdout.strip()}{fs_checked.stderr.strip()}")
        tester = subprocess.run([os.path.join(programs, "yfs_tester"), "lab4", *mounts], capture_output=True,
                                text=True, timeout=300)
        passed = tester.returncode == 0 and "passed all tests" in tester.stdout
        verdict += "\nafter the faults, yfs_tester lab4 through both mounts: " + (
            "passed" if passed else "FAILED\n" + (tester.stdout + tester.stderr)[-2000:])
        codes = {checked.returncode, fs_checked.returncode}
        status = 1 if 1 in codes else 3 if 3 in codes else 0 if codes == {0} else 4
        if known < MIN_ACQUIRES // 5:
            verdict += f"\nfile system: only {known} calls found or made a file: too little to check"
            status = max(status, 4)
        return (status if passed else max(status, 1)), verdict
    finally:
        cluster.down()
        try:
            timeline(out, steps, seconds, origin)
        except (OSError, ValueError) as e:
            say(f"  (no timeline.html: {e})")


def _completed_acquires(path):
    try:
        with open(path) as f:
            return sum(1 for line in f if " acquire " in line and not line.rstrip().endswith("?"))
    except OSError:
        return 0


# ---- the picture: faults above, each workload's completed operations below -----------------------

def timeline(out, steps, seconds, origin=None):
    """Writes OUT/timeline.html: the faults as bands over time (one row per kind), and below them
    each workload's acquires completed per half second, with its calls of unknown outcome marked."""
    width, lane, span = 960, 60, seconds + 30
    rows = []
    for path in sorted(p for p in os.listdir(out) if p.startswith("history")) + ["fs-history"]:
        ops = []
        try:
            with open(os.path.join(out, path)) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) == 6 and (fields[2] == "acquire" or path == "fs-history"):
                        ops.append((int(fields[3]), None if fields[4] == "?" else int(fields[4])))
        except FileNotFoundError:
            continue
        if ops:
            rows.append(("yfs calls" if path == "fs-history" else path.replace("history", "node ") + " acquires",
                         ops))
    if origin is None:  # the schedule's start; else the first call
        origin = min((c for _, ops in rows for c, _ in ops), default=0)

    def x(sec):
        return 130 + sec * width / span

    fault_rows = {"partition": (14, "#d9534f"), "loss": (30, "#f0ad4e"), "duplicate": (46, "#5bc0de"),
                  "killed": (62, "#292b2c")}
    parts = [f'<text x="4" y="{y + 10}">{name}</text>' for name, (y, _) in fault_rows.items()]
    active = {}

    def close(key, at):
        begin, label = active.pop(key)
        y, colour = fault_rows[key]
        parts.append(f'<rect x="{x(begin):.1f}" y="{y}" width="{max(x(at) - x(begin), 1):.1f}" height="12" '
                     f'fill="{colour}"><title>{html.escape(label)}</title></rect>')

    for at, kind, arg in steps + [(span, "end", None)]:
        for key in list(active):
            if (key == "partition" and kind in ("partition", "heal", "clear", "end")) or \
               (key in ("loss", "duplicate") and kind in (key, "clear", "end")) or \
               (key == "killed" and kind in ("restart", "end")):
                close(key, at)
        if kind == "partition":
            active["partition"] = (at, f"partition {arg}, from {at:.1f}s")
        elif kind in ("loss", "duplicate") and arg[0] > 0:
            active[kind] = (at, f"{kind} {arg[0]}% on nodes {arg[1]}, from {at:.1f}s")
        elif kind == "kill":
            active["killed"] = (at, f"replica {arg} killed at {at:.1f}s")
    top_of_ops = 84
    for i, (name, ops) in enumerate(rows):
        top = top_of_ops + i * lane
        counts, unknown = [0] * (2 * span), []
        for call, response in ops:
            if response is None:
                unknown.append((call - origin) / 1e9)
            elif 0 <= int((response - origin) / 5e8) < len(counts):
                counts[int((response - origin) / 5e8)] += 1
        most = max(counts) or 1
        parts.append(f'<text x="4" y="{top + 30}">{html.escape(name)}</text>')
        for b, c in enumerate(counts):
            h = (lane - 14) * c / most
            parts.append(f'<rect x="{x(b / 2):.1f}" y="{top + lane - 10 - h:.1f}" width="{width / span / 2:.2f}" '
                         f'height="{h:.1f}" fill="#0275d8"><title>{c} calls completed in '
                         f'[{b / 2:.1f}s, {b / 2 + .5:.1f}s)</title></rect>')
        for u in unknown:
            parts.append(f'<circle cx="{x(u):.1f}" cy="{top + 4}" r="3" fill="#d9534f"><title>a call of '
                         f'unknown outcome, at {u:.2f}s</title></circle>')
    for sec in range(0, span + 1, 10):
        parts.append(f'<line x1="{x(sec):.1f}" x2="{x(sec):.1f}" y1="10" y2="{top_of_ops + lane * len(rows)}" '
                     f'stroke="#ddd"/><text x="{x(sec) - 6:.1f}" y="{top_of_ops + lane * len(rows) + 14}">{sec}s'
                     f'</text>')
    listing = "".join(f"<li><code>{html.escape(describe(s))}</code></li>" for s in steps)
    page = ("<!doctype html><meta charset=utf-8><title>nemesis timeline</title>"
            "<body style='font-family:sans-serif'><h3>Faults and operations over time</h3>"
            "<p>Rows of faults: partitions, loss, duplication, a killed replica (hover a band for what it was). "
            "Below, the acquires each lock workload completed per half second, and the calls through the "
            "two yfs mounts (red dots: calls of unknown outcome, where they were made). Times are from the "
            "start of the schedule.</p>"
            f"<svg width='{width + 160}' height='{top_of_ops + lane * len(rows) + 24}' font-size='12'>"
            f"{''.join(parts)}</svg><h4>The schedule</h4><ul>{listing}</ul>")
    with open(os.path.join(out, "timeline.html"), "w") as f:
        f.write(page)
