"""What every command of ./dsys shares: messages, the Debian packages, presets and flavours, the
build, and what CMake says of the labs (build/<preset>/labs.tsv).

The driver runs on Python 3.10 (Ubuntu 22.04, the autograder's) with the standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

import labs as manifest  # noqa: E402  (labs.json)


class Failure(Exception):
    """A command cannot go on: the message is printed as `dsys: MESSAGE`, and ./dsys exits 2."""


def say(text):
    print(f"\033[1m==> {text}\033[0m", file=sys.stderr, flush=True)


def die(text):
    raise Failure(text)


def jobs():
    return os.cpu_count() or 1


def shown(path):
    """`path` relative to the kit's top directory when inside it."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def has_solutions():
    return os.path.isdir(os.path.join(ROOT, "solutions"))


# ---- the packages ----------------------------------------------------------------------------

def distro():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("ID="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def packages():
    """(needed, optional) Debian packages. On Debian 12: Boost 1.81 (which replaces the default 1.74
    -dev packages) and g++ 12. On Ubuntu 22.04 (Gradescope's images): its Boost 1.74 and g++-12
    beside the default g++ 11, which ./dsys then configures with. The optional ones are not needed
    to build: without them, what needs them says it is skipped (chromium: the diagram's test in a
    real browser and ./dsys bench diagram; clang-format and clang-tidy: ./dsys check;
    iproute2 and nftables: ./dsys cluster, its network namespaces and real faults; etcd-server:
    ./dsys bench multipaxos's side-by-side etcd cluster)."""
    if distro() == "ubuntu":
        return (["libboost-dev", "libboost-serialization-dev", "libfmt-dev", "catch2", "libfuse3-dev",
                 "fuse3", "cmake", "make", "g++-12", "pkg-config", "python3"],
                ["iproute2", "nftables", "etcd-server"])
    return (["libboost1.81-dev", "libboost-serialization1.81-dev", "libfmt-dev", "catch2",
             "libfuse3-dev", "fuse3", "cmake", "make", "g++", "pkg-config", "python3"],
            ["chromium", "fonts-liberation", "clang-format", "clang-tidy", "iproute2", "nftables",
             "etcd-server"])


def missing(names):
    if not names:
        return []
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\n", *names],
                         capture_output=True, text=True)
    installed = {line.split()[0] for line in out.stdout.splitlines() if line.endswith("install ok installed")}
    return [n for n in names if n not in installed]


def setup():
    """Installs what is missing (as root); otherwise says how. Returns when every needed package
    is there."""
    needed, optional = packages()
    lacking, lacking_optional = missing(needed), missing(optional)
    root = os.geteuid() == 0
    if not lacking and (not lacking_optional or not root):
        say("setup: every package is installed")
        if lacking_optional:
            print(f"dsys setup: optional, not installed: {' '.join(lacking_optional)} "
                  f"(as root: apt-get install -y {' '.join(lacking_optional)})", file=sys.stderr)
        return
    if not root:
        print(f"dsys setup: these packages are missing: {' '.join(lacking + lacking_optional)}", file=sys.stderr)
        print(f"run as root:  apt-get update && apt-get install -y {' '.join(lacking + lacking_optional)}",
              file=sys.stderr)
        if distro() != "ubuntu":
            print("(libboost1.81-dev replaces the 1.74 Boost -dev packages, which apt removes)", file=sys.stderr)
        sys.exit(1)
    say(f"setup: installing {' '.join(lacking + lacking_optional)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")

    def apt(*args, check=True):
        done = subprocess.run(["apt-get", *args], env=env)
        if check and done.returncode != 0:
            die(f"apt-get {' '.join(args)} failed (exit status {done.returncode})")
        return done.returncode == 0

    apt("update", "-q")
    if distro() != "ubuntu":
        # The 1.81 packages conflict with the default (1.74) Boost -dev packages: remove those first.
        out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\n", "libboost*1.74-dev", "libboost-dev"],
                             capture_output=True, text=True)
        old = [line.split()[0] for line in out.stdout.splitlines() if line.endswith("install ok installed")]
        if old:
            say(f"setup: removing the conflicting Boost 1.74 packages: {' '.join(old)}")
            apt("remove", "-y", "-q", *old)
    apt("install", "-y", "-q", "--no-install-recommends", *needed)
    if optional and not apt("install", "-y", "-q", "--no-install-recommends", *optional, check=False):
        print(f"dsys setup: the optional packages {' '.join(optional)} could not be installed: "
              "what needs them is skipped", file=sys.stderr)
    say("setup: done")


def need_packages(install=False):
    """Every needed package is installed; with `install`, as ./dsys test and ./dsys demo do on a
    fresh machine, installs them first (as root; else setup says how and exits)."""
    if missing(packages()[0]):
        if install:
            setup()
        else:
            die("packages are missing: run ./dsys setup first")


# ---- presets and flavours --------------------------------------------------------------------

PRESETS = ("dev", "tsan", "release")
# The flavour of the labs a choice builds (docs/labs.md, "Flavours"):
#   labs            the student's (labs/), on the student's earlier labs (the default);
#   solutions       the reference (solutions/), on the reference of the earlier labs (--impl solutions);
#   base_reference  the student's, on the reference of the labs it builds on (--base reference).
# --base has one vocabulary, labs|reference; "mine", the autograder's older spelling of labs,
# stays accepted (zips made before it changed use it).
BASES = {"labs": "labs", "mine": "labs", "reference": "reference"}


def base_choice(text):
    if text not in BASES:
        raise argparse.ArgumentTypeError(f"unknown base '{text}' (labs, reference)")
    return BASES[text]


def add_preset(parser):
    parser.add_argument("--preset", choices=PRESETS, default="dev",
                        help="the build: dev (Debug + ASan + UBSan, default), tsan, release")


def add_flavour(parser, preset=True):
    if preset:
        add_preset(parser)
    parser.add_argument("--impl", choices=("labs", "solutions"),
                        help="solutions: every lab's code from solutions/ (the reference)")
    parser.add_argument("--base", type=base_choice, metavar="labs|reference",
                        help="reference: your code of LAB on the reference code of the labs it builds on")


def flavour(args):
    """(flavour, replay options) of --impl/--base: the flavour's name (None when neither is given)
    and the options that name it again (and the preset) in replay lines."""
    impl, base = getattr(args, "impl", None), getattr(args, "base", None)
    if (impl == "solutions" or base == "reference") and not has_solutions():
        die("there is no solutions/ in this copy")
    replay = []
    if impl == "solutions":
        if base == "reference":
            die("--impl solutions builds every lab from solutions/ already "
                "(--base reference builds labs/ on the reference of earlier labs)")
        chosen, replay = "solutions", ["--impl", "solutions"]
    elif base == "reference":
        chosen, replay = "base_reference", ["--base", "reference"]
    elif impl or base:
        chosen = "labs"
    else:
        chosen = None
    preset = getattr(args, "preset", "dev")
    if preset != "dev":
        replay += ["--preset", preset]
    return chosen, replay


# ---- configure and build ---------------------------------------------------------------------

def configure(preset):
    """Configures build/PRESET if it is not yet (or was, before labs.tsv)."""
    tree = os.path.join(ROOT, "build", preset)
    if os.path.isfile(os.path.join(tree, "CMakeCache.txt")) and os.path.isfile(os.path.join(tree, "labs.tsv")):
        return
    say(f"configure ({preset})")
    # The code needs g++ 12 (C++20 coroutines as the library uses them): where the default g++ is
    # older (Ubuntu 22.04's is 11), g++-12 beside it. CXX, when set, chooses instead.
    compiler = []
    if preset != "fuzz" and not os.environ.get("CXX") and shutil.which("g++-12"):
        version = subprocess.run(["g++", "-dumpversion"], capture_output=True, text=True).stdout.strip()
        major = version.split(".")[0]
        if not major.isdigit() or int(major) < 12:
            compiler = ["-DCMAKE_CXX_COMPILER=g++-12"]
    done = subprocess.run(["cmake", "--preset", preset, *compiler], cwd=ROOT, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        die(f"cmake --preset {preset} failed")


def build(preset, targets=(), quiet=False):
    """Builds TARGETS (everything when none) of build/PRESET. `quiet` leaves out the build tool's
    progress lines ("[ 42%] Building ..."), keeping warnings and errors. Dies when it fails."""
    need_packages()
    configure(preset)
    say(f"build ({preset}{': ' + ' '.join(targets) if targets else ''})")
    command = ["cmake", "--build", os.path.join("build", preset), "-j", str(jobs())]
    for target in targets:
        command += ["--target", target]
    if not quiet:
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            die("the build failed")
        return
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        if not line.startswith("["):
            sys.stdout.write(line)
    if process.wait() != 0:
        die("the build failed")


# ---- the labs, as CMake built them -----------------------------------------------------------

TSV_COLUMNS = ("lab", "flavour", "kind", "depends", "target", "program", "dir", "hidden_target",
               "hidden_program")


def lab_rows(preset):
    """build/PRESET/labs.tsv, brought up to date (cmake/labs.cmake): {(lab, flavour): row}, in
    order, each row a dict of TSV_COLUMNS ("-" columns as None)."""
    configure(preset)
    done = subprocess.run(["cmake", "--build", os.path.join("build", preset), "--target", "labs_tsv"],
                          cwd=ROOT, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        die(f"cmake failed on build/{preset}")
    rows = {}
    with open(os.path.join(ROOT, "build", preset, "labs.tsv")) as f:
        for line in f:
            values = [None if v == "-" else v for v in line.rstrip("\n").split("\t")]
            if len(values) == len(TSV_COLUMNS):
                row = dict(zip(TSV_COLUMNS, values))
                rows[(row["lab"], row["flavour"])] = row
    return rows


def kit_labs(rows):
    """The kit's labs that are here (released), in the manifest's order (not its own test lab)."""
    return [lab for (lab, chosen), row in rows.items() if chosen == "labs" and row["kind"] == "lab"]


def lab_row(rows, lab, chosen):
    """The row of `lab` in flavour `chosen`; dies, saying why, when there is none."""
    if (lab, "labs") not in rows:
        die(f"no lab '{lab}' (labs: {' '.join(kit_labs(rows))})")
    if (lab, chosen) not in rows:
        die(f"{lab} has no flavour '{chosen}' here")
    return rows[(lab, chosen)]


def lab_name(text):
    """lab3 from '3' or 'lab3' (argparse type)."""
    if not re.fullmatch(r"(lab)?[0-9a-z]+", text):
        raise argparse.ArgumentTypeError(f"'{text}' is no lab (e.g. 3, or lab3)")
    return text if text.startswith("lab") else f"lab{text}"


def load_manifest():
    try:
        return manifest.load(ROOT)
    except manifest.ManifestError as e:
        die(str(e))
