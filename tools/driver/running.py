"""./dsys bench, demo and fuzz: programs of the kit, run for the user to watch."""
import argparse
import os
import re
import shutil
import subprocess
import sys

from . import common
from .common import ROOT, die, say

BENCHMARKS = ("rpc", "sim", "fs", "locks", "rsm", "multipaxos", "diagram", "linearizability")


def declaring_lab(program):
    """The lab of labs.json that names `program` among its own, or None."""
    labs = common.load_manifest()
    return next((lab for lab in reversed(list(labs)) if program in labs[lab]["programs"]), None)


def program_target(row, program):
    """The target of a lab's `program` in the flavour of `row` (lab5_solutions_bench_locks)."""
    return row["target"][: -len("tests")] + program


def fs_labs(rows, labs, tree):
    """[(lab, flavour)] of ./dsys bench fs: every lab that has a yfs_client of its own (labs.json:
    not one of a lab it builds on), side by side, the reference code's where solutions/ is, else
    the student's. A replicated lab's lock service runs as one replica (--replicated)."""
    chosen = "solutions" if os.path.isdir(os.path.join(tree, "solutions")) else "labs"
    return [(lab, chosen) for lab in common.kit_labs(rows)
            if (lab, chosen) in rows and common.manifest.program_lab(labs, lab, "yfs_client") == lab]


def reference_or_student(rows, lab, program):
    """The directory of `lab`'s `program` in the build: the reference's where it is, else the
    student's; and which it is."""
    for chosen in ("solutions", "labs"):
        row = rows.get((lab, chosen))
        if row and os.access(os.path.join(row["dir"], program), os.X_OK):
            return row["dir"], chosen
    die(f"{lab} has no {program} in {common.shown(rows[(lab, 'labs')]['dir'])} (is {lab} released here?)")


def cmd_bench(args):
    # --preset may come after the name too (./dsys bench fs --preset dev): it is ours, not the
    # benchmark's.
    options = []
    while args.options:
        word = args.options.pop(0)
        if word == "--preset" and args.options:
            args.preset = args.options.pop(0)
        elif word.startswith("--preset="):
            args.preset = word.split("=", 1)[1]
        else:
            options.append(word)
    args.options = options
    if args.preset not in common.PRESETS:
        die(f"unknown preset '{args.preset}' ({', '.join(common.PRESETS)})")
    common.need_packages()
    tree = os.path.join(ROOT, "build", args.preset)
    rows = common.lab_rows(args.preset)
    labs = common.load_manifest()
    program = f"bench_{args.name}"
    owner = declaring_lab(program)
    # Build only what this benchmark runs.
    if owner:  # a lab's program: the reference's where solutions/ is, else the student's
        chosen = "solutions" if (owner, "solutions") in rows else "labs"
        targets = [program_target(common.lab_row(rows, owner, chosen), program)]
    elif args.name == "fs":
        targets = ["bench_fs", "bench_memfs"]
        for lab, chosen in fs_labs(rows, labs, tree):
            target = program_target(rows[(lab, chosen)], "")[:-1]
            targets.append(f"{target}_yfs_client")
            for needed in ("extent_server", "lock_server"):
                if common.manifest.program_lab(labs, lab, needed) == lab:
                    targets.append(f"{target}_{needed}")
                elif common.manifest.program_lab(labs, lab, needed):
                    targets.append(f"{target}_programs")  # the links to those of the labs it builds on
    else:
        targets = [program]
    common.build(args.preset, sorted(set(targets)), quiet=True)
    say(f"bench {args.name} ({args.preset} build)")
    if owner:  # a lab's benchmark (labs.json: lab 5's bench_locks, lab 8's bench_rsm, lab 10's ...)
        lab = owner
        directory, chosen = reference_or_student(rows, lab, program)
        print(f"({lab}'s code from build/{args.preset}/{chosen})", flush=True)
        status = subprocess.run([os.path.join(directory, program), *args.options]).returncode
        if status == 0 and args.name == "rsm":  # the link cut beside the SIGKILL, in the cluster
            sys.path.insert(0, os.path.join(ROOT, "tools"))
            import failover
            return failover.main([directory, *args.options])
        return status
    if args.name == "diagram":  # in headless Chromium
        return subprocess.run([sys.executable, os.path.join(ROOT, "bench", "diagram_bench.py"),
                               os.path.join(tree, "bench", "bench_diagram"), *args.options]).returncode
    if args.name != "fs":
        return subprocess.run([os.path.join(tree, "bench", f"bench_{args.name}"), *args.options]).returncode
    command = [os.path.join(tree, "bench", "bench_fs"), "--memfs", os.path.join(tree, "bench", "bench_memfs")]
    found = fs_labs(rows, labs, tree)
    for lab, chosen in found:
        command += ["--replicated" if labs[lab]["replicated"] else "--programs", rows[(lab, chosen)]["dir"]]
    chosen = found[0][1] if found else "labs"
    if found:
        print(f"(yfs of each lab from build/{args.preset}/{chosen})", flush=True)
    else:
        print(f"dsys bench fs: no lab in build/{args.preset} has a yfs_client yet: memfs and tmpfs only",
              file=sys.stderr)
    return subprocess.run(command + args.options).returncode


def cmd_demo(args):
    if args.sim and args.real:
        die("--sim and --real: choose one (or neither, for both halves)")
    options = (["--sim"] if args.sim else []) + (["--real"] if args.real else [])
    if args.seed is not None:
        if args.seed < 0:
            die("--seed takes a whole number")
        options += ["--seed", str(args.seed)]
    if args.shiviz is not None:
        if not args.shiviz:
            die("--shiviz needs a file name")
        options += ["--shiviz", os.path.abspath(args.shiviz)]
    chosen, whose = ("solutions", "the reference code in solutions/") if common.has_solutions() \
        else ("labs", "your code in labs/")
    # As ./dsys test does: a fresh machine gets its packages first (as root; else setup says how).
    common.need_packages(install=True)
    rows = common.lab_rows("dev")
    lab = declaring_lab("yfs_demo")  # lab 4's (labs.json)
    if not lab or (lab, chosen) not in rows:
        die(f"there is no lab with the yfs demo ({chosen}) in this tree")
    row = rows[(lab, chosen)]
    target = row["target"][: -len("_tests")]
    say(f"demo: yfs of labs 1-4 (lock server, extent server, yfs client), from {whose}")
    common.build("dev", [f"{target}_yfs_demo", f"{target}_yfs_client", f"{target}_programs"], quiet=True)
    program = os.path.join(row["dir"], "yfs_demo")
    os.execv(program, [program, *options])


def cmd_fuzz(args):
    targets = args.targets or ["frame", "message"]
    for t in targets:
        if t not in ("frame", "message"):
            die(f"unknown fuzz target '{t}' (targets: frame, message; --seconds N)")
    if args.seconds < 1:
        die("--seconds needs a positive whole number")
    if not shutil.which("clang++"):
        die("./dsys fuzz needs clang++ (apt-get install clang)")
    common.build("fuzz", [f"fuzz_{t}" for t in targets], quiet=True)
    status, summary = 0, []
    for t in targets:
        work = os.path.join("build", "fuzz", "corpus", t)  # what the fuzzer learns; seeds stay in fuzz/corpus/
        artifacts = os.path.join("build", "fuzz", "artifacts", t)
        log = os.path.join("build", "fuzz", f"{t}.log")
        os.makedirs(work, exist_ok=True)
        os.makedirs(artifacts, exist_ok=True)
        say(f"fuzz {t}: {args.seconds}s (log: {log})")
        with open(log, "w") as out:
            done = subprocess.run([os.path.join("build", "fuzz", "fuzz", f"fuzz_{t}"),
                                   f"-max_total_time={args.seconds}", "-timeout=10", "-max_len=16384",
                                   "-malloc_limit_mb=128", "-rss_limit_mb=2048", "-print_final_stats=1",
                                   f"-artifact_prefix={artifacts}/", work, os.path.join("fuzz", "corpus", t)],
                                  stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        with open(os.path.join(ROOT, log), errors="replace") as f:
            text = f.read()
        result = "ok" if done.returncode == 0 else "FAILED"
        if done.returncode != 0:
            status = 1
            bad = [line for line in text.splitlines()
                   if re.search(r"ERROR|runtime error|fuzz check failed|Test unit written", line)]
            print("\n".join(bad[:5]), file=sys.stderr)

        def last(pattern):
            found = re.findall(pattern, text, re.M)
            return found[-1] if found else "?"

        runs = last(r"^stat::number_of_executed_units: *(\d+)")
        edges, corpus = last(r"cov: (\d+)"), last(r"corp: (\d+)")
        summary.append(f"{t:<8} {result:<7} {runs:>10} runs  {edges:>6} edges  {corpus:>5} inputs in corpus")
        if result == "FAILED":
            summary.append(f"         the input that failed is under {artifacts}/ "
                           f"(replay: build/fuzz/fuzz/fuzz_{t} FILE)")
    say(f"fuzz: summary ({args.seconds}s per target)")
    print("\n".join(summary))
    return status


def register(commands):
    p = commands.add_parser(
        "bench", help="run a benchmark on the release build",
        description="Run a benchmark on the release build (--preset: another). fs: yfs of each "
                    "lab beside an in-memory FUSE file system and tmpfs; locks: lab 4's and lab 5's lock RPCs for lab 4's "
                    "workloads; rsm: lock+unlock pairs/s through lab 8's replicas, a lock's hand-off "
                    "beside lab 5's server, and the fail-over; multipaxos: commands/s through lab 10's "
                    "3 nodes (alpha, batching, fsync) beside 3 etcd members, and the fail-over; "
                    "diagram: a 100,000-event run's diagram "
                    "in headless Chromium; linearizability: the checker on 1,000 and 10,000 "
                    "operations; rpc, sim: the library's RPCs over TCP and the simulated world. "
                    "Options after the name go to the benchmark (fs: --all-cpus, --samples N; rsm: "
                    "--clients N, --seconds S; multipaxos: --clients N,N, --seconds S, --etcd PATH|none; "
                    "diagram: --events N).")
    p.add_argument("--preset", choices=common.PRESETS, default="release",
                   help="the build (default release; CI runs each briefly on dev, DSYS_BENCH_BRIEF=1)")
    p.add_argument("name", choices=BENCHMARKS)
    p.add_argument("options", nargs=argparse.REMAINDER, metavar="OPTION", help="the benchmark's own options")
    p.set_defaults(run=cmd_bench)

    p = commands.add_parser(
        "demo", help="yfs (labs 1-4) in the simulated world, then as real processes and FUSE mounts",
        description="yfs as lab 4 builds it, first in the simulated world, then as real processes "
                    "and FUSE mounts: the reference code where solutions/ is, else yours (which "
                    "needs labs 1-4 done). Installs the packages first if they are missing.")
    p.add_argument("--sim", action="store_true", help="only the simulated half")
    p.add_argument("--real", action="store_true", help="only the real half")
    p.add_argument("--seed", type=int, metavar="N", help="the simulated run's seed")
    p.add_argument("--shiviz", metavar="FILE", help="also write the simulated run as a ShiViz log")
    p.set_defaults(run=cmd_demo)

    p = commands.add_parser(
        "fuzz", help="build the fuzz preset (clang, libFuzzer) and fuzz each target",
        description="Build the fuzz preset (clang, libFuzzer, ASan, UBSan) and fuzz each target "
                    "(default: both) for N seconds each, from fuzz/corpus/<target>; prints a "
                    "summary, exits 0 when nothing failed.")
    p.add_argument("targets", nargs="*", metavar="frame|message")
    p.add_argument("--seconds", type=int, default=60, metavar="N", help="per target (default 60)")
    p.set_defaults(run=cmd_fuzz)
