#!/usr/bin/env python3
"""The lab manifest (labs.json at the kit's top; docs/labs.md, "The lab manifest"): what each lab
is, read here for every tool of the kit, as cmake/labs.cmake reads it for the build. Nothing else
says what a lab is.

    labs.py list                      the labs, in order, one per line
    labs.py get LAB FIELD             a field of LAB (a list: one item per line; true/false;
                                      checks.sweep_seeds: a field of a field)
    labs.py closure LAB               the labs LAB builds on, transitively, in order
    labs.py program-lab LAB PROGRAM   the lab whose PROGRAM LAB runs (its own, or the latest of
                                      the labs it builds on that has one); exit 1 if none has it
    labs.py check                     exit 1, saying why, if the manifest is inconsistent

The kit's own test lab (labx, tests/labs/labs.json) is read only where asked for
(`load(test_labs=True)`, and `--test-labs` here).
"""
import glob
import json
import os
import re
import sys

KIT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = "labs.json"
TEST_MANIFEST = os.path.join("tests", "labs", "labs.json")

# Every field of a lab, and the type of its value.
FIELDS = {"name": str, "dir": str, "track": str, "namespace": str, "depends": list, "programs": dict,
          "rerun": dict, "rerun_node": (str, type(None)), "replicated": bool, "scenario": bool,
          "points": int, "checks": dict}
CHECKS = {"sweep_seeds": int, "slow_seeds": int, "ci_mutants": list}


class ManifestError(Exception):
    pass


def _read(path, root, labs):
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise ManifestError(f"{path}: cannot be read ({e.strerror})")
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path}: not JSON: {e}")
    if not isinstance(data, dict) or not isinstance(data.get("labs"), list):
        raise ManifestError(f"{path}: a lab manifest is an object with a list 'labs'")
    for number, entry in enumerate(data["labs"], 1):
        where = f"{path}, lab {number}"
        if not isinstance(entry, dict):
            raise ManifestError(f"{where}: each lab is an object")
        for field, kind in FIELDS.items():
            if field not in entry or not isinstance(entry[field], kind) \
                    or (kind is int and isinstance(entry[field], bool)):
                kinds = kind if isinstance(kind, tuple) else (kind,)
                what = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
                raise ManifestError(f"{where}: '{field}' is missing or not a {what}")
        unknown = set(entry) - set(FIELDS)
        if unknown:
            raise ManifestError(f"{where}: unknown fields {', '.join(sorted(unknown))}")
        for field, kind in CHECKS.items():
            if not isinstance(entry["checks"].get(field), kind):
                raise ManifestError(f"{where}: 'checks' needs '{field}', a {kind.__name__}")
        for optional in ("ci_explore", "explore_runs"):
            runs = entry["checks"].get(optional, 0)
            if not isinstance(runs, int) or isinstance(runs, bool) or runs < 0:
                raise ManifestError(f"{where}: 'checks.{optional}' is a number of runs (0: none)")
        if entry["checks"].get("explore_runs", 0) and not entry.get("scenario"):
            raise ManifestError(f"{where}: 'checks.explore_runs' explores a [scenario] test: the lab "
                                "needs \"scenario\": true")
        name = entry["name"]
        if not re.fullmatch(r"lab[0-9a-z]+", name) or not re.fullmatch(r"[a-z0-9_]+", entry["dir"]):
            raise ManifestError(f"{where}: a lab's name is labN and its dir lower-case letters, digits and _")
        if name in labs:
            raise ManifestError(f"{where}: {name} is declared twice")
        if not re.fullmatch(r"dsys::[a-z0-9_]+", entry["namespace"]):
            raise ManifestError(f"{where}: namespace '{entry['namespace']}' is not dsys::NAME")
        for dep in entry["depends"]:
            if dep not in labs:
                raise ManifestError(f"{where}: {name} depends on {dep}, which is not declared before it")
        lab = dict(entry, root=root)
        labs[name] = lab
        for again, weight in entry["rerun"].items():
            if again not in closure(labs, name):
                raise ManifestError(f"{where}: {name} reruns {again}, which it does not build on")
            if not isinstance(weight, int) or weight <= 0:
                raise ManifestError(f"{where}: rerun {again}'s weight is a positive whole number of points")
        if bool(entry["rerun"]) != bool(entry["rerun_node"]):
            raise ManifestError(f"{where}: a lab that reruns others names the header of the node they run "
                                "over (rerun_node), and only such a lab")
        if sum(entry["rerun"].values()) >= entry["points"]:
            raise ManifestError(f"{where}: the reruns weigh all of {name}'s {entry['points']} points")
        for program, spec in entry["programs"].items():
            if not isinstance(spec, dict) or not isinstance(spec.get("source"), str):
                raise ManifestError(f"{where}: program {program} needs a 'source'")


def load(kit=KIT, test_labs=False):
    """{name: lab} in the manifest's order. Each lab is its entry, plus "root": the directory
    holding its labs/DIR and solutions/DIR. With test_labs, the kit's own test lab comes last.
    Raises ManifestError."""
    labs = {}
    _read(os.path.join(kit, MANIFEST), kit, labs)
    test_manifest = os.path.join(kit, TEST_MANIFEST)
    if test_labs and os.path.isfile(test_manifest):
        _read(test_manifest, os.path.dirname(test_manifest), labs)
    return labs


def load_or_die(kit=KIT, test_labs=False):
    try:
        return load(kit, test_labs)
    except ManifestError as e:
        print(f"dsys: {e}", file=sys.stderr)
        sys.exit(2)


def closure(labs, lab):
    """The labs `lab` builds on, transitively, in manifest order (not `lab` itself)."""
    seen = set()
    stack = list(labs[lab]["depends"])
    while stack:
        dep = stack.pop()
        if dep not in seen:
            seen.add(dep)
            stack.extend(labs[dep]["depends"])
    return [name for name in labs if name in seen]


def program_lab(labs, lab, program):
    """The lab whose `program` `lab` runs: its own, else the latest of those it builds on."""
    for name in reversed(closure(labs, lab) + [lab]):
        if program in labs[name]["programs"]:
            return name
    return None


def check(kit=KIT):
    """What is inconsistent in the manifest and the tree it describes: a list of sentences."""
    problems = []
    try:
        labs = load(kit, test_labs=True)
    except ManifestError as e:
        return [str(e)]
    for name, lab in labs.items():
        for program, spec in lab["programs"].items():
            if not os.path.isfile(os.path.join(kit, spec["source"])):
                problems.append(f"{name}: program {program}'s source {spec['source']} is not there")
        solutions = os.path.join(lab["root"], "solutions", lab["dir"])
        if os.path.isdir(solutions):
            for mutant in lab["checks"]["ci_mutants"]:
                if not os.path.isfile(os.path.join(solutions, "mutants", mutant + ".patch")):
                    problems.append(f"{name}: ci_mutants names {mutant}, which is not in "
                                    f"{os.path.relpath(solutions, kit)}/mutants/")
    problems += forward_references(labs, kit)
    problems += stale_mutants(labs, kit)
    return problems


def stale_mutants(labs, kit=KIT):
    """Each mutant of a lab's catalogue (solutions/DIR/mutants/*.patch) that no longer applies to
    the reference (./dsys mutate would stop at it): a sentence each."""
    import mutate  # (tools/mutate.py, which reads the manifest through this module)

    problems = []
    for name, lab in labs.items():
        reference = os.path.join(lab["root"], "solutions", lab["dir"])
        if not os.path.isdir(os.path.join(reference, "mutants")):
            continue
        for mutant, why in mutate.stale_mutants(reference, os.path.join(reference, "mutants")):
            problems.append(f"{os.path.relpath(mutant['path'], kit)}: no longer applies to the reference "
                            f"of {name} (refresh it): {why.splitlines()[0]}")
    return problems


def forward_references(labs, kit=KIT):
    """An earlier lab's tests know nothing of later labs (a lab that reruns them provides the node
    they run over: rerun_node): each place where a lab's tests name a lab declared after it."""
    problems = []
    order = list(labs)
    for i, name in enumerate(order):
        later = [re.compile(r"\b" + re.sub(r"(\d+)$", r" ?\1", other) + r"(?![0-9])", re.IGNORECASE)
                 for other in order[i + 1:] if re.search(r"\d$", other)]
        tests = os.path.join(labs[name]["root"], "labs", labs[name]["dir"], "tests")
        for path in sorted(glob.glob(os.path.join(tests, "*.cpp"))):
            with open(path) as f:
                for number, line in enumerate(f, start=1):
                    if any(p.search(line) for p in later):
                        problems.append(f"{os.path.relpath(path, kit)}:{number}: {name}'s tests name a "
                                        f"later lab: {line.strip()}")
    return problems


def main(argv):
    test_labs = "--test-labs" in argv
    argv = [a for a in argv if a != "--test-labs"]
    if not argv or argv[0] not in ("list", "get", "closure", "program-lab", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "check":
        problems = check()
        for p in problems:
            print(f"labs.json: {p}", file=sys.stderr)
        if not problems:
            print(f"labs.json: {len(load(KIT, test_labs=True))} labs agree with the tree (fields, order, "
                  "programs, mutants, no forward references)")
        return 1 if problems else 0
    labs = load_or_die(test_labs=test_labs)
    if argv[0] == "list":
        print("\n".join(labs))
        return 0
    wanted = {"get": 3, "closure": 2, "program-lab": 3}[argv[0]]
    if len(argv) != wanted:
        print(__doc__, file=sys.stderr)
        return 2
    lab = argv[1]
    if lab not in labs:
        print(f"dsys: no lab '{lab}' (labs: {' '.join(labs)})", file=sys.stderr)
        return 2
    if argv[0] == "closure":
        print("\n".join(closure(labs, lab)))
        return 0
    if argv[0] == "program-lab":
        owner = program_lab(labs, lab, argv[2])
        if owner:
            print(owner)
        return 0 if owner else 1
    value = labs[lab]
    for key in argv[2].split("."):  # checks.sweep_seeds
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        print(f"dsys: a lab has no field '{argv[2]}' (fields: {', '.join(FIELDS)}; "
              f"checks.{', checks.'.join(CHECKS)})", file=sys.stderr)
        return 2
    if isinstance(value, bool):
        print("true" if value else "false")
    elif isinstance(value, (list, dict)):
        print("\n".join(str(v) for v in value))
    else:
        print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
