"""The `course` command: doctor (is this machine ready?), setup (build what lessons need), list (the exercises and
mistakes), grade (run notebooks in fresh processes and check every exercise). Also `python -m course_utils`."""
from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="PyTorch CNN course: check the machine, prepare "
                                     "the data, grade notebooks.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("doctor", help="check that this machine can run the course (exit 0 when it can)")
    commands.add_parser("setup", help="build and verify the dataset and the backbone now")
    commands.add_parser("list", help="every lesson's exercises and the mistake ids show_symptom can show")
    grade = commands.add_parser("grade", help="run notebooks in fresh processes and check every exercise",
                                description="Grade notebooks: each runs in its own fresh process, killed after "
                                "--timeout seconds; every exercise of its lesson is checked against the functions "
                                "it defines. Without a path: your own exercises/ and your progress.")
    grade.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="notebooks or folders of notebooks")
    grade.add_argument("--timeout", type=float, default=300, help="seconds per notebook (default 300)")
    grade.add_argument("--report", metavar="FILE", action="append", help="write the results as .json, .csv or "
                       ".xml (JUnit); repeat it for several formats from one run")
    grade.add_argument("--jobs", type=int, default=None, help="notebooks graded at once (default: CPU cores)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one `course` command; returns its exit code."""
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        from .doctor import run_doctor
        return run_doctor()
    if args.command == "setup":
        from ..prepare import prepare
        prepare()
        return 0
    if args.command == "list":
        from .listing import run_list
        return run_list()
    from .grade import run_grade
    return run_grade(args.notebooks, timeout=args.timeout, report=args.report, jobs=args.jobs)


if __name__ == "__main__":
    sys.exit(main())
