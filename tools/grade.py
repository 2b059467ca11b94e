#!/usr/bin/env python3
"""The grader: runs each graded test of a lab in its own process, with its own time limit, and
prints a table of points. Called by `./dsys grade`, which builds the test program first.

    grade.py --lab lab1 --tests build/dev/labs/lab1/lab1_tests [--hidden-tests PROGRAM]
             [--only WHICH] [--verbose] [--json F] [--junit F] [--format table|quickfeed]
             [--jobs N] [--expect-fail] [--replay-args "--base reference"]

A test is graded when it has a [points:N] tag; [timeout:S] sets its limit (default 120 s).
A crash or a hang costs that test only: the table is always complete. Exit status 0 only when
every test passed or was skipped (with --expect-fail: only when no graded test passed, which is
what the untouched stubs must do).

--hidden-tests adds the graded tests of the instructor's hidden test program, numbered after the
lab's own; in --json their visibility is Gradescope's "after_due_date".

A test that cannot run here skips itself: it prints a line "dsys: skipped: WHY" and passes
(testing::skip_without_fuse: no /dev/fuse). It earns no points, because nothing was checked, and
it is no failure: the table says "skipped" and why, the total says how many points were not run,
and --json reports it with score 0 and that reason (the instructor grades it where it can run).

--only WHICH picks tests by their number in the table (`3`, `2-5`, `1,4`), their exact name, or
the start of their names (`filter:` runs every test whose name starts so).

A passing test's figures go under its row of the table: the lines its test program printed that
start with "dsys: " (lab 5's "dsys: acquire RPCs, ...: lab 4 N, lab 5 M (Kx fewer)"), other than
the grader's own ("dsys: skipped: ...", "dsys: child process ..."), without that prefix; at most
FIGURE_LINES of them, each cut at FIGURE_WIDTH characters (--verbose: all of them, whole).
Catch2's own lines and anything else a test prints are not figures.

For each failed test it shows what its test program printed between "dsys: first failed
assertion" and "dsys: end of first failed assertion" (tests/lab_main.cpp: that assertion in
full), the lines "dsys: child process NAME exited: ..." (testing::Process: a child that died),
the replay line and the trace; its whole output goes to a log file, whose path it prints
(--verbose: also shows it).

--format quickfeed also prints, after the table, one line per graded test in the format of
QuickFeed's score package (DAT520's automated grading): a JSON object with Secret (the session
secret QuickFeed sets in QUICKFEED_SESSION_SECRET), TestName, TaskName (the lab), Score, MaxScore
and Weight (integers: a test's points, times 100 when some test's points are not whole; Score is
MaxScore when it passed, else 0). The secret is taken out of the environment when the grader
starts (take_quickfeed_secret; ./dsys does it before it builds anything), as the score package
does, so that no test and no student code it runs can read it and print scores of its own.

Each run has its own directory, named by the time it started: traces/LAB/2026-12-06T19-30-05/
(under $DSYS_TRACE_DIR instead, when it is set), which is its tests' DSYS_TRACE_DIR: their
traces and diagrams, and the logs of its failed tests (NAME.log). A second run started in the same
second gets "...T19-30-05-2". A run that leaves nothing there (every test passed) leaves no
directory; of the others, the RUNS_KEPT newest are kept, the older ones removed (only directories
named so: nothing else in the directory is touched). The table is followed by that directory's
path. A full run also removes the traces and logs that graders before this one left directly in
traces/LAB/ and traces/LAB/logs/.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labs as labs_manifest  # noqa: E402  (the lab manifest, labs.json: points and reruns)

FIRST_FAILURE = "dsys: first failed assertion"
FIRST_FAILURE_END = "dsys: end of first failed assertion"
CHILD_DIED = "dsys: child process "
SKIPPED = re.compile(r"^dsys: skipped: (.+?)\s*$", re.M)
TRACING_OFF = "none (tracing is off in this test)"
OUTPUT_LIMIT = 8000  # characters of the end of a failed test's output kept in --json/--junit
BLOCK_LINES = 60  # lines of the first failed assertion shown on the terminal (all in the log)
TAIL_LINES = 15  # lines of the end of the output shown when no assertion failed (a hang, a crash)
REASON_WIDTH = 90  # characters of the table's reason column
FIGURE = re.compile(r"^dsys: (.+?)\s*$", re.M)  # a line of figures a test printed (lab 5's RPC counts)
NOT_FIGURES = ("first failed assertion", "end of first failed assertion", "child process ", "skipped:",
               "stopping at breakpoint", "could not write")  # the grader's own "dsys: " lines
FIGURE_LINES = 3  # figure lines shown under a passing test's row (--verbose: all)
FIGURE_WIDTH = 160  # characters of a figure line shown (--verbose: all)
RUNS_KEPT = 5  # run directories kept (traces/LAB/START/: the run's traces and logs)
RUN_NAME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d)(?:-(\d+))?$")

_running = set()  # the process groups of running tests, killed on ^C
_running_lock = threading.Lock()


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def shown(path):
    """`path` relative to the working directory when it is inside it (shorter to read)."""
    cwd = os.getcwd() + os.sep
    return path[len(cwd):] if path.startswith(cwd) else path


def list_tests(binary, hidden=False, first_number=1):
    """The graded tests of `binary`, numbered from `first_number`."""
    try:
        out = subprocess.run([binary, "--dsys-list"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SystemExit(f"grade: {binary} --dsys-list could not run: {e}")
    if out.returncode != 0:
        raise SystemExit(f"grade: {binary} --dsys-list failed (exit status {out.returncode}):\n"
                         f"{out.stdout}{out.stderr}")
    tests = []
    for line in out.stdout.splitlines():
        if "\t" not in line:
            continue
        name, tags = line.split("\t", 1)
        points = re.search(r"\[points:(\d+)\]", tags)
        if not points:
            continue
        limit = re.search(r"\[timeout:(\d+)\]", tags)
        tests.append({"number": first_number + len(tests), "name": name, "points": int(points.group(1)),
                      "timeout": int(limit.group(1)) if limit else 120, "tags": tags,
                      "binary": binary, "hidden": hidden})
    return tests


def weigh(tests, lab):
    """Gives each graded test of `lab` its weight from the lab manifest (labs.json): the lab's own
    tests keep their [points:N]; the tests of each lab it reruns ("rerun": {"lab2": 10}) are
    scaled to carry that weight together. Exits when the lab's own tests do not carry its points
    less the reruns' weights. A lab the manifest does not name (the grader's own fixture) keeps
    its tags' points."""
    try:
        labs = labs_manifest.load(test_labs=True)
    except labs_manifest.ManifestError as e:
        raise SystemExit(f"grade: {e}")
    if lab not in labs:
        return
    entry = labs[lab]

    def group(t):
        first = re.match(r"\[(lab[0-9a-z]+)\]", t["tags"])
        return first.group(1) if first else lab

    own = sum(t["points"] for t in tests if not t["hidden"] and group(t) not in entry["rerun"])
    expected = entry["points"] - sum(entry["rerun"].values())
    if own != expected:
        raise SystemExit(f"grade: {lab}'s own graded tests carry {own} points, but labs.json gives it "
                         f"{entry['points']}" + (f", {expected} of them its own" if entry["rerun"] else ""))
    for again, weight in entry["rerun"].items():
        rerun = [t for t in tests if not t["hidden"] and group(t) == again]
        carried = sum(t["points"] for t in rerun)
        for t in rerun:
            t["points"] = t["points"] * weight / carried


def shown_points(x):
    """Points as the table shows them: whole numbers as they are, others to two decimals."""
    return str(round(x)) if abs(x - round(x)) < 1e-9 else f"{x:.2f}"


def select(tests, only):
    """The tests `only` names: numbers and ranges of numbers, an exact name, or a name's start.
    Returns (tests, None) or ([], why)."""
    if re.fullmatch(r"\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*", only):
        wanted = set()
        for part in only.split(","):
            low, _, high = part.partition("-")
            low, high = int(low), int(high or low)
            if low < 1 or high > len(tests) or low > high:
                return [], f"there is no test {part.strip()} (tests are numbered 1 to {len(tests)})"
            wanted.update(range(low, high + 1))
        return [t for t in tests if t["number"] in wanted], None
    exact = [t for t in tests if t["name"] == only]
    if exact:
        return exact, None
    for fold in (lambda s: s, str.casefold):
        chosen = [t for t in tests if fold(t["name"]).startswith(fold(only))]
        if chosen:
            return chosen, None
    return [], f"no graded test is named \"{only}\" or has a name that starts so"


def catch_spec(name):
    """A Catch2 test spec that matches exactly `name`."""
    return re.sub(r"([\\,\[\]])", r"\\\1", name)


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "test"


def log_path(log_dir, test):
    return os.path.join(log_dir, f"{slug(test['name'])}.log")


def first_failure(output):
    """The text the test program printed about its first failed assertion, or None."""
    start = output.find(FIRST_FAILURE + "\n")
    if start < 0:
        return None
    start += len(FIRST_FAILURE) + 1
    end = output.find(FIRST_FAILURE_END, start)
    return (output[start:end] if end >= 0 else output[start:]).rstrip("\n")


def failure_summary(block):
    """One line for the table's reason column from the first failed assertion: what the
    exception said, else where and what was checked."""
    lines = block.splitlines()
    if not lines:
        return ""
    sections, key = {"": []}, ""
    for line in lines[1:]:
        if line.startswith("  "):
            sections.setdefault(key, []).append(line[2:])
        else:
            key = line
            sections[key] = []
    for k in sections:
        if k.startswith("due to") or k.startswith("explicitly"):
            said = next((line.strip() for line in sections[k] if line.strip()), "")
            if said:
                return said
    where = re.sub(r": FAILED:$", "", lines[0])
    where = os.path.basename(where) if "/" in where else where
    expression = " ".join(line.strip() for line in sections[""])
    return f"{where}: {expression}" if expression else where


def trace_of(output):
    """The test's trace, as its failure report named it: a path, TRACING_OFF, or None."""
    end = output.find(FIRST_FAILURE_END)
    reported = re.search(r"^trace: (.+)$", output[end:] if end >= 0 else "", re.M)
    if reported:
        return reported.group(1).strip()
    written = re.search(r"^\s*trace: ([^\s(]\S*)", output, re.M)  # a RunFailure's message
    if written:
        return written.group(1)
    if "trace: (tracing was off)" in output:
        return TRACING_OFF
    return None


def figures(output):
    """The figures a test printed: its lines "dsys: WHAT" other than the grader's own, as WHAT,
    each once, in order."""
    found = (m.group(1) for m in FIGURE.finditer(output))
    return list(dict.fromkeys(f for f in found if not f.startswith(NOT_FIGURES)))


def output_end(output, limit):
    """The last `limit` characters of `output`, from the start of a line."""
    if len(output) <= limit:
        return output
    cut = output[-limit:]
    newline = cut.find("\n")
    return "[...]\n" + (cut[newline + 1:] if 0 <= newline < len(cut) - 1 else cut)


def run_one(test, lab, env, replay_args, log_dir):
    binary = test["binary"]
    if test["hidden"]:
        replay_args += " --hidden"
    start = time.monotonic()
    command = [binary, catch_spec(test["name"])]
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    except OSError as e:
        return dict(test, status="error", output=f"could not start {binary}: {e}", seconds=0.0,
                    note="error", body=[f"could not start {binary}: {e}"], footer=[],
                    report=f"could not start {binary}: {e}", log=None)
    with _running_lock:
        _running.add(proc.pid)
    try:
        raw, _ = proc.communicate(timeout=test["timeout"])
        code = proc.returncode
    except subprocess.TimeoutExpired:
        # SIGTERM first, to the test and the programs it started (its process group), so that
        # they stop cleanly (a yfs_client unmounts); its output ends when all of them have gone.
        # SIGKILL for whatever is still there after 5 s.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            raw, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raw, _ = proc.communicate()
        code = None
    finally:
        with _running_lock:
            _running.discard(proc.pid)
    seconds = time.monotonic() - start
    output = raw.decode("utf-8", "replace")

    status_note = ""
    if code is None:
        status, status_note = "timeout", f"killed after its {test['timeout']} s limit"
    elif code < 0 or code >= 128 or "ERROR: AddressSanitizer" in output or "runtime error:" in output:
        sig = -code if code is not None and code < 0 else None
        if sig:
            try:
                status_note = f"crashed (signal {sig}, {signal.Signals(sig).name})"
            except ValueError:
                status_note = f"crashed (signal {sig})"
        else:
            status_note = "crashed (sanitizer report)"
        status = "crashed"
    elif code == 0 and re.search(r"All tests passed \(\d+ assertions? in 1 test case\)", output):
        status = "passed"
    elif code == 0:
        status, status_note = "error", "the test did not run (its name did not match?)"
    else:
        status = "failed"
    skipped = SKIPPED.search(output) if status == "passed" else None
    if skipped:
        return dict(test, status="skipped", output=output_end(output, OUTPUT_LIMIT), seconds=seconds,
                    note=f"not run here, 0 points: {skipped.group(1)}", body=[], footer=[],
                    report=f"skipped: not run here, so it earns no points: {skipped.group(1)}", log=None)
    if status == "passed":
        return dict(test, status=status, output=output_end(output, OUTPUT_LIMIT), seconds=seconds,
                    note="", body=[], footer=[], report="", log=None, figures=figures(output))

    # Why it failed, most telling first: a child process that died, a stub it reached, what the
    # first failed assertion said (for a plain failure; a crash or a hang says what it was).
    block = first_failure(output)
    children = list(dict.fromkeys(re.findall(r"^" + re.escape(CHILD_DIED) + r"(.+?)\s*$", output, re.M)))
    # (A name cut short, in a trace's last events, ends in "::" or "…": left out.)
    unimplemented = sorted(set(n for n in re.findall(r"unimplemented: ([\w:~<>]+)", output)
                               if not n.endswith(":")))
    if children:
        cause = children[0] + (f" (and {plural(len(children) - 1, 'other child')})" if len(children) > 1 else "")
    elif unimplemented:
        cause = "unimplemented: " + ", ".join(unimplemented)
    elif block is not None and status == "failed":
        cause = failure_summary(block)
    else:
        cause = ""
    note = "; ".join(part for part in (status_note, cause) if part)

    seed = re.search(r"^replay: DSYS_SEED=(\d+)", output, re.M) or re.search(r"DSYS_SEED=(\d+)", output)
    name = test["name"]
    quoted = f'"{name}"' if not re.search(r'["$`\\!]', name) else shlex.quote(name)
    replay = f"./dsys grade {lab}{replay_args} --only {quoted}"
    if seed:
        replay = f"DSYS_SEED={seed.group(1)} " + replay
    trace = trace_of(output)
    if trace and trace != TRACING_OFF:
        trace = shown(trace)

    log = log_path(log_dir, test)
    try:
        os.makedirs(log_dir, exist_ok=True)
        with open(log, "w") as f:
            f.write(f"test:    {test['number']}. {name}\n"
                    f"result:  {status}{', ' + note if note else ''}\n"
                    f"exit:    {'killed at its time limit' if code is None else code}, after {seconds:.2f} s\n"
                    f"command: DSYS_TRACE_DIR={shlex.quote(env.get('DSYS_TRACE_DIR', ''))} "
                    f"{' '.join(shlex.quote(c) for c in command)}\n"
                    f"replay:  {replay}\n\n{output}")
    except OSError as e:
        log = None
        note = note or f"(could not write its log: {e})"

    # The report: the first failed assertion, the dead children, the replay line, the trace, the
    # log. Without a failed assertion (a hang, a crash outside Catch), the end of the output.
    lines = []
    if block is not None:
        lines += [shown_paths(line) for line in block.splitlines()]
    lines += [CHILD_DIED + c for c in children]
    sanitizer = sanitizer_report(output)
    if sanitizer or block is None or status == "timeout":
        words = sanitizer or last_words(output, status)
        lines += ["", *words] if lines else words
    footer = [f"replay: {replay}"]
    if trace:
        footer.append(f"trace:  {trace}")
        diagram = re.sub(r"\.trace$", ".html", trace)
        if diagram != trace and os.path.isfile(diagram):
            footer.append(f"diagram: {diagram}  (open it in a browser: the run, lane by lane)")
    if log:
        footer.append(f"log:    {shown(log)}  (its whole output)")
    return dict(test, status=status, output=output, seconds=seconds, note=note, body=lines,
                footer=footer, report="\n".join(lines + footer), log=log)


def shown_paths(line):
    cwd = os.getcwd() + os.sep
    return line.replace(cwd, "")


def sanitizer_report(output):
    """The start of a sanitizer's report in the output, or []."""
    lines = output.rstrip().splitlines()
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        at = next((i for i, line in enumerate(lines) if marker in line), None)
        if at is not None:
            return [f"(the sanitizer's report, from line {at + 1} of the output)", *lines[at:at + 25]]
    return []


def last_words(output, status):
    """What to show of a test's output when no assertion failed, or it hung."""
    lines = output.rstrip().splitlines()
    if not lines:
        return [f"(it printed nothing before it {'was killed' if status == 'timeout' else 'ended'})"]
    tail = lines[-TAIL_LINES:]
    return [f"(the end of its output, {plural(len(tail), 'line')} of {len(lines)})", *tail]


def clear_loose_files(root):
    """Removes the traces, diagrams and logs that graders before the run directories left directly
    in `root` (traces/LAB/) and in root/logs/."""
    logs = os.path.join(root, "logs")
    for directory, endings in ((root, (".trace", ".html", ".shiviz")), (logs, (".log",))):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            if name.endswith(endings) and os.path.isfile(path):
                try:
                    os.remove(path)
                except OSError:
                    pass
    try:
        os.rmdir(logs)  # only when it is empty
    except OSError:
        pass


def run_key(name):
    """The order of run directories' names, oldest first ("...T19-30-05" before "...T19-30-05-2",
    which is before "...T19-30-05-10"), or None for a name that is not a run directory's."""
    m = RUN_NAME.match(name)
    return (m.group(1), int(m.group(2) or 1)) if m else None


def new_run_dir(root, started):
    """Makes the directory of a run that started at `started` (time.time()) in `root`: named by
    that time, with "-2", "-3"... after the runs that started in the same second (numbered after
    the last of them, so that it is the newest even when older ones of that second were removed)."""
    os.makedirs(root, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.localtime(started))
    same_second = [run_key(n)[1] for n in os.listdir(root) if run_key(n) and run_key(n)[0] == stamp]
    first = max(same_second) + 1 if same_second else 1
    for n in range(first, first + 10000):
        path = os.path.join(root, stamp if n == 1 else f"{stamp}-{n}")
        try:
            os.mkdir(path)  # atomic: two runs never get the same directory
            return path
        except FileExistsError:
            continue
    raise SystemExit(f"grade: could not make a run directory in {root}")


def run_dirs(root):
    """The run directories in `root`, oldest first."""
    try:
        names = [n for n in os.listdir(root) if run_key(n) and os.path.isdir(os.path.join(root, n))]
    except OSError:
        return []
    return [os.path.join(root, n) for n in sorted(names, key=run_key)]


def finish_runs(root, run_dir, kept=RUNS_KEPT):
    """Removes `run_dir` when the run left nothing in it, and all but the `kept` newest run
    directories in `root`."""
    try:
        os.rmdir(run_dir)  # only when it is empty
    except OSError:
        pass
    for old in run_dirs(root)[:-kept]:
        shutil.rmtree(old, ignore_errors=True)


def print_result_line(r):
    print(f"  {r['number']:>2}. {r['status'].upper():<7} {r['seconds']:6.1f}s  {r['name']}", flush=True)


QUICKFEED_SECRET_VARIABLE = "QUICKFEED_SESSION_SECRET"
_quickfeed_secret = None


def take_quickfeed_secret():
    """QuickFeed's session secret ("" when it is not set), taken out of this process's environment
    at the first call, so that nothing started after it (the build, the tests, the student's code
    they run) inherits it."""
    global _quickfeed_secret
    if _quickfeed_secret is None:
        _quickfeed_secret = os.environ.pop(QUICKFEED_SECRET_VARIABLE, "")
    return _quickfeed_secret


def quickfeed_lines(lab, results, secret):
    """One JSON line per graded test, in QuickFeed's score format (see the top of this file)."""
    whole = all(float(r["points"]).is_integer() for r in results)
    lines = []
    for r in results:
        weight = max(1, round(r["points"] if whole else r["points"] * 100))
        lines.append(json.dumps({"Secret": secret, "TestName": r["name"], "TaskName": lab,
                                 "Score": weight if r["status"] == "passed" else 0,
                                 "MaxScore": weight, "Weight": weight}))
    return lines


def main(argv=None):
    take_quickfeed_secret()  # before any test runs
    parser = argparse.ArgumentParser(description="Grade one lab.")
    parser.add_argument("--lab", required=True)
    parser.add_argument("--tests", required=True, help="the lab's test program")
    parser.add_argument("--hidden-tests", help="the instructor's hidden test program of the lab")
    parser.add_argument("--only", help="run only these tests: numbers (3, 2-5, 1,4), a name, or a name's start")
    parser.add_argument("--verbose", action="store_true",
                        help="show the whole output of each failed test, and every figure of the passing ones")
    parser.add_argument("--json", help="write Gradescope results.json here")
    parser.add_argument("--junit", help="write JUnit XML here")
    parser.add_argument("--format", choices=("table", "quickfeed"), default="table",
                        help="quickfeed: also print a QuickFeed score line per test, after the table")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--expect-fail", action="store_true", help="integrity: every test must fail")
    parser.add_argument("--replay-args", default="",
                        help="the ./dsys grade options that chose the test program's flavour")
    args = parser.parse_args(argv)
    replay_args = f" {args.replay_args}" if args.replay_args.strip() else ""

    every = list_tests(args.tests)
    if args.hidden_tests:
        every += list_tests(args.hidden_tests, hidden=True, first_number=len(every) + 1)
    weigh(every, args.lab)
    if not every:
        print(f"grade: {args.tests} has no graded tests ([points:N] tags)")
        return 2
    tests = every
    if args.only:
        tests, why = select(every, args.only)
        if not tests:
            names = "\n".join(f"  {t['number']:>2}. {t['name']}" for t in every)
            print(f"grade: {args.lab}: {why}. Its tests:\n{names}")
            return 2

    # This run's directory: its tests' DSYS_TRACE_DIR, and where its logs go.
    env = dict(os.environ)
    own_dir = not env.get("DSYS_TRACE_DIR")
    root = os.path.join(os.getcwd(), "traces", args.lab) if own_dir else os.path.abspath(env["DSYS_TRACE_DIR"])
    if own_dir and not args.only:
        clear_loose_files(root)
    run_dir = new_run_dir(root, time.time())
    env["DSYS_TRACE_DIR"] = run_dir
    try:
        return run_and_report(args, tests, env, replay_args, run_dir)
    finally:
        finish_runs(root, run_dir)  # also after ^C


def figure_lines(r, verbose):
    """The lines shown under a test's row: its figures, FIGURE_LINES at most (--verbose: all)."""
    found = r.get("figures", [])
    if verbose:
        return found
    lines = [f if len(f) <= FIGURE_WIDTH else f[: FIGURE_WIDTH - 1] + "…" for f in found[:FIGURE_LINES]]
    if len(found) > FIGURE_LINES:
        lines.append(f"[... {plural(len(found) - FIGURE_LINES, 'more figure line')}: --verbose shows them]")
    return lines


def run_and_report(args, tests, env, replay_args, run_dir):
    """Runs `tests`, prints the progress, the table and the failure reports, writes --json and
    --junit; returns the exit status."""
    jobs = max(1, min(args.jobs, len(tests)))
    print(f"grading {args.lab}{replay_args}: {plural(len(tests), 'test')}, {jobs} at a time", flush=True)
    results = [None] * len(tests)
    printed = 0
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_one, t, args.lab, env, replay_args, run_dir): i
                       for i, t in enumerate(tests)}
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
                # Progress in the table's order: each result once those before it are in.
                while printed < len(results) and results[printed] is not None:
                    print_result_line(results[printed])
                    printed += 1
    except KeyboardInterrupt:
        with _running_lock:
            for pid in _running:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        print("\ngrade: interrupted")
        return 130

    def label(r):
        return f"{r['name']} (hidden)" if r["hidden"] else r["name"]

    width = min(78, max(len(label(r)) for r in results))
    score = sum(r["points"] for r in results if r["status"] == "passed")
    total = sum(r["points"] for r in results)
    not_run = sum(r["points"] for r in results if r["status"] == "skipped")
    pw = max(3, max(len(shown_points(r["points"])) for r in results), len(shown_points(total)))
    rule = "-" * (width + 33 + 2 * pw)
    print()
    print(f"{'#':>3}  {'test':<{width}}  {'points':>{2 * pw + 1}}  {'result':<8} {'time':>6}  reason")
    print(rule)
    for r in results:
        name = label(r) if len(label(r)) <= width else label(r)[: width - 1] + "…"
        earned = r["points"] if r["status"] == "passed" else 0
        note = r["note"] if len(r["note"]) <= REASON_WIDTH else r["note"][: REASON_WIDTH - 1] + "…"
        print(f"{r['number']:>3}  {name:<{width}}  {shown_points(earned):>{pw}}/{shown_points(r['points']):<{pw}}  "
              f"{r['status']:<8} {r['seconds']:5.1f}s" + (f"  {note}" if note else ""))
        for line in figure_lines(r, args.verbose):
            print(f"{'':>3}    {line}")
    print(rule)
    print(f"{'':>3}  {'total':<{width}}  {shown_points(score):>{pw}}/{shown_points(total):<{pw}}"
          + (f"  ({shown_points(not_run)} points skipped: not run here)" if not_run else ""))
    if os.path.isdir(run_dir) and os.listdir(run_dir):
        print(f"\nthis run's traces and logs: {shown(run_dir)}{os.sep}  "
              f"(those of the last {RUNS_KEPT} runs are kept)")

    failed = [r for r in results if r["status"] not in ("passed", "skipped")]
    if failed and not args.expect_fail:
        print("\nWhat failed, and how to replay it:")
        for r in failed:
            why = r["note"] if r["note"].startswith(r["status"]) else f"{r['status']}: {r['note']}".rstrip(": ")
            print(f"\n--- {r['number']}. {r['name']} ({why})")
            if args.verbose:
                print(f"its whole output:\n{r['output'].rstrip()}\n--- {r['number']}: what failed first")
            body = r["body"]
            if not args.verbose and len(body) > BLOCK_LINES + 1:
                body = body[:BLOCK_LINES] + [f"[... {plural(len(body) - BLOCK_LINES, 'more line')}: see the log]"]
            print("\n".join(body + r["footer"]))

    def reported_output(r):
        if r["status"] == "passed":
            return r["output"]
        if r["status"] == "skipped":
            return r["report"] + "\n"
        return f"{r['report']}\n\nthe end of its output:\n{output_end(r['output'], OUTPUT_LIMIT).rstrip()}\n"

    if args.json:
        summary = f"{args.lab}: {shown_points(score)}/{shown_points(total)} points" + (
            f" ({shown_points(not_run)} points skipped: their tests cannot run here)" if not_run else "")
        report = {
            "score": round(score, 4),
            "max_score": round(total, 4),
            "output": summary,
            "visibility": "visible",
            "tests": [{"name": r["name"], "number": str(r["number"]),
                       "score": round(r["points"], 4) if r["status"] == "passed" else 0,
                       "max_score": round(r["points"], 4), "status": "passed" if r["status"] == "passed" else "failed",
                       "output": reported_output(r),
                       "visibility": "after_due_date" if r["hidden"] else "visible",
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
            if r["status"] == "skipped":
                ET.SubElement(case, "skipped", message=r["note"])
            elif r["status"] != "passed":
                failure = ET.SubElement(case, "failure", message=r["note"] or r["status"], type=r["status"])
                failure.text = reported_output(r)
        ET.ElementTree(suite).write(args.junit, encoding="utf-8", xml_declaration=True)
        print(f"wrote {args.junit}")

    if args.format == "quickfeed":
        secret = take_quickfeed_secret()
        if not secret:
            print(f"grade: {QUICKFEED_SECRET_VARIABLE} is not set: the score lines carry an empty secret, "
                  "which QuickFeed refuses", file=sys.stderr)
        print()
        print("\n".join(quickfeed_lines(args.lab, results, secret)), flush=True)

    if args.expect_fail:
        passing = [r["name"] for r in results if r["status"] == "passed"]
        if passing:
            print(f"\nintegrity: {plural(len(passing), 'graded test')} "
                  f"{'passes' if len(passing) == 1 else 'pass'} on the untouched stubs:")
            for name in passing:
                print(f"  {name}")
            return 1
        print(f"\nintegrity: every graded test of {args.lab} fails on the untouched stubs")
        return 0
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
