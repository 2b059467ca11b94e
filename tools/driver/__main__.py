"""./dsys: the one command of the kit (the launcher `dsys` runs `python3 tools/driver`).

One module per group of commands, each registering its parsers: kit (setup, build, handout,
check), grading (grade, explore, mutate, test), running (bench, demo, fuzz), yfs, cluster, course
(submit, autograder, grade-many, release). `./dsys help` is generated from those parsers.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from driver import cluster_commands, common, course, grading, kit, running, yfs  # noqa: E402

ENVIRONMENT = """\
Environment: DSYS_SEED (replay a simulated run), DSYS_RPC_LOSSY=N (lose/duplicate N % of real
messages), DSYS_RPC_COUNT=N (print RPC STATS every N calls), DSYS_TRACE_DIR (where traces go),
DSYS_IDLE_TIMEOUT_MS / DSYS_STALLED_TIMEOUT_MS (when a real node closes idle connections and
peers that stopped reading), DSYS_BREAKPOINT=NAME[@N] (a real node exits at a named crash point),
DSYS_BENCH_BRIEF=1 (a benchmark does a small fraction of its work), DSYS_YFS_ROOT (where ./dsys
yfs puts yfs1, yfs2 and yfs-logs; default the kit's top directory), DSYS_CLUSTER_DIR (where
./dsys cluster keeps its record and its programs' logs; default cluster-logs/)."""


class Parser(argparse.ArgumentParser):
    """Bad arguments: the usage, the error, and exit status 2 (as argparse), prefixed `dsys`."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"dsys: {message} (./dsys help)", file=sys.stderr)
        sys.exit(2)


def parser():
    top = Parser(prog="./dsys", description="The kit's one command.", add_help=False,
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for group in (kit, grading, running, yfs, cluster_commands, course):
        group.register(commands)
    p = commands.add_parser("help", help="this text; `./dsys help COMMAND`: that command's options")
    p.add_argument("topic", nargs="?", metavar="COMMAND")
    p.set_defaults(run=None)
    return top, commands


def help_text(commands):
    """Every command: its usage and what it does, from its parser."""
    lines = ["usage: ./dsys COMMAND [OPTIONS]   (./dsys help COMMAND: a command's options)", ""]
    def describe(p, summaries, name, indent):
        usage = p.format_usage().replace("usage: ", "", 1).replace(" [-h]", "").strip()
        lines.append(" " * indent + usage)
        text = p.description or next((a.help for a in summaries if a.dest == name), "") or ""
        lines.extend(" " * (indent + 4) + chunk for chunk in wrap(text, 96 - indent))

    for name, p in commands.choices.items():
        describe(p, commands._choices_actions, name, 2)
        for action in (a for a in p._actions if isinstance(a, argparse._SubParsersAction)):
            for child, child_parser in action.choices.items():
                describe(child_parser, action._choices_actions, child, 4)
    return "\n".join(lines + ["", ENVIRONMENT])


def wrap(text, width):
    import textwrap
    return textwrap.wrap(text, width) if text else []


def main(argv):
    os.chdir(common.ROOT)
    top, commands = parser()
    if not argv:
        print(help_text(commands))
        return 2
    if argv[0] in ("-h", "--help"):
        argv = ["help"]
    args = top.parse_args(argv)
    if args.command == "help":
        if args.topic:
            if args.topic not in commands.choices:
                print(f"dsys: no command '{args.topic}' (./dsys help)", file=sys.stderr)
                return 2
            commands.choices[args.topic].print_help()
        else:
            print(help_text(commands))
        return 0
    try:
        return args.run(args) or 0
    except common.Failure as e:
        print(f"dsys: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dsys: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
