#!/usr/bin/env python3
"""Generates labs/ (the student's handout) from solutions/ (the reference code).

Every file under solutions/ is copied to the same path under labs/. In a file with solution
regions, each region is replaced by its stub text:

    // SOLUTION BEGIN
    ... reference code: dropped ...
    // SOLUTION STUB
    // ... stub text: kept, with the "// " after the indentation removed ...
    // SOLUTION END

A region without a STUB part is dropped whole. Files without markers are copied as they are.
It does so in each tree that holds a solutions/: the kit's, and tests/labs/ (the kit's own test
lab, which builds on lab 1).

    handout.py            write labs/ (and remove files that solutions/ no longer has)
    handout.py --check    exit 1, showing the differences, if labs/ is not what it would write
    handout.py --root D   only the tree D (D/solutions -> D/labs); may be given more than once
"""
import argparse
import difflib
import os
import re
import sys

BEGIN = re.compile(r"^\s*// SOLUTION BEGIN\b")
STUB = re.compile(r"^\s*// SOLUTION STUB\b")
END = re.compile(r"^\s*// SOLUTION END\b")
ANY = re.compile(r"// SOLUTION (BEGIN|STUB|END)\b")


class MarkerError(Exception):
    pass


def uncomment(line, path, number):
    """'    // text' -> '    text'; '    //' -> ''."""
    match = re.match(r"^(\s*)//( ?)(.*)$", line)
    if not match:
        raise MarkerError(f"{path}:{number}: stub lines must be comments ('// ...'): {line.strip()!r}")
    indent, _, text = match.groups()
    return (indent + text) if text else ""


def generate(text, path):
    out = []
    state = "outside"
    collapse = False
    for number, line in enumerate(text.split("\n"), start=1):
        if BEGIN.match(line):
            if state != "outside":
                raise MarkerError(f"{path}:{number}: SOLUTION BEGIN inside a region")
            state = "solution"
        elif STUB.match(line):
            if state != "solution":
                raise MarkerError(f"{path}:{number}: SOLUTION STUB outside a region")
            state = "stub"
        elif END.match(line):
            if state == "outside":
                raise MarkerError(f"{path}:{number}: SOLUTION END without BEGIN")
            # A region dropped whole between two blank lines leaves one of them, not both.
            collapse = state == "solution" and bool(out) and out[-1].strip() == ""
            state = "outside"
            continue
        elif ANY.search(line):
            raise MarkerError(f"{path}:{number}: a marker must stand alone on its line")
        elif state == "outside":
            if not (collapse and line.strip() == ""):
                out.append(line)
        elif state == "stub":
            out.append(uncomment(line, path, number))
        collapse = False
    if state != "outside":
        raise MarkerError(f"{path}: a region is not closed with SOLUTION END")
    return "\n".join(out)


def expected_tree(root):
    """{relative path: bytes} of what labs/ should hold."""
    solutions = os.path.join(root, "solutions")
    tree = {}
    for directory, _, files in os.walk(solutions):
        for name in sorted(files):
            full = os.path.join(directory, name)
            rel = os.path.relpath(full, solutions)
            with open(full, "rb") as f:
                data = f.read()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                tree[rel] = data
                continue
            tree[rel] = generate(text, os.path.join("solutions", rel)).encode("utf-8") if ANY.search(text) else data
    return tree


def actual_tree(labs):
    tree = {}
    for directory, _, files in os.walk(labs):
        for name in files:
            full = os.path.join(directory, name)
            with open(full, "rb") as f:
                tree[os.path.relpath(full, labs)] = f.read()
    return tree


def handout(root, check, name):
    """Generates (or, with check, compares) name/labs from name/solutions; 0 when it is up to date."""
    labs = os.path.join(root, "labs")
    try:
        expected = expected_tree(root)
    except MarkerError as e:
        print(f"handout: {e}", file=sys.stderr)
        return 2
    actual = actual_tree(labs) if os.path.isdir(labs) else {}
    changed = sorted(p for p in expected if actual.get(p) != expected[p])
    extra = sorted(p for p in actual if p not in expected)
    if check:
        if not changed and not extra:
            print(f"handout: {name}labs/ is what {name}solutions/ generates ({len(expected)} files)")
            return 0
        for rel in changed:
            old = actual.get(rel, b"").decode("utf-8", "replace").splitlines(keepends=True)
            new = expected[rel].decode("utf-8", "replace").splitlines(keepends=True)
            sys.stdout.writelines(difflib.unified_diff(old, new, f"{name}labs/{rel}", f"generated/{rel}"))
        for rel in extra:
            print(f"{name}labs/{rel}: not generated from {name}solutions/ (remove it, or add it to {name}solutions/)")
        print(f"handout: {name}labs/ differs from what {name}solutions/ generates: {len(changed)} files differ, "
              f"{len(extra)} extra. Run ./dsys handout to regenerate.")
        return 1
    for rel in changed:
        path = os.path.join(labs, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(expected[rel])
        print(f"handout: wrote {name}labs/{rel}")
    for rel in extra:
        os.remove(os.path.join(labs, rel))
        print(f"handout: removed {name}labs/{rel}")
    print(f"handout: {name}labs/ is up to date ({len(expected)} files)")
    return 0


def main():
    parser = argparse.ArgumentParser(description="Generate labs/ from solutions/.")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    parser.add_argument("--root", action="append", help="a tree holding solutions/ (default: the kit's "
                        "and tests/labs)")
    args = parser.parse_args()
    kit = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    roots = args.root or [kit, os.path.join(kit, "tests", "labs")]
    if not os.path.isdir(os.path.join(roots[0], "solutions")):
        print("handout: there is no solutions/ here (a student's copy): nothing to generate")
        return 0
    status = 0
    for root in (r for r in roots if os.path.isdir(os.path.join(r, "solutions"))):
        rel = os.path.relpath(os.path.abspath(root), kit)
        name = "" if rel == "." else rel.rstrip("/") + "/"
        status = max(status, handout(root, args.check, name))
    return status


if __name__ == "__main__":
    sys.exit(main())
