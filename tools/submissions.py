#!/usr/bin/env python3
"""What a student hands in, and grading it: ./dsys submit, ./dsys autograder, ./dsys grade-many.

    submissions.py files LAB [--own]
        the files the student writes for LAB (its STUDENT_FILES) and, without --own, for the
        labs it builds on (labs.json's depends, transitively): kit-relative paths
    submissions.py submit LAB [--out ZIP]
        zips those files (./dsys submit), and says what it holds
    submissions.py autograder LAB [--base reference|labs] [--out ZIP]
        a Gradescope autograder: setup.sh, run_autograder and kit/ (./dsys autograder)
    submissions.py run --lab LAB --base reference|labs --submission DIR --results FILE
        grades one submission in this kit (run_autograder calls it): results.json, always
    submissions.py grade-many LAB SUBMISSION... [--base reference|labs] [--out DIR]
        grades many submissions (zips or directories), one at a time, and writes a CSV

With --base labs (once spelled mine, still accepted) a submission holds the student's files of LAB
and of every lab it builds on, and LAB is built on them; with --base reference only LAB's own files
are taken, and LAB is built on the reference of the labs it builds on (so a lab is graded alone). A submission is found in
its directory by path (labs/lab1_lock/lock_server.cpp, as ./dsys submit packs it, or a clone of
the student's repository), else by the lab directory and name at any depth, else by name alone
when no two needed files share it (loose files uploaded by hand).

Whatever a submission does, `run` writes a valid results.json: a missing file, a compile error
(its first error in `output`), a test program that cannot start, each give score 0 and say so.
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labs as labs_manifest  # noqa: E402  (the lab manifest, labs.json)

KIT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDENT_FILES = "STUDENT_FILES"
# What the kit's copy in an autograder leaves out: build trees and what runs leave behind.
LEFT_OUT = {"build", "traces", "explore", "yfs-logs", "grade-many", ".git", "__pycache__"}
BUILD_LIMIT_S = 3 * 3600  # a whole grade (build and tests) of one submission, at most


def shown(path):
    """`path` relative to the working directory when inside it, else absolute."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def die(message):
    print(f"dsys: {message}", file=sys.stderr)
    sys.exit(2)


# ---- the labs and their files ----------------------------------------------------------------

def lab_table(kit=KIT):
    """{lab: its entry of the lab manifest (labs.json: "dir", "depends", ...)}, in order."""
    return labs_manifest.load_or_die(kit)


def closure(labs, lab):
    """The labs `lab` builds on, transitively, in the manifest's order (not `lab` itself)."""
    return labs_manifest.closure(labs, lab)


def check_lab(labs, lab, kit=KIT):
    if lab not in labs:
        die(f"no lab '{lab}' (labs: {' '.join(labs)})")
    for name in closure(labs, lab) + [lab]:
        if not os.path.isdir(os.path.join(kit, "labs", labs[name]["dir"])):
            die(f"{name} is not released in this kit yet (there is no labs/{labs[name]['dir']}): "
                "git pull the handout once it is")


def own_files(kit, labs, lab):
    """The kit-relative paths of the files the student writes for `lab` alone."""
    directory = os.path.join("labs", labs[lab]["dir"])
    listing = os.path.join(kit, directory, STUDENT_FILES)
    try:
        with open(listing) as f:
            names = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    except OSError:
        die(f"{os.path.relpath(listing, kit)} is missing: run ./dsys handout (in the instructor's tree)")
    return [os.path.join(directory, name) for name in names]


def student_files(kit, labs, lab, base):
    """The files a submission for `lab` must hold: its own, and with base "labs" its labs' too."""
    which = ([] if base == "reference" else closure(labs, lab)) + [lab]
    return [path for name in which for path in own_files(kit, labs, name)]


# ---- ./dsys submit ---------------------------------------------------------------------------

def cmd_files(args):
    labs = lab_table()
    check_lab(labs, args.lab)
    for path in student_files(KIT, labs, args.lab, "reference" if args.own else "labs"):
        print(path)
    return 0


def cmd_submit(args):
    labs = lab_table()
    check_lab(labs, args.lab)
    files = student_files(KIT, labs, args.lab, "labs")
    missing = [p for p in files if not os.path.isfile(os.path.join(KIT, p))]
    if missing:
        die("these files of the handout are missing: " + ", ".join(missing))
    out = os.path.abspath(args.out or f"{args.lab}-submission.zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path in files:
            z.write(os.path.join(KIT, path), path)
    own = set(own_files(KIT, labs, args.lab))
    print(f"submit: wrote {shown(out)} with {len(files)} files:")
    stubs = []
    for path in files:
        with open(os.path.join(KIT, path), errors="replace") as f:
            text = f.read()
        left = sorted(set(re.findall(r'dsys::unimplemented\("([^"]+)"\)', text)))
        mark = "" if path in own else f"  (from {next(l for l in labs if path.startswith('labs/' + labs[l]['dir'] + '/'))}, which {args.lab} builds on)"
        print(f"  {path}{mark}")
        if left:
            stubs.append(f"{path}: {', '.join(left)}")
    print(f"Upload {shown(out)} to the assignment of {args.lab}. With --base reference the "
          f"autograder takes only the files of {args.lab} itself.")
    if stubs:
        print("note: these files still reach a stub (dsys::unimplemented), whose tests will fail:")
        for line in stubs:
            print(f"  {line}")
    return 0


# ---- grading one submission (run_autograder) ---------------------------------------------------

def find_in_submission(submission, wanted):
    """{kit-relative path: path in the submission} for each of `wanted` found, and the missing."""
    every = []
    for directory, subdirectories, names in os.walk(submission):
        subdirectories[:] = sorted(d for d in subdirectories if d not in LEFT_OUT and not d.startswith("."))
        every += [os.path.join(directory, n) for n in sorted(names)]
    by_name = {}
    for path in wanted:
        by_name.setdefault(os.path.basename(path), []).append(path)
    found, missing = {}, []
    for path in wanted:
        exact = os.path.join(submission, path)
        lab_dir_and_name = os.sep + os.path.join(*path.split("/")[-2:])
        if os.path.isfile(exact):
            found[path] = exact
            continue
        deep = [p for p in every if p.endswith(lab_dir_and_name)]
        if deep:
            found[path] = deep[0]
            continue
        name = os.path.basename(path)
        loose = [p for p in every if os.path.basename(p) == name]
        if len(by_name[name]) == 1 and len(loose) == 1:
            found[path] = loose[0]
        else:
            missing.append(path)
    return found, missing


def write_results(path, score, output, tests=None):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"score": score, "output": output, "visibility": "visible",
                   "stdout_visibility": "visible", "tests": tests or []}, f, indent=2)


def first_compiler_error(output, kit):
    """The compiler's first error, with the lines that follow it, or None."""
    lines = output.splitlines()
    at = next((i for i, line in enumerate(lines) if re.search(r"\berror\b:", line)
               and not line.startswith("gmake") and not line.startswith("make")), None)
    if at is None:
        return None
    start = at
    while start > 0 and at - start < 4 and re.search(r"(In (member )?function|In file included|from )", lines[start - 1]):
        start -= 1
    kept = [line.replace(kit + os.sep, "") for line in lines[start:at + 12]
            if not re.match(r"(\[|g?make|dsys: )", line) and "Error " not in line]
    return "\n".join(kept)


def grade_submission(kit, lab, base, submission, results, hidden=True, log=None):
    """Copies the student's files of `submission` into `kit` and grades them into `results`
    (a Gradescope results.json). Returns (status, score): status "graded", "missing files",
    "build failed" or "tests could not start"."""
    labs = lab_table(kit)
    check_lab(labs, lab)
    wanted = student_files(kit, labs, lab, base)
    found, missing = find_in_submission(submission, wanted)
    if missing:
        write_results(results, 0, (
            f"Your submission for {lab} is missing {len(missing)} of the {len(wanted)} files it must hold:\n"
            + "".join(f"  {p}\n" for p in missing)
            + f"\nMake it with `./dsys submit {lab}` in your clone and upload the zip it writes "
              "(or keep the files at these paths)."))
        return "missing files", 0
    for path, source in found.items():
        shutil.copyfile(source, os.path.join(kit, path))
    command = [os.path.join(kit, "dsys"), "grade", lab, "--hidden", "--json", os.path.abspath(results) + ".part"]
    if not hidden:
        command.remove("--hidden")
    if base == "reference" and labs[lab]["depends"]:
        command[3:3] = ["--base", "reference"]
    try:
        os.remove(results + ".part")
    except OSError:
        pass
    try:
        run = subprocess.run(command, cwd=kit, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=BUILD_LIMIT_S)
        output = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode("utf-8", "replace") + f"\n(stopped after {BUILD_LIMIT_S} s)"
    if log:
        with open(log, "w") as f:
            f.write(output)
    if os.path.isfile(results + ".part"):
        with open(results + ".part") as f:
            report = json.load(f)
        os.replace(results + ".part", results)
        return "graded", report["score"]
    if "dsys: the build failed" in output:
        error = first_compiler_error(output, kit) or tail(output, 30)
        write_results(results, 0, f"Your code for {lab} does not compile. The compiler's first error:\n\n"
                                  f"{error}\n\n(Build it with `./dsys grade {lab}` in your clone to see them all.)")
        return "build failed", 0
    write_results(results, 0, f"The tests of {lab} could not start (the test program crashed or "
                              f"did not answer), so nothing was graded. The end of the grader's output:\n\n"
                              f"{tail(output, 40)}")
    return "tests could not start", 0


def tail(text, lines):
    return "\n".join(text.rstrip().splitlines()[-lines:])


def cmd_run(args):
    status, score = grade_submission(KIT, args.lab, args.base, os.path.abspath(args.submission),
                                     os.path.abspath(args.results), hidden=not args.no_hidden)
    print(f"run_autograder: {args.lab}: {status}, score {score}; wrote {args.results}")
    return 0  # the results say how it went: the autograder itself never fails


# ---- ./dsys autograder -------------------------------------------------------------------------

def kit_files(kit):
    """The kit's files (git's list where it is a clone), without build trees and run leftovers."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=kit, capture_output=True, check=True)
        files = [p for p in out.stdout.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for directory, subdirectories, names in os.walk(kit):
            subdirectories[:] = [d for d in subdirectories if d not in LEFT_OUT]
            files += [os.path.relpath(os.path.join(directory, n), kit) for n in names]
    return sorted(p for p in files if p.split("/")[0] not in LEFT_OUT and os.path.isfile(os.path.join(kit, p)))


def autograder_tree(kit, lab, base):
    """{path in the autograder's kit: path in this kit}: the handout, the reference of the labs
    `lab` builds on (base reference) and none other, and `lab`'s hidden tests as hidden/DIR/."""
    labs = lab_table(kit)
    keep_reference = {labs[name]["dir"] for name in closure(labs, lab)} if base == "reference" else set()
    tree = {}
    for path in kit_files(kit):
        parts = path.split("/")
        if parts[0] == "solutions" and (len(parts) < 3 or parts[1] not in keep_reference or parts[2] in ("hidden", "mutants")):
            continue
        tree[path] = path
    hidden = os.path.join("solutions", labs[lab]["dir"], "hidden")
    for name in sorted(os.listdir(os.path.join(kit, hidden))) if os.path.isdir(os.path.join(kit, hidden)) else []:
        if name.endswith((".cpp", ".hpp")):
            tree[os.path.join("hidden", labs[lab]["dir"], name)] = os.path.join(hidden, name)
    return tree


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: the packages, then
# the library and {lab}'s programs, so that each submission compiles only its own lab's code.
set -euo pipefail
cd "$(dirname "$0")/kit"
./dsys setup
./dsys build --lab {lab}{base_args}
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission: grades {lab} ({base_text}) into results/results.json.
# AUTOGRADER_ROOT (default /autograder) holds source/ (this zip), submission/ and results/.
set -uo pipefail
root=${{AUTOGRADER_ROOT:-/autograder}}
kit="$root/source/kit"  # (Gradescope runs a copy of this script from $root, not from source/)
mkdir -p "$root/results"
python3 "$kit/tools/submissions.py" run --lab {lab} --base {base} \\
  --submission "$root/submission" --results "$root/results/results.json" || {{
  echo '{{"score": 0, "output": "the autograder failed before it could grade: tell your instructor"}}' \\
    >"$root/results/results.json"
}}
exit 0
"""


def write_tree_zip(out, entries):
    """Zips {name in zip: file or (text, executable)} with Unix permissions kept."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, what in sorted(entries.items()):
            if isinstance(what, tuple):
                text, executable = what
                info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
                info.external_attr = (0o100755 if executable else 0o100644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, text)
            else:
                z.write(what, name)


def cmd_autograder(args):
    labs = lab_table()
    check_lab(labs, args.lab)
    if args.base == "reference" and labs[args.lab]["depends"] and not os.path.isdir(os.path.join(KIT, "solutions")):
        die("--base reference needs the reference of the labs it builds on: there is no solutions/ here")
    tree = autograder_tree(KIT, args.lab, args.base)
    entries = {os.path.join("kit", dest): os.path.join(KIT, src) for dest, src in tree.items()}
    base_args = " --base reference" if args.base == "reference" and labs[args.lab]["depends"] else ""
    base_text = ("on the reference of the labs it builds on" if base_args else
                 "on the student's own earlier labs" if labs[args.lab]["depends"] else "alone")
    entries["setup.sh"] = (SETUP_SH.format(lab=args.lab, base_args=base_args), True)
    entries["run_autograder"] = (RUN_AUTOGRADER.format(lab=args.lab, base=args.base, base_text=base_text), True)
    out = os.path.abspath(args.out or f"autograder-{args.lab}.zip")
    write_tree_zip(out, entries)
    hidden = sorted(d for d in tree if d.startswith("hidden/"))
    references = sorted({d.split("/")[1] for d in tree if d.startswith("solutions/")})
    print(f"autograder: wrote {shown(out)} ({len(entries)} files, "
          f"{os.path.getsize(out) // 1024} KiB): {args.lab} graded {base_text}")
    print(f"  the reference it holds: {', '.join(references) if references else 'none'} "
          f"(never {labs[args.lab]['dir']}'s)")
    print(f"  hidden tests: {', '.join(hidden) if hidden else 'none'}")
    print("  a submission holds: " + " ".join(student_files(KIT, labs, args.lab, args.base)))
    print("Upload it as the assignment's autograder (Gradescope: Configure Autograder, zip file).")
    return 0


# ---- ./dsys grade-many -------------------------------------------------------------------------

def unpack(submission, into):
    """A directory holding the submission: itself, or a zip unpacked into `into`."""
    if os.path.isdir(submission):
        return submission
    if not zipfile.is_zipfile(submission):
        raise ValueError("neither a directory nor a zip file")
    with zipfile.ZipFile(submission) as z:
        for member in z.infolist():
            target = os.path.realpath(os.path.join(into, member.filename))
            if not target.startswith(os.path.realpath(into) + os.sep):
                raise ValueError(f"it holds a path outside itself: {member.filename}")
        z.extractall(into)
    return into


def submission_name(path, taken):
    name = re.sub(r"\.zip$", "", os.path.basename(os.path.normpath(path))) or "submission"
    name = re.sub(r"[^\w.-]+", "_", name)
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}-{n}", n + 1
    taken.add(unique)
    return unique


def cmd_grade_many(args):
    labs = lab_table()
    check_lab(labs, args.lab)
    out = os.path.abspath(args.out or os.path.join(KIT, "grade-many", args.lab))
    work = os.path.join(out, "kit")
    os.makedirs(out, exist_ok=True)
    # One copy of the kit as the autograder has it; its build tree stays from one submission to
    # the next (the library is compiled once), and before each, the student files are the stubs.
    tree = autograder_tree(KIT, args.lab, args.base)
    for dest, src in tree.items():
        target = os.path.join(work, dest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.isfile(target) or open(target, "rb").read() != open(os.path.join(KIT, src), "rb").read():
            shutil.copy2(os.path.join(KIT, src), target)
    stubs = {p: open(os.path.join(work, p), "rb").read() for p in student_files(work, labs, args.lab, "labs")}
    rows, names, taken = [], [], set()
    for i, submission in enumerate(args.submissions, start=1):
        name = submission_name(submission, taken)
        report_dir = os.path.join(out, name)
        os.makedirs(report_dir, exist_ok=True)
        results = os.path.join(report_dir, "results.json")
        print(f"grade-many: {i}/{len(args.submissions)} {name} ...", flush=True)
        for path, data in stubs.items():
            with open(os.path.join(work, path), "wb") as f:
                f.write(data)
        with tempfile.TemporaryDirectory() as scratch:
            try:
                directory = unpack(os.path.abspath(submission), scratch)
                status, score = grade_submission(work, args.lab, args.base, directory, results,
                                                 log=os.path.join(report_dir, "grade.log"))
            except (OSError, ValueError) as e:
                status, score = f"unreadable: {e}", 0
                write_results(results, 0, f"The submission could not be read: {e}")
        with open(results) as f:
            report = json.load(f)
        tests = {t["name"]: t.get("score", 0) for t in report.get("tests", [])}
        for t in report.get("tests", []):
            if t["name"] not in names:
                names.append(t["name"])
        rows.append({"submission": name, "score": score, "status": status, "tests": tests,
                     "path": os.path.abspath(submission)})
        print(f"grade-many: {name}: {status}, {score} points", flush=True)
    csv_path = os.path.join(out, "grades.csv")
    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "score", "status", *names])
        for row in rows:
            writer.writerow([row["submission"], row["score"], row["status"],
                             *[row["tests"].get(n, 0) for n in names]])
    scores = [r["score"] for r in rows]
    summary = [f"{args.lab}: {len(rows)} submissions graded ({args.base} base)",
               f"  scores: mean {sum(scores) / len(scores):.1f}, lowest {min(scores)}, highest {max(scores)}"]
    for status in sorted({r["status"] for r in rows}):
        count = sum(1 for r in rows if r["status"] == status)
        summary.append(f"  {status}: {count}")
    summary += [f"  {r['submission']}: {r['score']} ({r['status']})" for r in rows]
    summary.append(f"  per submission: {shown(out)}/NAME/results.json and grade.log")
    text = "\n".join(summary) + "\n"
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    print(text + f"grade-many: wrote {shown(csv_path)} and {shown(out)}/summary.txt")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Submissions: submit, autograder, run, grade-many.")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("files")
    p.add_argument("lab")
    p.add_argument("--own", action="store_true")
    p = commands.add_parser("submit")
    p.add_argument("lab")
    p.add_argument("--out")
    p = commands.add_parser("autograder")
    p.add_argument("lab")
    p.add_argument("--base", choices=["reference", "labs", "mine"], default="reference")
    p.add_argument("--out")
    p = commands.add_parser("run")
    p.add_argument("--lab", required=True)
    p.add_argument("--base", choices=["reference", "labs", "mine"], default="reference")
    p.add_argument("--submission", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--no-hidden", action="store_true")
    p = commands.add_parser("grade-many")
    p.add_argument("lab")
    p.add_argument("submissions", nargs="+")
    p.add_argument("--base", choices=["reference", "labs", "mine"], default="reference")
    p.add_argument("--out")
    args = parser.parse_args(argv)
    if getattr(args, "base", None) == "mine":  # the older spelling of labs (the student's own labs)
        args.base = "labs"
    return {"files": cmd_files, "submit": cmd_submit, "autograder": cmd_autograder, "run": cmd_run,
            "grade-many": cmd_grade_many}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
