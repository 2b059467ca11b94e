"""./dsys setup, build, handout and check: the kit itself."""
from . import common
from .common import ROOT, die

import check as check_tool  # noqa: E402  (tools/check.py)
import handout as handout_tool  # noqa: E402  (tools/handout.py)


def cmd_setup(args):
    common.setup()
    return 0


def cmd_build(args):
    chosen, _ = common.flavour(args)
    if args.lab:
        common.need_packages()
        rows = common.lab_rows(args.preset)
        row = common.lab_row(rows, args.lab, chosen or "labs")
        targets = [row["target"]] + ([row["hidden_target"]] if row["hidden_target"] else [])
        common.build(args.preset, targets)
    elif chosen:
        common.build(args.preset, [f"flavour_{chosen}"])
    else:
        common.build(args.preset)
    return 0


def cmd_handout(args):
    return handout_tool.main((["--check"] if args.check else []))


def cmd_check(args):
    for what in args.what:
        if what not in ("library", "reference", "students") and not what.startswith("lab") \
                and not what.endswith((".cpp", ".hpp")):
            die(f"unknown '{what}' (usage: ./dsys check [--fix] [library|reference|students|LAB|FILE]...)")
    common.need_packages()
    common.configure("dev")
    return check_tool.main(["--build", f"{ROOT}/build/dev", "--jobs", str(common.jobs())]
                           + (["--fix"] if args.fix else []) + args.what)


def register(commands):
    p = commands.add_parser("setup", help="install the Debian packages the kit needs (as root; "
                            "otherwise prints the command)")
    p.set_defaults(run=cmd_setup)

    p = commands.add_parser(
        "build", help="configure and build",
        description="Configure and build: dev (Debug + ASan + UBSan, default), tsan, release; one "
                    "tree per preset, the library compiled once. With --impl or --base, only that "
                    "flavour of the labs; with --lab, only that lab (its tests and programs).")
    common.add_flavour(p)
    p.add_argument("--lab", type=common.lab_name, help="only this lab (e.g. lab1)")
    p.set_defaults(run=cmd_build)

    p = commands.add_parser("handout", help="write the stubs of labs/ from solutions/ (--check: only compare)")
    p.add_argument("--check", action="store_true", help="only compare; exit 1 with a diff if labs/ differs")
    p.set_defaults(run=cmd_handout)

    p = commands.add_parser(
        "check", help="clang-format and clang-tidy on the library, solutions/ or students' files",
        description="clang-format and clang-tidy (.clang-format, .clang-tidy) on the library, "
                    "solutions/, the files students write, or one lab's (default: library and "
                    "reference with solutions/, else students); --fix formats files.")
    p.add_argument("what", nargs="*", metavar="library|reference|students|LAB|FILE")
    p.add_argument("--fix", action="store_true", help="rewrite unformatted files with clang-format")
    p.set_defaults(run=cmd_check)
