#!/usr/bin/env python3
"""The grader: runs each graded test of a lab in its own process, with its own time limit, and
prints a table of points. Called by `./dsys grade`, which builds the test program first.

    grade.py --lab lab1 --tests build/dev/labs/lab1/lab1_tests [--only NAME] [--json F] [--junit F]
             [--jobs N] [--expect-fail] [--replay-args "--base reference"]

A test is graded when it has a [points:N] tag; [timeout:S] sets its limit (default 120 s).
A crash or a hang costs that test only: the table is always complete. Exit status 0 only when
every test passed (with --expect-fail: only when every graded test failed, which is what the
untouched stubs must do).
"""
import argparse
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

OUTPUT_LIMIT = 8000  # characters of a test's output kept in the report (its end)


def list_tests(binary):
    out = subprocess.run([binary, "--dsys-list"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit(f"grade: {binary} --dsys-list failed:\n{out.stdout}{out.stderr}")
    tests = []
    for line in out.stdout.splitlines():
        if "\t" not in line:
            continue
        name, tags = line.split("\t", 1)
        points = re.search(r"\[points:(\d+)\]", tags)
        if not points:
            continue
        limit = re.search(r"\[timeout:(\d+)\]", tags)
        tests.append({"name": name, "points": int(points.group(1)),
                      "timeout": int(limit.group(1)) if limit else 120})
    return tests


def catch_spec(name):
    """A Catch2 test spec that matches exactly `name`."""
    return re.sub(r"([\\,\[\]])", r"\\\1", name)


def run_one(binary, test, lab, env, replay_args):
    start = time.monotonic()
    try:
        proc = subprocess.Popen([binary, catch_spec(test["name"])], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    except OSError as e:
        return dict(test, status="error", output=f"could not start {binary}: {e}", seconds=0.0, note="error")
    try:
        raw, _ = proc.communicate(timeout=test["timeout"])
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raw, _ = proc.communicate()
        code = None
    seconds = time.monotonic() - start
    output = raw.decode("utf-8", "replace")
    if code is None:
        status, note = "timeout", f"killed after its {test['timeout']} s limit"
    elif code < 0 or code >= 128 or "ERROR: AddressSanitizer" in output or "runtime error:" in output:
        sig = -code if code is not None and code < 0 else None
        status, note = "crashed", (f"crashed (signal {sig})" if sig else "crashed (sanitizer report)")
    elif code == 0 and re.search(r"All tests passed \(\d+ assertions? in 1 test case\)", output):
        status, note = "passed", ""
    elif code == 0:
        status, note = "error", "the test did not run (its name did not match?)"
    else:
        status, note = "failed", ""
    unimplemented = sorted(set(re.findall(r"unimplemented: ([\w:~<>]+)", output)))
    if unimplemented and status != "passed":
        note = "unimplemented: " + ", ".join(unimplemented)
    if status != "passed":
        seed = re.search(r"DSYS_SEED=(\d+)", output)
        replay = f"./dsys grade {lab}{replay_args} --only \"{test['name']}\""
        if seed:
            replay = f"DSYS_SEED={seed.group(1)} " + replay
        output = output[-OUTPUT_LIMIT:].rstrip() + f"\n\nreplay: {replay}\n"
        trace = re.search(r"trace: (\S+)", output)
        if trace:
            output += f"trace: {trace.group(1)}\n"
    return dict(test, status=status, output=output, seconds=seconds, note=note)


def main():
    parser = argparse.ArgumentParser(description="Grade one lab.")
    parser.add_argument("--lab", required=True)
    parser.add_argument("--tests", required=True, help="the lab's test program")
    parser.add_argument("--only", help="run only the test with this exact name")
    parser.add_argument("--json", help="write Gradescope results.json here")
    parser.add_argument("--junit", help="write JUnit XML here")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--expect-fail", action="store_true", help="integrity: every test must fail")
    parser.add_argument("--replay-args", default="",
                        help="the ./dsys grade options that chose the test program's flavour")
    args = parser.parse_args()
    replay_args = f" {args.replay_args}" if args.replay_args.strip() else ""

    tests = list_tests(args.tests)
    if args.only:
        tests = [t for t in tests if t["name"] == args.only]
        if not tests:
            names = "\n  ".join(t["name"] for t in list_tests(args.tests))
            print(f"grade: {args.lab} has no graded test named \"{args.only}\". Its tests:\n  {names}")
            return 2
    if not tests:
        print(f"grade: {args.tests} has no graded tests ([points:N] tags)")
        return 2

    env = dict(os.environ)
    env.setdefault("DSYS_TRACE_DIR", os.path.join(os.getcwd(), "traces", args.lab))
    print(f"grading {args.lab}{replay_args}: {len(tests)} tests, {args.jobs} at a time", flush=True)
    results = [None] * len(tests)
    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_one, args.tests, t, args.lab, env, replay_args): i for i, t in enumerate(tests)}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            done += 1
            r = results[i]
            print(f"  [{done:>2}/{len(tests)}] {r['status'].upper():<7} {r['seconds']:6.1f}s  {r['name']}", flush=True)

    width = min(78, max(len(r["name"]) for r in results))
    print()
    print(f"{'test':<{width}}  {'points':>7}  {'result':<8} {'time':>6}")
    print("-" * (width + 27))
    for r in results:
        name = r["name"] if len(r["name"]) <= width else r["name"][: width - 1] + "…"
        earned = r["points"] if r["status"] == "passed" else 0
        print(f"{name:<{width}}  {earned:>3}/{r['points']:<3}  {r['status']:<8} {r['seconds']:5.1f}s"
              + (f"  {r['note']}" if r["note"] else ""))
    score = sum(r["points"] for r in results if r["status"] == "passed")
    total = sum(r["points"] for r in results)
    print("-" * (width + 27))
    print(f"{'total':<{width}}  {score:>3}/{total:<3}")

    failed = [r for r in results if r["status"] != "passed"]
    if failed and not args.expect_fail:
        print("\nWhat failed, and how to replay it:")
        for r in failed:
            tail = "\n".join(r["output"].rstrip().splitlines()[-12:])
            print(f"\n--- {r['name']} ({r['status']}{', ' + r['note'] if r['note'] else ''})\n{tail}")

    if args.json:
        report = {
            "score": score,
            "max_score": total,
            "visibility": "visible",
            "tests": [{"name": r["name"], "score": r["points"] if r["status"] == "passed" else 0,
                       "max_score": r["points"], "status": "passed" if r["status"] == "passed" else "failed",
                       "output": r["output"], "visibility": "visible",
                       "execution_time": round(r["seconds"], 2)} for r in results],
        }
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwrote {args.json}")
    if args.junit:
        suite = ET.Element("testsuite", name=args.lab, tests=str(len(results)),
                           failures=str(len(failed)), time=f"{sum(r['seconds'] for r in results):.2f}")
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=args.lab, name=r["name"], time=f"{r['seconds']:.2f}")
            if r["status"] != "passed":
                failure = ET.SubElement(case, "failure", message=r["note"] or r["status"], type=r["status"])
                failure.text = r["output"]
        ET.ElementTree(suite).write(args.junit, encoding="utf-8", xml_declaration=True)
        print(f"wrote {args.junit}")

    if args.expect_fail:
        passing = [r["name"] for r in results if r["status"] == "passed"]
        if passing:
            print(f"\nintegrity: {len(passing)} graded tests pass on the untouched stubs:")
            for name in passing:
                print(f"  {name}")
            return 1
        print(f"\nintegrity: every graded test of {args.lab} fails on the untouched stubs")
        return 0
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
