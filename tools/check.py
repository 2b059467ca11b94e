#!/usr/bin/env python3
"""./dsys check: the repo's .clang-format and .clang-tidy on the kit's C++.

    check.py --build DIR [--fix] [--jobs N] [WHAT...]

WHAT names what is checked (default: library and reference in the instructor's tree, where the
students' files are generated from the reference and hold its stubs; students in a student's):
    library    src/, apps/main/ (the programs' shared mains) and the headers of include/ (through
               the files of src/ that include them)
    reference  solutions/ and the labs' given code (the instructor's tree only)
    students   the files students write: every released lab's STUDENT_FILES
    labN       the files students write for that lab only
    FILE       a .cpp or .hpp file (one outside the build: clang-tidy gives it the library's flags)
clang-format checks every file named; clang-tidy checks each .cpp among them with the compile
command of build DIR (its compile_commands.json), and the kit's headers those include (the .cpp
files that share their compiler options are checked together, as one translation unit: see
tidy_together). Every
finding is reported once, as FILE:LINE:COLUMN: warning: TEXT [check], and any finding fails the
check. --fix rewrites the files with clang-format (clang-tidy's findings are left to you).
"""
import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

KIT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(KIT, "tools"))
import submissions  # noqa: E402  (the labs and their STUDENT_FILES)
from submissions import die  # noqa: E402

FINDING = re.compile(r"^(/[^:]+):(\d+):(\d+): (warning|error): (.*)$")


def files_of(what):
    """The kit-relative C++ files (.cpp and .hpp) of one WHAT, sorted."""
    def tree(*patterns):
        found = set()
        for pattern in patterns:
            found.update(os.path.relpath(p, KIT) for p in glob.glob(os.path.join(KIT, pattern), recursive=True))
        return sorted(p for p in found if "/tests/" not in p and "/hidden/" not in p)

    labs = submissions.lab_table(KIT)
    if what == "library":
        return tree("src/**/*.cpp", "src/**/*.hpp", "include/**/*.hpp", "apps/main/*.cpp", "apps/main/*.hpp")
    if what == "reference":
        if not os.path.isdir(os.path.join(KIT, "solutions")):
            die("there is no solutions/ here (a student's kit): check library, students or a lab")
        # The reference of the files students write, and the code given with the labs (it lives
        # in labs/ alone: tools/handout.py).
        given = set()
        for lab in labs:
            directory = os.path.join("labs", labs[lab]["dir"])
            if os.path.isdir(os.path.join(KIT, "solutions", labs[lab]["dir"])):
                own = set(submissions.own_files(KIT, labs, lab))
                given.update(p for p in tree(f"{directory}/*.cpp", f"{directory}/*.hpp") if p not in own)
        return sorted(set(tree("solutions/*/*.cpp", "solutions/*/*.hpp")) | given)
    if what == "students":
        released = [lab for lab in labs if os.path.isdir(os.path.join(KIT, "labs", labs[lab]["dir"]))]
        return sorted({p for lab in released for p in submissions.own_files(KIT, labs, lab)})
    if what in labs:
        submissions.check_lab(labs, what)
        return submissions.own_files(KIT, labs, what)
    if what.endswith((".cpp", ".hpp")):
        if not os.path.isfile(what):
            die(f"no file {what}")
        path = os.path.relpath(os.path.realpath(what), KIT)
        return [path if not path.startswith("..") else os.path.realpath(what)]
    die(f"unknown '{what}': check library, reference, students or a lab ({' '.join(labs)})")
    return []


def check_format(paths, fix):
    """The files clang-format would change (after rewriting them, with fix)."""
    unformatted = []
    for path in paths:
        full = os.path.join(KIT, path)
        with open(full, "rb") as f:
            text = f.read()
        formatted = subprocess.run(["clang-format", f"--assume-filename={full}",
                                    f"--style=file:{os.path.join(KIT, '.clang-format')}"],
                                   input=text, capture_output=True, check=True).stdout
        if formatted != text:
            unformatted.append(path)
            if fix:
                with open(full, "wb") as f:
                    f.write(formatted)
    return unformatted


def compile_commands(build):
    """{absolute source file: its first compile command's entry} of build tree `build`."""
    database = os.path.join(build, "compile_commands.json")
    with open(database) as f:
        entries = json.load(f)
    first = {}
    for entry in entries:
        first.setdefault(os.path.realpath(os.path.join(entry["directory"], entry["file"])), entry)
    return first


def flags_of(entry):
    """The compiler options of a compile command, for clang-tidy: without the compiler, the source
    and the output, and without the precompiled header CMake has g++ include first (clang cannot
    read g++'s, and a file is checked with the includes it names itself)."""
    words = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    flags, skip = [], False
    for i, word in enumerate(words[1:], 1):  # (not the compiler)
        if skip:
            skip = False
        elif word in ("-o", "-c"):
            skip = True
        elif word == "-include" and i + 1 < len(words) and "cmake_pch" in words[i + 1]:
            skip = True
        elif word != "-Winvalid-pch" and not word.endswith(".cpp"):
            flags.append(word)
    return flags


def library_flags(commands):
    """The compiler options of a library file's compile command (for files outside the build)."""
    entry = commands.get(os.path.realpath(os.path.join(KIT, "src", "core", "address.cpp")))
    if entry is None:
        return ["-std=c++20", f"-I{os.path.join(KIT, 'include')}"]
    return flags_of(entry)


def run_tidy(build, source, flags, included=()):
    """clang-tidy on `source` with the compiler options `flags` (None: its compile command in
    build's database): (its findings in it, in the files `included` it includes and in the kit's
    headers it includes, as a set of lines, and whether clang-tidy succeeded)."""
    header_filter = "^(" + re.escape(os.path.realpath(KIT)) + "/(include|src|apps|solutions|labs)/" + "".join(
        "|" + re.escape(path) + "$" for path in included) + ")"
    # The compile commands are g++'s: clang ignores its warning options that it does not know,
    # and warnings stay warnings (the compiler's -Werror is g++'s business; clang-tidy's checks
    # are ours).
    command = ["clang-tidy", "-p", build, "--quiet", f"--config-file={os.path.join(KIT, '.clang-tidy')}",
               f"--header-filter={header_filter}",
               "--extra-arg=-Wno-unknown-warning-option", "--extra-arg=-Wno-error", source]
    if flags is not None:
        command += ["--", *flags, "-Wno-unknown-warning-option", "-Wno-error"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=KIT)
    found = set()
    lines = result.stdout.splitlines()
    for i, line in enumerate(lines):
        m = FINDING.match(line)
        if m:
            path = os.path.relpath(os.path.realpath(m.group(1)), KIT)
            path = path if not path.startswith("..") else os.path.realpath(m.group(1))
            found.add(f"{path}:{m.group(2)}:{m.group(3)}: {m.group(4)}: {m.group(5)}")
    if result.returncode != 0 and not found:
        found.add(f"{os.path.relpath(source, KIT)}: error: clang-tidy failed: "
                  f"{(result.stderr.strip().splitlines() or ['(no message)'])[-1]}")
    return found, result.returncode == 0


def tidy_one(build, source, fallback=None):
    """clang-tidy's findings in `source` and the kit's headers it includes: a set of lines, with
    the compiler options `fallback` (its compile command's, flags_of; else the library's)."""
    return run_tidy(build, source, fallback)[0]


def tidy_together(build, sources, flags):
    """clang-tidy's findings in `sources`, which share the compiler options `flags`, and the kit's
    headers they include. Most of clang-tidy's time on one file goes to the headers it includes
    (Boost's, the standard library's), so the files are checked together, as one translation unit
    that includes them all (in build/tidy/): the headers once for them all, not once each. Where
    they cannot share one (two files define the same name, say), each is checked alone."""
    if len(sources) == 1:
        return tidy_one(build, sources[0], flags)
    directory = os.path.join(build, "tidy")
    os.makedirs(directory, exist_ok=True)
    name = hashlib.sha1("\n".join(sources).encode()).hexdigest()[:16]
    unity = os.path.join(directory, f"together-{name}.cpp")
    with open(unity, "w") as f:
        f.write("// check.py: the files below, checked by clang-tidy together (tools/check.py)\n")
        f.writelines(f'#include "{source}"\n' for source in sources)
    found, succeeded = run_tidy(build, unity, flags, sources)
    if not succeeded:
        found = set()
        for source in sources:
            found |= tidy_one(build, source, flags)
    # (What it says of the file that includes them, such as its including .cpp files, is not ours.)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description="clang-format and clang-tidy on the kit's C++.")
    parser.add_argument("what", nargs="*")
    parser.add_argument("--build", required=True, help="a configured build tree (compile_commands.json)")
    parser.add_argument("--fix", action="store_true", help="rewrite unformatted files with clang-format")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-missing", action="store_true",
                        help="exit 77 (a skipped test) when clang-format or clang-tidy is missing, "
                             "unless CI=true")
    args = parser.parse_args(argv)
    for tool in ("clang-format", "clang-tidy"):
        if not shutil.which(tool):
            if args.skip_missing and os.environ.get("CI") != "true":
                print(f"dsys: skipped: {tool} is not installed (./dsys setup installs it)")
                return 77
            die(f"{tool} is not installed (as root: apt-get install -y clang-format clang-tidy)")

    whats = args.what or (["library", "reference"] if os.path.isdir(os.path.join(KIT, "solutions"))
                          else ["students"])
    paths = sorted({p for what in whats for p in files_of(what)})
    named_files = {p for what in whats if what.endswith((".cpp", ".hpp")) for p in files_of(what)}
    missing = [p for p in paths if not os.path.isfile(os.path.join(KIT, p))]
    if missing:
        die(f"missing: {' '.join(missing)}")
    print(f"check: {', '.join(whats)}: {len(paths)} files")

    unformatted = check_format(paths, args.fix)
    for path in unformatted:
        print(f"{path}: {'reformatted' if args.fix else 'not formatted as .clang-format says'}"
              f"{'' if args.fix else ' (./dsys check --fix rewrites it)'}")
    print(f"  clang-format: {len(paths) - len(unformatted)} of {len(paths)} files formatted"
          + (f", {len(unformatted)} rewritten" if args.fix and unformatted else ""))

    commands = compile_commands(os.path.abspath(args.build))
    sources = [p for p in paths if p.endswith(".cpp")]
    # A kit file that no target compiles is a mistake; a file named by itself gets the library's
    # flags when no target compiles it.
    uncompiled = [p for p in sources if os.path.realpath(os.path.join(KIT, p)) not in commands
                  and p not in named_files]
    for path in uncompiled:
        print(f"{path}: not in {os.path.relpath(args.build, KIT)}'s compile commands: not checked by clang-tidy")
    checked = [p for p in sources if p not in uncompiled]
    flags = library_flags(commands)

    # The files that share their compiler options are checked together (tidy_together).
    together = {}
    for path in checked:
        full = os.path.realpath(os.path.join(KIT, path))
        options = flags_of(commands[full]) if full in commands else flags
        together.setdefault(tuple(options), []).append(full)

    findings = set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for found in pool.map(lambda group: tidy_together(os.path.abspath(args.build), group[1], list(group[0])),
                              together.items()):
            findings |= found
    # A header's findings count where the header is named (or is in the library, always checked
    # through the files that include it).
    named = set(paths)
    def where(finding):  # (file, line, column)
        file, line, column = finding.split(":")[:3]
        return (file, int(line) if line.isdigit() else 0, int(column) if column.isdigit() else 0)

    shown = sorted((f for f in findings if f.split(":")[0] in named
                    or f.split(":")[0].startswith("include/") and "library" in whats), key=where)
    for finding in shown:
        print(finding)
    print(f"  clang-tidy: {len(checked)} files (and the headers they include), {len(shown)} findings")
    failed = (unformatted and not args.fix) or shown or uncompiled
    print("check: " + ("failed" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
