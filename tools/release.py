#!/usr/bin/env python3
"""Releasing labs to students: ./dsys release LAB --to REPO.

    release.py LAB --to REPO [--message TEXT]

REPO is the handout repository that students clone and later pull from (a git repository; made
with `git init` when it does not exist). The release writes into it the kit as a student gets it,
and commits that as one commit. It follows the lab manifest (labs.json): it ships LAB, the labs
LAB builds on (its "depends", transitively), and the labs REPO already holds (released before),
and no other lab. A course can so release lab 7, which builds on nothing, without labs 1-6, or
the first lab of another track after lab 1:

  - the handout: everything git tracks here, without solutions/ (nor the hidden tests in it) and
    without labs/DIR of the labs not shipped (CMake leaves out a lab whose labs/DIR is absent,
    and every lab that builds on it);
  - files that the previous release had and this kit no longer has are removed from REPO.

A release never touches a student's work: students change only the files their labs'
STUDENT_FILES list, and a release changes those only when a lab first appears (its stubs) or
when the instructor edits a stub after releasing it. `git pull` in a student's clone merges the
new commit with theirs (docs/labs.md, "Releasing the next lab", step by step).
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import submissions  # noqa: E402  (the kit's files and its labs)
from submissions import die  # noqa: E402

KIT = submissions.KIT


def git(repo, *args, capture=True):
    result = subprocess.run(["git", "-C", repo, *args], capture_output=capture, text=True)
    if result.returncode != 0:
        die(f"git {' '.join(args)} in {repo} failed: {(result.stderr or '').strip()}")
    return result.stdout if capture else ""


def released_tree(kit, lab, had=()):
    """The kit-relative files of the handout that ships `lab`, the labs it builds on, and those
    whose labs/DIR is among `had` (the files of the last release), and the names of those labs."""
    labs = submissions.lab_table(kit)
    shipped = set(submissions.closure(labs, lab)) | {lab}
    shipped |= {name for name in labs
                if any(p.startswith(f"labs/{labs[name]['dir']}/") for p in had)}
    left_out = {labs[name]["dir"] for name in labs if name not in shipped}
    tree = []
    for path in submissions.kit_files(kit):
        parts = path.split("/")
        if parts[0] == "solutions":
            continue
        if parts[0] == "labs" and len(parts) > 1 and parts[1] in left_out:
            continue
        tree.append(path)
    return tree, [name for name in labs if name in shipped]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Release the handout up to a lab into a repository.")
    parser.add_argument("lab", help="the last lab released (lab1, lab2, ...)")
    parser.add_argument("--to", required=True, help="the handout repository (made if absent)")
    parser.add_argument("--message", help="the commit's message (default: 'Release LAB')")
    args = parser.parse_args(argv)

    labs = submissions.lab_table(KIT)
    if args.lab not in labs:
        die(f"no lab '{args.lab}' (labs: {' '.join(labs)})")
    if not os.path.isdir(os.path.join(KIT, "solutions")):
        die("./dsys release runs in the instructor's tree (the one with solutions/): this is a handout")
    repo = os.path.abspath(args.to)
    if os.path.realpath(repo).startswith(os.path.realpath(KIT) + os.sep) or os.path.realpath(repo) == os.path.realpath(KIT):
        die(f"the handout repository {repo} is inside this kit: give a directory outside it")
    if not os.path.exists(repo):
        os.makedirs(repo)
        git(repo, "init", "-q", "-b", "main")
        print(f"release: made a new handout repository {repo} (branch main)")
    elif not os.path.isdir(os.path.join(repo, ".git")):
        die(f"{repo} exists and is not a git repository: give the handout repository, or a new directory")
    if git(repo, "status", "--porcelain").strip():
        die(f"{repo} has uncommitted changes: commit or remove them first (a release is one commit)")

    had = [p for p in git(repo, "ls-files", "-z").split("\0") if p]
    tree, released = released_tree(KIT, args.lab, had)
    wanted = set(tree)
    # Remove what the last release had and this one does not; then copy this one's files.
    removed = sorted(p for p in had if p not in wanted)
    if removed:
        git(repo, "rm", "-q", "--", *removed)
    for path in tree:
        dest = os.path.join(repo, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(os.path.join(KIT, path), dest)
    git(repo, "add", "-A", "--", ".")
    changed = git(repo, "diff", "--cached", "--name-status")
    if not changed.strip():
        print(f"release: {repo} already holds this release ({', '.join(released)}): nothing to commit")
        return 0
    message = args.message or f"Release {args.lab}"
    # The instructor's git identity where git has one, else the release tool's.
    identity = []
    if subprocess.run(["git", "-C", repo, "config", "user.email"], capture_output=True).returncode != 0:
        identity = ["-c", "user.name=dsys release", "-c", "user.email=release@dsys.invalid"]
    subprocess.run(["git", *identity, "-C", repo, "commit", "-q", "-m", message], check=True)
    counts = {"A": 0, "M": 0, "D": 0}
    for line in changed.splitlines():
        kind = line.split("\t")[0][:1]
        counts[kind] = counts.get(kind, 0) + 1
    head = git(repo, "rev-parse", "--short", "HEAD").strip()
    print(f"release: {repo} at {head}, '{message}': labs {', '.join(released)}")
    print(f"  {counts['A']} files added, {counts['M']} changed, {counts['D']} removed "
          f"({len(tree)} files in the handout; no solutions/, no other lab)")
    print("Students with a clone of it: git pull (their work is merged with the release, not replaced).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
