#!/usr/bin/env python3
"""./dsys mutate: a lab's graded tests, judged by the student bugs they catch.

    tools/mutate.py LAB|all [--mutant NAME] [--seeds N] [--explore RUNS] [--ci] [--json FILE]
                    [--build DIR] [--jobs J] [--catalogue FOLDER]

A mutant is a plausible student bug, kept beside the reference as a patch of the lab's .cpp files,
solutions/<lab dir>/mutants/NAME.patch, which starts with what it is:

    what: the server waits with `if`, not `while`: a woken waiter takes the lock without looking
    breaks: the handout's rule it breaks (where the handout states it)
    --- a/lock_server.cpp
    +++ b/lock_server.cpp
    @@ ...                   a unified diff, paths relative to solutions/<lab dir>

Each mutant is applied to a copy of the reference (never to solutions/ or labs/), and the .cpp
files it changes are written into the build tree, DIR/mutants/LAB/NAME/, where cmake/labs.cmake
makes its test program of them and of the solutions flavour's objects: only they compile. It is
then graded on the seed sweep's seeds (DSYS_SEED=1..N, 20 by default), by the lab's simulated
graded tests (its real-process tests would start the reference's programs: they are not run):
  - seed 1, every test: the points each takes away (the kill matrix);
  - seeds 2..N, the tests that failed on seed 1 first, then the others, until one fails.
A mutant survives a seed when it loses no points on it. With --explore RUNS, ./dsys explore also
runs RUNS runs of the mutant's tests (seeds from 100001; a lab with a scenario test: that test's
seeds, as ./dsys explore picks; else random schedules), and can find what grading missed.

--ci: the lab's CI subset only (its "checks": {"ci_mutants": [...]} in labs.json), seeds 1..N (2 by default), each seed's tests tried from
the shortest time limit up until one fails: what ./dsys test runs. A lab whose checks give
"ci_explore": RUNS also has each of those mutants explored RUNS runs (as --explore), and explore
must find it: the test that shows ./dsys explore finds a catalogued bug.

It prints the kill matrix (mutant x test: X lost the test's points on seed 1, a number is the
first later seed it failed, . passed every seed it ran), writes it as JSON (DIR/mutate/LAB.json,
or FILE with --json; `all` writes one file with every lab), names the mutants only one seed kills
and the tests that catch no mutant on their own, and exits 1 when a mutant survived a seed, 2 on
bad arguments, a patch that no longer applies, or a mutant that does not build.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import grade  # how tests are listed and named to Catch2
import submissions  # the labs (labs.json)

KIT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = re.compile(r"^(what|breaks):\s*(.*?)\s*$")
NAME = re.compile(r"^[a-z0-9_]+$")
EXPLORE_SEED = 100001


def die(message):
    print(f"mutate: {message}", file=sys.stderr)
    sys.exit(2)


# ---- the catalogue ---------------------------------------------------------------------------

def read_mutant(path):
    """{name, path, what, breaks, patch} of one NAME.patch; dies on a malformed one."""
    name = os.path.basename(path)[: -len(".patch")]
    if not NAME.match(name):
        die(f"{path}: a mutant's name is lower case letters, digits and _")
    fields, body = {}, []
    with open(path) as f:
        lines = f.read().splitlines(True)
    for i, line in enumerate(lines):
        if line.startswith(("--- ", "diff ")):
            body = lines[i:]
            break
        m = HEADER.match(line)
        if m:
            fields[m.group(1)] = m.group(2)
        elif line.strip():
            die(f"{path}: line {i + 1} is neither 'what:', 'breaks:' nor the diff")
    for key in ("what", "breaks"):
        if not fields.get(key):
            die(f"{path}: it says no '{key}:' (what the bug is, and the handout rule it breaks)")
    if not body:
        die(f"{path}: holds no diff")
    return {"name": name, "path": path, "what": fields["what"], "breaks": fields["breaks"],
            "patch": "".join(body)}


def catalogue(lab_dir, folder=None):
    folder = folder or os.path.join(KIT, "solutions", lab_dir, "mutants")
    if not os.path.isdir(folder):
        return []
    return [read_mutant(os.path.join(folder, n)) for n in sorted(os.listdir(folder)) if n.endswith(".patch")]


def copy_reference(source, scratch):
    """Copies the files of the reference directory `source` into `scratch`: {name: bytes}."""
    originals = {}
    for name in os.listdir(source):
        full = os.path.join(source, name)
        if os.path.isfile(full):
            shutil.copy(full, scratch)
            with open(full, "rb") as f:
                originals[name] = f.read()
    return originals


def apply_mutant(mutant, scratch, check=False):
    """git apply of the mutant's diff in `scratch` (with check: only whether it applies)."""
    return subprocess.run(["git", "apply", *(["--check"] if check else []), "--whitespace=nowarn", "-"],
                          input=mutant["patch"], text=True, cwd=scratch, capture_output=True)


def stale_mutants(source, folder):
    """The mutants of the catalogue `folder` that no longer apply to the reference in `source`:
    [(mutant, git's reason)]."""
    stale = []
    with tempfile.TemporaryDirectory(prefix="dsys-mutants-") as scratch:
        copy_reference(source, scratch)
        for mutant in catalogue(None, folder):
            done = apply_mutant(mutant, scratch, check=True)
            if done.returncode != 0:
                stale.append((mutant, done.stderr.strip()))
    return stale


def mutated_files(lab_dir, mutant):
    """{file name: text} of the lab's .cpp files the mutant changes, applied to a scratch copy."""
    with tempfile.TemporaryDirectory(prefix="dsys-mutant-") as scratch:
        originals = copy_reference(os.path.join(KIT, "solutions", lab_dir), scratch)
        done = apply_mutant(mutant, scratch)
        if done.returncode != 0:
            die(f"{shown(mutant['path'])} no longer applies to solutions/{lab_dir} (refresh it):\n"
                f"{done.stderr.strip()}")
        changed = {}
        for name in sorted(os.listdir(scratch)):
            with open(os.path.join(scratch, name), "rb") as f:
                data = f.read()
            if originals.get(name) != data:
                if not name.endswith(".cpp") or name not in originals:
                    die(f"{shown(mutant['path'])} changes {name}: a mutant changes the lab's .cpp "
                        "files only (a header would need every file that includes it rebuilt)")
                changed[name] = data.decode()
    if not changed:
        die(f"{shown(mutant['path'])} changes nothing")
    return changed


def shown(path):
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def write_if_changed(path, text):
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return
    with open(path, "w") as f:
        f.write(text)


def place(build, lab, lab_dir, mutants):
    """Writes each mutant's changed files into build/mutants/LAB/NAME/ (only when they differ, so
    that an unchanged mutant is not rebuilt)."""
    for m in mutants:
        folder = os.path.join(build, "mutants", lab, m["name"])
        os.makedirs(folder, exist_ok=True)
        files = mutated_files(lab_dir, m)
        for name in os.listdir(folder):
            if name.endswith(".cpp") and name not in files:
                os.remove(os.path.join(folder, name))
        for name, text in files.items():
            write_if_changed(os.path.join(folder, name), text)
        m["files"] = sorted(files)
        m["program"] = os.path.join(folder, f"{lab}_tests")
        m["target"] = f"{lab}_mutant_{m['name']}_tests"


def build_all(build, targets, jobs):
    """Configures the tree again (it finds the mutants' folders) and builds `targets`."""
    done = subprocess.run(["cmake", build], capture_output=True, text=True)
    if done.returncode != 0:
        die(f"cmake {build} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    command = ["cmake", "--build", build, "-j", str(jobs)]
    for t in targets:
        command += ["--target", t]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        errors = [l for l in (done.stdout + done.stderr).splitlines() if "error" in l]
        die("a mutant does not build:\n" + "\n".join(errors[:20] or (done.stdout + done.stderr).splitlines()[-30:]))


# ---- grading ---------------------------------------------------------------------------------

def run_test(program, test, seed, trace_dir):
    env = dict(os.environ, DSYS_SEED=str(seed), DSYS_TRACE_DIR=trace_dir)
    env.pop("DSYS_SLOW_REPLIES", None)
    start = time.monotonic()
    try:
        done = subprocess.run([program, grade.catch_spec(test["name"])], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env, timeout=test["timeout"])
        passed = done.returncode == 0
    except subprocess.TimeoutExpired:
        passed = False
    return passed, time.monotonic() - start


def judge(mutant, tests, seeds, quick, trace_dir, pool):
    """Grades one mutant; fills mutant["result"]."""
    start = time.monotonic()
    runs = {t["number"]: {} for t in tests}  # test -> {seed: passed}
    seconds = {t["number"]: 0.0 for t in tests}  # test -> time spent running it
    by_limit = sorted(tests, key=lambda t: (t["timeout"], t["number"]))

    def first_kill(seed, order):
        for t in order:
            passed, took = run_test(mutant["program"], t, seed, trace_dir)
            runs[t["number"]][seed] = passed
            seconds[t["number"]] += took
            if not passed:
                return t["number"]
        return None

    later = seeds
    if not quick:
        # Seed 1, every test: the row of the kill matrix.
        futures = {pool.submit(run_test, mutant["program"], t, seeds[0], trace_dir): t for t in tests}
        for future, t in futures.items():
            runs[t["number"]][seeds[0]], took = future.result()
            seconds[t["number"]] += took
        later = seeds[1:]
        killers = [t for t in tests if not runs[t["number"]][seeds[0]]]
        order = sorted(killers, key=lambda t: (t["timeout"], t["number"])) + \
            [t for t in by_limit if t not in killers]
    else:
        order = by_limit
    for future in [pool.submit(first_kill, seed, order) for seed in later]:
        future.result()
    killed = sorted({s for r in runs.values() for s, passed in r.items() if not passed})
    per_test = {}
    for t in tests:
        failed = sorted(s for s, passed in runs[t["number"]].items() if not passed)
        per_test[t["number"]] = {
            "seeds_run": sorted(runs[t["number"]]),
            "failed_seeds": failed,
            "first_failed_seed": failed[0] if failed else None,
            "points_lost_seed_1": t["points"] if runs[t["number"]].get(seeds[0]) is False else 0,
            "seconds": round(seconds[t["number"]], 2),
        }
    mutant["result"] = {
        "killed_seeds": killed,
        "survived_seeds": [s for s in seeds if s not in killed],
        "points_lost_seed_1": sum(v["points_lost_seed_1"] for v in per_test.values()),
        "tests": per_test,
        "seconds": round(time.monotonic() - start, 1),
    }


def explore(mutant, lab, runs, jobs, out, scenario):
    """./dsys explore on the mutant's program, as ./dsys explore picks its strategy (a lab with a
    scenario test: that test's seeds; else random schedules of every test): what it found."""
    command = [sys.executable, os.path.join(KIT, "tools", "explore.py"), "--tests", mutant["program"],
               "--runs", str(runs), "--seed", str(EXPLORE_SEED), "--jobs", str(jobs),
               "--out", os.path.join(out, lab, mutant["name"]), "--no-shrink"]
    if scenario:
        command += ["--strategy", "scenario"]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, errors="replace")
    lines = (done.stdout + done.stderr).strip().splitlines()
    summary = [l for l in lines if l.startswith("explore: ") and " violation" in l]
    failed = [l.split("FAILED: ", 1)[1] for l in lines if l.startswith("FAILED: ")]
    mutant["explore"] = {"runs": runs, "found": done.returncode == 1, "exit": done.returncode,
                         "summary": (summary or lines or [""])[-1], "failed": failed,
                         "seconds": round(time.monotonic() - start, 1)}


# ---- the report ------------------------------------------------------------------------------

def cell(test_result, first_seed):
    if test_result["points_lost_seed_1"]:
        return "X"
    if test_result["first_failed_seed"] is not None:
        return str(test_result["first_failed_seed"])
    return "." if test_result["seeds_run"] else " "


def report(lab, tests, skipped, mutants, seeds):
    numbers = [t["number"] for t in tests]
    width = max([len(m["name"]) for m in mutants] + [6])
    print(f"\nmutate {lab}: {len(mutants)} mutants, seeds {seeds[0]}-{seeds[-1]}, "
          f"{len(tests)} simulated graded tests"
          + (f" (tests {', '.join(str(t['number']) for t in skipped)} start real processes: not run)" if skipped else ""))
    print("  X: lost the test's points on seed 1; N: first failed on seed N; .: passed every seed it ran")
    print(f"  {'mutant':<{width}}  " + " ".join(f"{n:>2}" for n in numbers) + "   killed  lost  time")
    for m in mutants:
        r = m["result"]
        row = " ".join(f"{cell(r['tests'][n], seeds[0]):>2}" for n in numbers)
        print(f"  {m['name']:<{width}}  {row}   {len(r['killed_seeds']):>3}/{len(seeds):<3} "
              f"{r['points_lost_seed_1']:>4}  {r['seconds']:>5.0f} s")
        if "explore" in m:
            e = m["explore"]
            print(f"  {'':<{width}}  explore, {e['runs']} runs: {e['summary']}")
    survivors = [m for m in mutants if m["result"]["survived_seeds"]]
    for m in survivors:
        print(f"  SURVIVES {m['name']} on seeds {', '.join(map(str, m['result']['survived_seeds']))} "
              f"({m['what']})")
    lonely = [m for m in mutants if len(m["result"]["killed_seeds"]) == 1]
    if lonely and len(seeds) > 1:
        print("  only one seed kills: " + ", ".join(f"{m['name']} (seed {m['result']['killed_seeds'][0]})" for m in lonely))
    # A test catches a mutant on its own when it is the only one that failed for it on seed 1.
    full = [m for m in mutants if all(seeds[0] in m["result"]["tests"][n]["seeds_run"] for n in numbers)]
    if full:
        alone = set()
        for m in full:
            failing = [n for n in numbers if m["result"]["tests"][n]["points_lost_seed_1"]]
            if len(failing) == 1:
                alone.add(failing[0])
        nothing = [n for n in numbers if all(not m["result"]["tests"][n]["failed_seeds"] for m in mutants)]
        print("  tests that catch no mutant: " + (", ".join(map(str, nothing)) or "none"))
        print("  tests that catch no mutant on their own (on seed 1): "
              + (", ".join(str(n) for n in numbers if n not in alone) or "none"))
    return survivors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lab", help="a lab (lab1) or all")
    parser.add_argument("--mutant", help="only this mutant (its NAME)")
    parser.add_argument("--seeds", type=int, help="seeds 1..N (default 20; 2 with --ci)")
    parser.add_argument("--explore", type=int, metavar="RUNS", help="also explore RUNS runs of each mutant")
    parser.add_argument("--ci", action="store_true", help="each lab's CI subset (labs.json), tried quickly")
    parser.add_argument("--json", help="write the kill matrix here")
    parser.add_argument("--build", default=os.path.join(KIT, "build", "dev"), help="the build tree")
    parser.add_argument("--catalogue", help="the mutants of LAB from this folder, not solutions/<lab dir>/mutants")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    seeds = list(range(1, (args.seeds or (2 if args.ci else 20)) + 1))
    if len(seeds) < 1 or len(seeds) > 10000:
        parser.error("--seeds must be from 1 to 10000")
    if args.explore is not None and args.explore < 1:
        parser.error("--explore wants a number of runs of at least 1")
    if args.catalogue and args.lab == "all":
        parser.error("--catalogue holds the mutants of one lab: name it")
    if args.catalogue and not os.path.isdir(args.catalogue):
        die(f"--catalogue {args.catalogue}: no such folder")
    if not os.path.isfile(os.path.join(args.build, "CMakeCache.txt")):
        die(f"{args.build} is not a configured build tree (./dsys build configures build/dev)")
    table = submissions.lab_table()
    if args.lab == "all":
        labs = list(table)
    elif args.lab in table:
        labs = [args.lab]
    else:
        die(f"no lab '{args.lab}' (labs: {' '.join(table)}, or all)")

    chosen = {}
    for lab in labs:
        mutants = catalogue(table[lab]["dir"], args.catalogue)
        if args.mutant:
            mutants = [m for m in mutants if m["name"] == args.mutant]
        if args.ci:
            subset = table[lab]["checks"]["ci_mutants"]
            missing = set(subset) - {m["name"] for m in mutants}
            if missing and not args.catalogue:
                die(f"labs.json: {lab}'s ci_mutants names {', '.join(sorted(missing))}, not in its catalogue")
            mutants = [m for m in mutants if m["name"] in subset]
        if mutants:
            chosen[lab] = mutants
    if not chosen:
        die(f"no mutant {args.mutant or ''} in {args.lab}'s catalogue (solutions/<lab dir>/mutants/)"
            if args.mutant else f"{args.lab} has no mutants{' in its CI subset (labs.json)' if args.ci else ''}")

    start = time.monotonic()
    for lab, mutants in chosen.items():
        place(args.build, lab, table[lab]["dir"], mutants)
    targets = [m["target"] for ms in chosen.values() for m in ms]
    print(f"mutate: building {len(targets)} mutants of {', '.join(chosen)} "
          f"(only the files each changes compile)", flush=True)
    build_all(args.build, targets, args.jobs)

    results, survivors, unexplored = {}, [], []
    trace_dir = os.path.join(args.build, "mutate", "traces")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for lab, mutants in chosen.items():
            every = grade.list_tests(mutants[0]["program"])
            tests = [t for t in every if "[processes]" not in t["tags"]]
            skipped = [t for t in every if "[processes]" in t["tags"]]
            for m in mutants:
                print(f"mutate: {lab} {m['name']}: {m['what']}", flush=True)
                judge(m, tests, seeds, args.ci, trace_dir, pool)
                runs = args.explore or (table[lab]["checks"].get("ci_explore", 0) if args.ci else 0)
                if runs:
                    explore(m, lab, runs, args.jobs, os.path.join(args.build, "mutate", "explore"),
                            table[lab].get("scenario", False))
                    if args.ci and not m["explore"]["found"]:
                        unexplored.append(f"{lab} {m['name']}: explore found nothing in {runs} runs")
            survivors += report(lab, tests, skipped, mutants, seeds)
            results[lab] = {
                "seeds": seeds, "quick": args.ci,
                "tests": [{k: t[k] for k in ("number", "name", "points", "timeout")} for t in tests],
                "not_run": [{k: t[k] for k in ("number", "name", "points")} for t in skipped],
                "mutants": [{k: m[k] for k in ("name", "what", "breaks", "files", "result")}
                            | ({"explore": m["explore"]} if "explore" in m else {})
                            for m in mutants]}
    path = args.json or os.path.join(args.build, "mutate",
                                     ("all" if args.lab == "all" else args.lab) + ".json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    count = sum(len(ms) for ms in chosen.values())
    print(f"\nmutate: {count - len(survivors)} of {count} mutants killed on every seed "
          f"({time.monotonic() - start:.0f} s); the matrix as JSON: {shown(path)}")
    for line in unexplored:
        print(f"mutate: {line} (labs.json: checks.ci_explore)")
    sys.exit(1 if survivors or unexplored else 0)


if __name__ == "__main__":
    main()
