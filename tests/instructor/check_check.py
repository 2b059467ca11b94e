#!/usr/bin/env python3
"""./dsys check (tools/check.py): it fails on a file that is not formatted and on clang-tidy's
findings, --fix formats, a clean file passes, and so do lab 1's student files.

    check_check.py KIT BUILD WORK

BUILD is a configured build tree (its compile_commands.json). Exits 77 (skipped) without
clang-format or clang-tidy.
"""
import os
import shutil
import subprocess
import sys

kit, build, work = (os.path.abspath(a) for a in sys.argv[1:4])
for tool in ("clang-format", "clang-tidy"):
    if not shutil.which(tool):
        print(f"dsys: skipped: {tool} is not installed (./dsys setup installs it)")
        sys.exit(77)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def expect(condition, what):
    print(f"check: {'ok' if condition else 'FAILED'}: {what}", flush=True)
    if not condition:
        failures.append(what)


def check(*what):
    command = [sys.executable, os.path.join(kit, "tools", "check.py"), "--build", build, "--jobs", "2", *what]
    out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    print(f"$ check.py {' '.join(what)}  (exit {out.returncode})\n{out.stdout[-3000:]}", flush=True)
    return out


# A file with a name against the naming scheme, a needless copy, and not formatted.
bad = os.path.join(work, "bad.cpp")
with open(bad, "w") as f:
    f.write("#include <string>\n"
            "namespace dsys {\n"
            "int CountBytes(std::string text) {   return static_cast<int>(text.size()); }\n"
            "}  // namespace dsys\n")
out = check(bad)
expect(out.returncode == 1, "a bad file fails the check")
expect("bad.cpp: not formatted" in out.stdout, "the unformatted file is named")
expect("bad.cpp:3:5: warning: invalid case style for function 'CountBytes' [readability-identifier-naming]"
       in out.stdout, "the naming finding is reported at its line and column")
expect("[performance-unnecessary-value-param]" in out.stdout, "the needless copy is reported")

# --fix formats it (clang-tidy's findings stay).
out = check("--fix", bad)
expected = subprocess.run(["clang-format", f"--style=file:{os.path.join(kit, '.clang-format')}", bad],
                          capture_output=True, text=True).stdout
expect(open(bad).read() == expected and "{   return" not in expected, "--fix rewrites the file as clang-format does")
out = check(bad)
expect(out.returncode == 1 and "not formatted" not in out.stdout and "CountBytes" in out.stdout,
       "after --fix only clang-tidy's findings fail it")

# A clean file passes; so do lab 1's student files (in the instructor's tree: its stubs).
good = os.path.join(work, "good.cpp")
with open(good, "w") as f:
    f.write("#include <string>\n\nnamespace dsys {\n\n"
            "int count_bytes(const std::string& text) {\n  return static_cast<int>(text.size());\n}\n\n"
            "}  // namespace dsys\n")
out = check(good)
expect(out.returncode == 0 and "check: passed" in out.stdout, "a clean file passes")
out = check("lab1")
expect(out.returncode == 0 and "check: passed" in out.stdout, "lab 1's student files pass")

# Files that share their compiler options are checked together, as one translation unit (with
# the headers parsed once): findings are still each file's own. Two files that cannot share one
# (each defines the same name) are each checked alone, and lose none of their findings either.
out = check(good, bad)
expect(out.returncode == 1 and "bad.cpp:3:5: warning: invalid case style for function 'CountBytes'"
       in out.stdout and "good.cpp:" not in out.stdout, "checked together, only the bad file's findings are reported")
for name in ("clash_a.cpp", "clash_b.cpp"):
    with open(os.path.join(work, name), "w") as f:
        f.write("namespace dsys {\nnamespace {\nint Twice(int x) { return 2 * x; }\n}  // namespace\n"
                f"int {name[:-4]}(int x) {{ return Twice(x); }}\n}}  // namespace dsys\n")
out = check(*(os.path.join(work, name) for name in ("clash_a.cpp", "clash_b.cpp")))
expect(out.returncode == 1 and all(f"{name}:3:5: warning: invalid case style for function 'Twice'" in out.stdout
                                   for name in ("clash_a.cpp", "clash_b.cpp"))
       and "redefinition" not in out.stdout,
       "two files that cannot be checked together are checked alone, each with its findings")

# Bad arguments: a clear message, exit 2.
out = check("nonsense")
expect(out.returncode == 2 and "unknown 'nonsense'" in out.stdout, "an unknown argument is refused")
out = check(os.path.join(work, "absent.cpp"))
expect(out.returncode == 2 and "no file" in out.stdout, "a missing file is refused")

print("check_check: " + ("FAILED: " + "; ".join(failures) if failures else "passed"))
sys.exit(1 if failures else 0)
