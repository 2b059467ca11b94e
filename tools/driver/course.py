"""./dsys submit, autograder, grade-many and release: what a student hands in, how it is graded,
and how the labs reach the students (tools/submissions.py, tools/release.py)."""
import os

from . import common
from .common import die

import release as release_tool  # noqa: E402  (tools/release.py)
import submissions as submissions_tool  # noqa: E402  (tools/submissions.py)


def instructors_only(command):
    if not common.has_solutions():
        die(f"./dsys {command} is for the instructor's tree (with solutions/)")


def cmd_submit(args):
    return submissions_tool.main(["submit", args.lab] + (["--out", os.path.abspath(args.out)] if args.out else []))


def cmd_autograder(args):
    instructors_only("autograder")
    return submissions_tool.main(["autograder", args.lab, "--base", args.base]
                                 + (["--out", os.path.abspath(args.out)] if args.out else []))


def cmd_grade_many(args):
    instructors_only("grade-many")
    for path in args.submissions:
        if not os.path.exists(path):
            die(f"no submission '{path}' (a zip or a directory)")
    return submissions_tool.main(["grade-many", args.lab, *[os.path.abspath(p) for p in args.submissions],
                                  "--base", args.base] + (["--out", os.path.abspath(args.out)] if args.out else []))


def cmd_release(args):
    instructors_only("release")
    if not args.to:
        die("--to needs a directory (the handout repository)")
    return release_tool.main([args.lab, "--to", os.path.abspath(args.to)]
                             + (["--message", args.message] if args.message is not None else []))


def register(commands):
    p = commands.add_parser(
        "submit", help="zip the files you write for LAB and the labs it builds on, for the autograder",
        description="Zip the files you write for LAB and the labs it builds on (each lab's "
                    "STUDENT_FILES), for the autograder, and list them.")
    p.add_argument("lab", metavar="LAB", type=common.lab_name)
    p.add_argument("--out", metavar="FILE.zip")
    p.set_defaults(run=cmd_submit)

    p = commands.add_parser(
        "autograder", help="(instructors) a Gradescope autograder zip for LAB",
        description="A Gradescope autograder zip for LAB (without LAB's reference): setup.sh, "
                    "run_autograder and the kit. --base reference (default) grades LAB on the "
                    "reference of the labs it builds on, labs on the student's own.")
    p.add_argument("lab", metavar="LAB", type=common.lab_name)
    p.add_argument("--base", type=common.base_choice, default="reference", metavar="reference|labs")
    p.add_argument("--out", metavar="FILE.zip")
    p.set_defaults(run=cmd_autograder)

    p = commands.add_parser(
        "grade-many", help="(instructors) grade many submissions as the autograder would",
        description="Grade many submissions (zips or directories) one at a time, as the autograder "
                    "would: grade-many/LAB/grades.csv and summary.txt.")
    p.add_argument("lab", metavar="LAB", type=common.lab_name)
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    p.add_argument("--base", type=common.base_choice, default="reference", metavar="reference|labs")
    p.add_argument("--out", metavar="DIR")
    p.set_defaults(run=cmd_grade_many)

    p = commands.add_parser(
        "release", help="(instructors) commit the handout with LAB into the students' repository",
        description="Commit the handout into REPO, the repository students clone and then git pull: "
                    "LAB, the labs it builds on and those released before (labs.json), no "
                    "solutions/ and no other lab.")
    p.add_argument("lab", metavar="LAB", type=common.lab_name)
    p.add_argument("--to", required=True, metavar="REPO")
    p.add_argument("--message", metavar="TEXT")
    p.set_defaults(run=cmd_release)
