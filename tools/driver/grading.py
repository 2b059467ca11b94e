"""./dsys grade, explore, mutate and test: the labs' tests, graded, explored, judged by mutants."""
import os
import subprocess
import sys

from . import common
from .common import ROOT, die, say

import explore as explore_tool  # noqa: E402  (tools/explore.py)
import grade as grade_tool  # noqa: E402  (tools/grade.py)
import mutate as mutate_tool  # noqa: E402  (tools/mutate.py)


def call(main, argv):
    """A tool's main(argv), in this process: its exit status (a SystemExit's message printed)."""
    try:
        status = main(argv)
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 2
        status = e.code
    return status or 0


def per_lab(path, lab):
    """grade all writes one report per lab: results.json -> results-lab1.json."""
    stem, dot, ext = path.rpartition(".")
    return f"{stem}-{lab}.{ext}" if dot and stem else f"{path}-{lab}"


def cmd_grade(args):
    grade_tool.take_quickfeed_secret()  # before anything is built or run
    chosen, replay = common.flavour(args)
    chosen = chosen or "labs"
    common.need_packages()
    rows = common.lab_rows(args.preset)
    labs = common.kit_labs(rows) if args.lab == "all" else [args.lab]
    targets = []
    for lab in labs:
        row = common.lab_row(rows, lab, chosen)
        targets.append(row["target"])
        if args.hidden:
            if row["hidden_target"]:
                targets.append(row["hidden_target"])
            else:
                print(f"dsys: {lab} has no hidden tests here (solutions/<lab dir>/hidden/): its own tests only",
                      file=sys.stderr)
    common.build(args.preset, targets, quiet=True)
    status = 0
    for lab in labs:
        row = rows[(lab, chosen)]
        argv = ["--lab", lab, "--tests", row["program"], "--replay-args", " ".join(replay)]
        for option in ("json", "junit"):
            value = getattr(args, option)
            if value:
                argv += [f"--{option}", per_lab(value, lab) if args.lab == "all" else value]
        argv += ["--format", args.format]
        if args.only:
            argv += ["--only", args.only]
        if args.jobs:
            argv += ["--jobs", str(args.jobs)]
        argv += (["--expect-fail"] if args.expect_fail else []) + (["--verbose"] if args.verbose else [])
        if args.hidden and row["hidden_program"]:
            argv += ["--hidden-tests", row["hidden_program"]]
        if call(grade_tool.main, argv) != 0:
            status = 1
    return status


def cmd_explore(args):
    chosen, _ = common.flavour(args)
    chosen = chosen or "labs"
    labs = common.load_manifest()
    if args.lab not in labs:
        die(f"no lab '{args.lab}' (labs: {' '.join(labs)})")
    options = []
    for name in ("test", "strategy", "runs", "depth", "seed", "jobs", "out", "shrink_runs"):
        value = getattr(args, name)
        if value is not None:
            options += [f"--{name.replace('_', '-')}", str(value)]
    if args.no_shrink:
        options.append("--no-shrink")
    # A lab with a randomized scenario test ("scenario": true in labs.json) is explored by running
    # that scenario for many seeds, on the release build (without sanitizers: thousands of runs).
    preset = "dev"
    if labs[args.lab]["scenario"] and not (args.strategy or args.test or args.depth):
        options += ["--strategy", "scenario"] + ([] if args.runs else ["--runs", "10000"])
        preset = "release"
    common.need_packages()
    rows = common.lab_rows(preset)
    row = common.lab_row(rows, args.lab, chosen)
    common.build(preset, [row["target"]], quiet=True)
    if args.out is None:
        options += ["--out", os.path.join("explore", args.lab)]
    return call(explore_tool.main, ["--tests", row["program"]] + options)


def cmd_mutate(args):
    if not common.has_solutions():
        die("./dsys mutate grades mutants of the reference code: it needs solutions/ (the instructor's tree)")
    common.need_packages()
    common.configure("dev")
    argv = [args.lab, "--build", os.path.join(ROOT, "build", "dev"), "--jobs", str(common.jobs())]
    for name in ("mutant", "seeds", "explore", "json", "catalogue"):
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{name}", str(value)]
    if args.ci:
        argv.append("--ci")
    return call(mutate_tool.main, argv)


def cmd_test(args):
    common.setup()
    common.build(args.preset)
    tree = os.path.join(ROOT, "build", args.preset)
    # One job more than CPUs: many tests mostly wait (real processes, bounded deadlines).
    ctest = ["ctest", "--test-dir", tree, "--output-on-failure", "-j", str(common.jobs() + 1), "--timeout", "300"]
    if common.has_solutions():
        # And one more in this tree, whose cluster tests (tests/cluster/: a few minutes, one at a
        # time) mostly wait on timeouts and real links.
        ctest[ctest.index("-j") + 1] = str(common.jobs() + 2)
        # The library's tests and the integrity checks (CTest label "integrity", cmake/labs.cmake):
        # labs/ is generated, the manifest holds, the C++ is formatted; each lab passes in full on
        # solutions/, for every seed of the sweep and slowed; its stubs fail every graded test (also
        # on the reference base); the CI subset of mutants lose points.
        say(f"test: the library's tests and the integrity checks ({args.preset})")
        return subprocess.run(ctest + ["-L", "^(lib|integrity)$"], cwd=ROOT).returncode
    say(f"test: the library's tests ({args.preset})")
    status = subprocess.run(ctest + ["-L", "^lib$"], cwd=ROOT).returncode
    say("test: your labs")
    args.lab, args.impl, args.base, args.hidden, args.expect_fail = "all", None, None, False, False
    args.json = args.junit = args.only = args.jobs = None
    args.format = "table"
    args.verbose = False
    return cmd_grade(args) or status


def register(commands):
    p = commands.add_parser(
        "grade", help="run a lab's graded tests, each in its own process, and print the points",
        description="Run a lab's graded tests, each in its own process, and print the points. A "
                    "failed test shows its first failed assertion, its replay line, its trace and "
                    "its log (its whole output); a passing one, the figures it printed (RPC counts, "
                    "ratios). Each run that failed somewhere keeps its traces and logs in "
                    "traces/LAB/START-TIME/ (a run that passed in full keeps none); the last 5 "
                    "runs' are kept.")
    p.add_argument("lab", metavar="LAB|all", type=lambda t: t if t == "all" else common.lab_name(t))
    common.add_flavour(p)
    p.add_argument("--only", metavar="TESTS",
                   help="tests by number in the table (3, 2-5, 1,4), by name, or by the start of their names")
    p.add_argument("--verbose", action="store_true", help="also show the whole output of each failed test")
    p.add_argument("--hidden", action="store_true",
                   help="(instructors) also the hidden tests of solutions/<lab dir>/hidden/")
    p.add_argument("--json", metavar="FILE", help="write Gradescope results here (all: one per lab)")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML here (all: one per lab)")
    p.add_argument("--format", choices=("table", "quickfeed"), default="table",
                   help="quickfeed: after the table, a QuickFeed score line (JSON) per test, with the "
                        "session secret of QUICKFEED_SESSION_SECRET (docs/labs.md)")
    p.add_argument("--jobs", type=int, help="tests run at once (default: one per CPU)")
    p.add_argument("--expect-fail", action="store_true", help="(integrity) every graded test must fail")
    p.set_defaults(run=cmd_grade)

    p = commands.add_parser(
        "explore", help="run a lab's simulated graded tests under many schedules",
        description="Run LAB's simulated graded tests under many schedules (seeds, PCT, or every "
                    "choice up to depth D); a failing one is shrunk and saved in explore/LAB/ with "
                    "its diagram and a replay line (tools/explore.py). A lab with a scenario test "
                    "(\"scenario\": true in labs.json: labs 7 to 10) runs it for --runs seeds "
                    "(10000) on the release build (its own build: minutes, the first time) and "
                    "prints each failing seed's replay line.")
    p.add_argument("lab", metavar="LAB", type=common.lab_name)
    common.add_flavour(p, preset=False)
    p.add_argument("--test", metavar="NAME", help="only this test")
    p.add_argument("--strategy", choices=("random", "pct", "exhaustive", "scenario"))
    p.add_argument("--runs", type=int, metavar="N")
    p.add_argument("--depth", type=int, metavar="D")
    p.add_argument("--seed", type=int, metavar="S")
    p.add_argument("--jobs", type=int, metavar="J")
    p.add_argument("--out", metavar="DIR", help="where failing schedules go (default explore/LAB)")
    p.add_argument("--shrink-runs", type=int, metavar="N")
    p.add_argument("--no-shrink", action="store_true")
    p.set_defaults(run=cmd_explore)

    p = commands.add_parser(
        "mutate", help="(instructors) grade the plausible student bugs of solutions/<lab dir>/mutants/",
        description="Grade the plausible student bugs of solutions/<lab dir>/mutants/ on seeds 1-N "
                    "(default 20), each built beside the reference (only the files it changes "
                    "compile): prints the kill matrix (mutant x test) and writes it as JSON "
                    "(build/dev/mutate/); exits 1 if a mutant survives a seed.")
    p.add_argument("lab", metavar="LAB|all", type=lambda t: t if t == "all" else common.lab_name(t))
    p.add_argument("--mutant", metavar="NAME", help="only this mutant")
    p.add_argument("--seeds", type=int, metavar="N", help="seeds 1..N (default 20; 2 with --ci)")
    p.add_argument("--explore", type=int, metavar="RUNS", help="also explore RUNS runs of each mutant")
    p.add_argument("--ci", action="store_true", help="each lab's CI subset (labs.json), what ./dsys test runs")
    p.add_argument("--json", metavar="FILE", help="write the kill matrix here")
    p.add_argument("--catalogue", metavar="DIR", help="the mutants of LAB from this folder")
    p.set_defaults(run=cmd_mutate)

    p = commands.add_parser(
        "test", help="setup, build and run every test (what CI runs)",
        description="Setup, build and run every test (what CI runs). With solutions/ present, also "
                    "the integrity checks (CTest label 'integrity'): the stubs are generated, solutions "
                    "pass, stubs fail (on the student's base and, for labs that build on others, on "
                    "the reference base), the CI subset of mutants lose points. In a student's copy: "
                    "the library's tests, then ./dsys grade all.")
    common.add_preset(p)
    p.set_defaults(run=cmd_test)
