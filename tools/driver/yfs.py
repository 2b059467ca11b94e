"""./dsys yfs start|stop|status: yfs as real processes in the kit's top directory, as the classic
start.sh/stop.sh ran it: a lock server (lab 8 on: a group of replicas), an extent server and two
yfs_client mounts of one store, ./yfs1 and ./yfs2, so that testers (yfs_tester, the classic
scripts) run against them.

Each program's output goes to yfs-logs/NAME.log; yfs-logs/state records what start started, one
tab-separated line each:
    lab      LAB FLAVOUR DIR
    NAME     PID START-TIME (as /proc/PID/stat says it) LOG      (lock_server*, extent_server, yfs_client*)
    ports    LOCK-PORT EXTENT-PORT -
    mount    PATH - -
so that stop stops exactly those processes, and no others that got their pids since. Every wait
is bounded (LIMIT seconds for each program to start and each mount to answer).
"""
import os
import signal
import subprocess
import sys
import time

from . import common
from .common import ROOT, die, say

# Where it runs: the kit's top directory, or DSYS_YFS_ROOT (the kit's own test of these commands
# runs them in a directory of its build tree).
HERE = os.path.abspath(os.environ.get("DSYS_YFS_ROOT") or ROOT)
LOGS = os.path.join(HERE, "yfs-logs")
STATE = os.path.join(LOGS, "state")
MOUNTS = ("yfs1", "yfs2")


def at(path):
    """A mount point as the user names it: ./yfs1 (relative to where yfs runs)."""
    return "./" + os.path.relpath(path, HERE)

LIMIT = 30  # seconds for each program to start, and for each mount to answer
POLL = 0.05


class StartFailed(Exception):
    pass


def stat_fields(pid):
    """The fields of /proc/PID/stat after "PID (COMM) ", or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def start_time(pid):
    fields = stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None  # field 22: starttime


def alive(pid, started):
    """The process we started is still running (not a zombie, not another with its pid)."""
    fields = stat_fields(pid)
    return bool(fields) and len(fields) > 19 and fields[19] == started and fields[0] != "Z"


def mounted(path):
    """PATH is a mount point (from mountinfo: no file-system access, which a dead mount hangs)."""
    escaped = path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == escaped for line in f if len(line.split()) > 4)
    except OSError:
        return False


def fuse_mounted(path):
    escaped = path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == escaped and " - fuse" in line for line in f if len(line.split()) > 4)


def answers(path):
    """A file system other than its parent's answers stat at PATH (within 2 s)."""
    try:
        done = subprocess.run(["stat", "-c", "%d", path], capture_output=True, text=True, timeout=2)
        parent = os.stat(os.path.dirname(path)).st_dev
    except (subprocess.TimeoutExpired, OSError):
        return False
    return done.returncode == 0 and done.stdout.strip() != str(parent)


def unmount(path):
    """Undoes the mount at PATH, lazily if it is busy; False if it stays."""
    if not mounted(path):
        return True
    subprocess.run(["fusermount3", "-u", "-q", path], capture_output=True)
    if not mounted(path):
        return True
    if subprocess.run(["fusermount3", "-u", "-z", "-q", path], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", path], capture_output=True)
    return not mounted(path)


def log_tail(log):
    print(f"  the last lines of {common.shown(log)}:", file=sys.stderr)
    try:
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()[-15:]
    except OSError:
        lines = []
    print("\n".join(f"    {line}" for line in lines) if lines else "    (nothing)", file=sys.stderr)


def record(*fields):
    with open(STATE, "a") as f:
        f.write("\t".join(str(x) for x in fields) + "\n")


def read_state():
    with open(STATE) as f:
        return [line.rstrip("\n").split("\t") + ["", "", ""] for line in f if line.strip()]


def spawn(name, log, argv, env):
    """Starts argv in a session of its own (so it outlives ./dsys and its terminal), its output in
    LOG, and records it in the state file; returns its pid."""
    with open(log, "w") as out:
        try:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, env=env, cwd=HERE)
        except OSError as e:
            print(f"dsys yfs start: {name} did not start: {e}", file=sys.stderr)
            raise StartFailed()
    record(name, process.pid, start_time(process.pid) or "?", log)
    return process.pid


def wait_until(ready, pid, log, exited, late):
    """Polls ready() until it returns something true, while the process PID lives, for LIMIT
    seconds at most; returns that. Otherwise says `exited` or `late`, shows LOG's end, and raises
    StartFailed."""
    started, deadline = start_time(pid), time.monotonic() + LIMIT
    while True:
        value = ready()
        if value:
            return value
        why = exited if started is None or not alive(pid, started) else \
            late if time.monotonic() >= deadline else None
        if why:
            print(f"dsys yfs start: {why}", file=sys.stderr)
            log_tail(log)
            raise StartFailed()
        time.sleep(POLL)


def await_line(name, pid, log, text):
    """Waits (bounded) for a line containing TEXT in LOG while the process lives; returns it."""
    def found():
        try:
            with open(log, errors="replace") as f:
                return next((line.rstrip("\n") for line in f if text in line), None)
        except OSError:
            return None

    return wait_until(found, pid, log, f"{name} exited before it said '{text}'",
                      f"{name} did not say '{text}' within {LIMIT} s")


def stop_recorded():
    """Stops what the state file records (clients first, so that they unmount, then the mounts they
    left, then the servers), and removes the state file. False if a mount stays."""
    if not os.path.isfile(STATE):
        return True
    state = read_state()
    left, stopped = [], []
    for kind in ("client", "server"):
        stopping = []
        for name, pid, started, *_ in state:
            is_client = name.startswith("yfs_client")
            is_server = name.startswith("lock_server") or name == "extent_server"
            if (kind == "client" and not is_client) or (kind == "server" and not is_server):
                continue
            if pid.isdigit() and alive(int(pid), started):
                try:
                    os.kill(int(pid), signal.SIGTERM)
                except OSError:
                    pass
                stopping.append((name, int(pid), started))
        deadline = time.monotonic() + 10
        for name, pid, started in stopping:
            while alive(pid, started) and time.monotonic() < deadline:
                time.sleep(POLL)
            if alive(pid, started):
                print(f"dsys yfs stop: {name} (pid {pid}) did not exit on SIGTERM: SIGKILL", file=sys.stderr)
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                until = time.monotonic() + 5
                while alive(pid, started) and time.monotonic() < until:
                    time.sleep(POLL)
            stopped.append(f"{name} (pid {pid})")
        if kind == "client":  # the mounts the clients left behind (one that died, or was killed)
            for name, mount, *_ in state:
                if name == "mount" and mounted(mount):
                    if unmount(mount):
                        print(f"dsys yfs stop: unmounted {at(mount)}, which its yfs_client left mounted",
                              file=sys.stderr)
                    else:
                        left.append(at(mount))
    os.remove(STATE)
    if stopped:
        say(f"yfs: stopped {' '.join(stopped)}")
    if left:
        print(f"dsys yfs stop: still mounted (busy?): {' '.join(left)}; try: umount -l {' '.join(left)}",
              file=sys.stderr)
        return False
    return True


def cmd_start(args):
    if args.lossy is not None and not 0 <= args.lossy <= 100:
        die("--lossy takes a percentage (0-100)")
    if args.replicas is not None and not 1 <= args.replicas <= 7:
        die("--replicas takes a number of replicas (1-7)")
    chosen, _ = common.flavour(args)
    chosen = chosen or "labs"

    # Refuse before building anything: a start that runs, or mount points in use.
    if os.path.isfile(STATE):
        running = [f"{name} (pid {pid})" for name, pid, started, *_ in read_state()
                   if (name.startswith(("lock_server", "yfs_client")) or name == "extent_server")
                   and pid.isdigit() and alive(int(pid), started)]
        if running:
            die(f"yfs is running already: {' '.join(running)} (./dsys yfs status); ./dsys yfs stop first")
        say("yfs: the last start's processes have all exited; cleaning up after them")
        if not stop_recorded():
            die("could not clean up after the last start")
    for m in MOUNTS:
        path = os.path.join(HERE, m)
        if mounted(path):
            die(f"./{m} is a mount point already (not of a start recorded in yfs-logs/state): unmount it "
                f"first (fusermount3 -u {m}, or umount -l {m})")
        if os.path.exists(path) and not os.path.isdir(path):
            die(f"./{m} is not a directory: move it away first")
        if os.path.isdir(path) and os.listdir(path):
            die(f"./{m} is not empty: yfs mounts on an empty directory (move its files away first)")

    common.need_packages()
    rows = common.lab_rows(args.preset)
    labs = common.load_manifest()
    here = common.kit_labs(rows)

    def has_client(lab):
        return lab in labs and common.manifest.program_lab(labs, lab, "yfs_client") is not None

    lab = args.lab
    if lab is None:
        with_client = [name for name in here if has_client(name)]
        if not with_client:
            die("no lab has a yfs_client yet")
        lab = with_client[-1]
    if lab not in here:
        die(f"no lab '{lab}' (labs: {' '.join(here)})")
    if not has_client(lab):
        die(f"{lab} has no yfs_client (the file system begins with lab 2)")
    replicated = labs[lab]["replicated"]
    if args.replicas is not None and not replicated:
        die(f"--replicas: {lab}'s lock service is not replicated (labs.json)")
    row = common.lab_row(rows, lab, chosen)
    common.build(args.preset, [row["target"]], quiet=True)
    directory = row["dir"]
    for program in ("lock_server", "extent_server", "yfs_client"):
        if not os.access(os.path.join(directory, program), os.X_OK):
            die(f"{lab} ({chosen}) has no {program} in {common.shown(directory)}")

    os.makedirs(LOGS, exist_ok=True)
    for m in MOUNTS:
        os.makedirs(os.path.join(HERE, m), exist_ok=True)
    with open(STATE, "w") as f:
        f.write(f"lab\t{lab}\t{chosen}\t{directory}\n")

    def interrupted(signum, frame):
        raise KeyboardInterrupt()

    old_term = signal.signal(signal.SIGTERM, interrupted)
    try:
        started = start_all(args, lab, directory, replicated)
    except KeyboardInterrupt:
        print("dsys yfs start: interrupted", file=sys.stderr)
        stop_recorded()
        return 130
    except StartFailed:
        stop_recorded()
        return 1
    finally:
        signal.signal(signal.SIGTERM, old_term)

    replicas, lock_pid, lock_port, lock_log, extent_pid, extent_port, clients = started
    say(f"yfs: {lab} ({chosen}) is running, from {common.shown(directory)}")
    lossy = f"  (DSYS_RPC_LOSSY={args.lossy})" if args.lossy is not None else ""
    if replicas:
        for i, (pid, port) in enumerate(replicas, 1):
            print(f"  {'lock_server ' + str(i):<14} pid {pid:<7} port {port:<6} log yfs-logs/lock_server{i}.log{lossy}")
        print("  (replicas: kill -9 one, the primary too, and the mounts go on after a pause of a few seconds)")
    else:
        print(f"  {'lock_server':<14} pid {lock_pid:<7} port {lock_port:<6} log {common.shown(lock_log)}{lossy}")
    print(f"  {'extent_server':<14} pid {extent_pid:<7} port {extent_port:<6} log yfs-logs/extent_server.log")
    for i, (m, pid) in enumerate(zip(MOUNTS, clients), 1):
        print(f"  {'yfs_client' + str(i):<14} pid {pid:<7} mounts ./{m:<5} log yfs-logs/yfs_client{i}.log")
    if os.access(os.path.join(directory, "yfs_tester"), os.X_OK):
        # It has the checks of labs 2, 3 and 4 (and runs them all from lab 4 on).
        mode = lab if lab in ("lab2", "lab3") else "lab4"
        print(f"  test it:  {common.shown(directory)}/yfs_tester {mode} ./yfs1 ./yfs2")
    print("  stop it:  ./dsys yfs stop")
    return 0


def start_all(args, lab, directory, replicated):
    lock_env, other_env = dict(os.environ), dict(os.environ)
    if args.lossy is not None:
        lock_env["DSYS_RPC_LOSSY"] = str(args.lossy)
        other_env.pop("DSYS_RPC_LOSSY", None)  # lossy for the lock server alone
    replicas = []
    lock_log = os.path.join(LOGS, "lock_server.log")
    if replicated:
        # The replicated lock service (labs.json: "replicated"): replica 1 is the first node; each
        # other replica joins it, and the next starts once the view has it. Their disks are in
        # yfs-logs/.
        first_port = 0
        for k in range(1, (args.replicas or 3) + 1):
            log = os.path.join(LOGS, f"lock_server{k}.log")
            disk = os.path.join(LOGS, f"replica{k}")
            subprocess.run(["rm", "-rf", disk])
            pid = spawn("lock_server", log, [os.path.join(directory, "lock_server"), str(first_port), "0",
                                             "--dir", disk], lock_env)
            port = await_line(f"lock_server {k}", pid, log, "listening on").rsplit(":", 1)[-1]
            replicas.append((pid, port))
            if k == 1:
                first_port = port
            await_line(f"lock_server {k}", pid, log, f"view {k}:")
        lock_pid, lock_port = replicas[0]
        lock_log = os.path.join(LOGS, "lock_server1.log")
    else:
        lock_pid = spawn("lock_server", lock_log, [os.path.join(directory, "lock_server"), "0"], lock_env)
        lock_port = await_line("lock_server", lock_pid, lock_log, "listening on").rsplit(":", 1)[-1]
    extent_log = os.path.join(LOGS, "extent_server.log")
    extent_pid = spawn("extent_server", extent_log, [os.path.join(directory, "extent_server"), "0"], other_env)
    extent_port = await_line("extent_server", extent_pid, extent_log, "listening on").rsplit(":", 1)[-1]
    record("ports", lock_port, extent_port, "-")

    clients = []
    for i, m in enumerate(MOUNTS, 1):
        path = os.path.join(HERE, m)
        record("mount", path, "-", "-")
        clients.append(spawn(f"yfs_client{i}", os.path.join(LOGS, f"yfs_client{i}.log"),
                             [os.path.join(directory, "yfs_client"), path, extent_port, lock_port], other_env))
    for i, (m, pid) in enumerate(zip(MOUNTS, clients), 1):
        path, log = os.path.join(HERE, m), os.path.join(LOGS, f"yfs_client{i}.log")
        await_line(f"yfs_client{i}", pid, log, "yfs_client: mounted")
        # It says so once the kernel has the mount; the mount answers once it serves requests.
        wait_until(lambda: answers(path), pid, log, f"yfs_client{i} exited while mounting ./{m}",
                   f"./{m} does not answer stat within {LIMIT} s")
    return replicas, lock_pid, lock_port, lock_log, extent_pid, extent_port, clients


def cmd_stop(args):
    if os.path.isfile(STATE):
        return 0 if stop_recorded() else 1
    # Nothing recorded: undo yfs mounts left at ./yfs1, ./yfs2 (of FUSE, whose yfs_client has gone).
    found = False
    for m in MOUNTS:
        path = os.path.join(HERE, m)
        if not mounted(path):
            continue
        found = True
        if not fuse_mounted(path):
            print(f"dsys yfs stop: ./{m} is a mount point, but not of FUSE: left alone", file=sys.stderr)
        elif unmount(path):
            print(f"dsys yfs stop: unmounted ./{m} (no start recorded it)", file=sys.stderr)
        else:
            print(f"dsys yfs stop: ./{m} stays mounted (busy?): try umount -l {m}", file=sys.stderr)
    if not found:
        say("yfs: nothing is running")
    return 0


def cmd_status(args):
    if not os.path.isfile(STATE):
        say("yfs: nothing is running (no yfs-logs/state)")
        for m in MOUNTS:
            if mounted(os.path.join(HERE, m)):
                print(f"  ./{m} is mounted, though (./dsys yfs stop unmounts it)")
        return 1
    status = 0
    state = read_state()
    for name, a, b, c, *_ in state:
        if name == "lab":
            say(f"yfs: {a} ({b}), from {common.shown(c)}")
        elif name.startswith(("lock_server", "yfs_client")) or name == "extent_server":
            if a.isdigit() and alive(int(a), b):
                print(f"  {name:<14} pid {a:<7} running    log {common.shown(c)}")
            else:
                try:
                    with open(c, errors="replace") as f:
                        last = [line for line in f.read().splitlines() if line.strip()][-1:]
                except OSError:
                    last = []
                print(f"  {name:<14} pid {a:<7} exited     log {common.shown(c)}: {''.join(last)}")
                status = 1
    for name, a, b, *_ in state:
        if name == "ports":
            print(f"  lock_server port {a}, extent_server port {b}")
        elif name == "mount":
            if answers(a):
                print(f"  {at(a)}: mounted, answers")
            elif mounted(a):
                print(f"  {at(a)}: mounted, does not answer")
                status = 1
            else:
                print(f"  {at(a)}: not mounted")
                status = 1
    return status


def register(commands):
    p = commands.add_parser(
        "yfs", help="yfs as real processes: start, stop, status",
        description="yfs as real processes in the kit's top directory, as the classic start.sh "
                    "ran it: lock_server, extent_server and two yfs_client mounts of one store, "
                    "./yfs1 and ./yfs2; each program's log is in yfs-logs/.")
    sub = p.add_subparsers(dest="yfs_command", metavar="start|stop|status", required=True)
    s = sub.add_parser(
        "start", help="build a lab and run it in the background",
        description="Build lab N (default: the latest lab with a yfs_client) and run it in the "
                    "background from the kit's top directory: lock_server, extent_server and two "
                    "yfs_client mounts, ./yfs1 and ./yfs2. A replicated lab's lock service (lab 8) is "
                    "--replicas N replicas (default 3; their disks in yfs-logs/).")
    s.add_argument("--lab", type=common.lab_name, metavar="N", help="the lab (e.g. 3, or lab3)")
    s.add_argument("--replicas", type=int, metavar="N", help="replicas of a replicated lock service (1-7)")
    s.add_argument("--lossy", type=int, metavar="N",
                   help="the lock server's network loses or duplicates N %% of messages")
    common.add_flavour(s)
    s.set_defaults(run=cmd_start)
    s = sub.add_parser("stop", help="stop exactly what yfs start started, and undo its mounts")
    s.set_defaults(run=cmd_stop)
    s = sub.add_parser("status", help="what yfs start started: running or exited, mounts answering or not")
    s.set_defaults(run=cmd_status)
