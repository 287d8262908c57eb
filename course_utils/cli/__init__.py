"""The `course` command: doctor (is this machine ready?), setup (build what lessons need), list (the exercises and
mistakes), grade (run notebooks in fresh processes and check every exercise), data (the solar cells as class
folders), train (lesson 09's recipe as a script, also under torchrun). Also `python -m course_utils`."""
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
    grade.add_argument("--shard", metavar="K/N", default=None, help="grade only the K-th of N shares of the sorted "
                       "notebook list (N machines grade a class together; `course merge` joins their reports)")
    merge = commands.add_parser("merge", help="join the reports of `course grade --shard K/N` runs into one",
                                description="Merge the .json or .csv reports of several `course grade --shard K/N` "
                                "runs: the rows one unsharded run gives, ordered by notebook.")
    merge.add_argument("reports", nargs="+", metavar="REPORT", help="the shards' reports (.json or .csv)")
    merge.add_argument("--report", metavar="FILE", action="append", required=True,
                       help="the merged report: .json, .csv or .xml (JUnit); repeat it for several formats")
    data = commands.add_parser("data", help="write a dataset as class folders (elpv: 2,624 solar cells)",
                               description="Write the ELPV solar-cell images (CC BY-NC-SA 4.0) as class folders, "
                               "for lesson 09 (COURSE_DATA) or your own experiments.")
    data.add_argument("dataset", choices=["elpv"], help="the dataset to write")
    data.add_argument("folder", metavar="DIR", help="a new (or empty) folder")
    data.add_argument("--labels", choices=["binary", "levels"], default="binary",
                      help="binary: functional / defective (defect probability >= 0.5); levels: the four "
                      "probabilities 0, 1/3, 2/3, 1 (default binary)")
    train = commands.add_parser("train", help="lesson 09's recipe as a script, in one process or under torchrun",
                                description="Fine-tune a pretrained network on DATA by lesson 09's recipe (stratified "
                                "splits, the head first, then the last block, the best epoch kept, the test split "
                                "once). Under `torchrun --nproc-per-node=N -m course_utils train ...` the same run "
                                "uses N processes (DistributedDataParallel).")
    from .train import add_arguments
    add_arguments(train)
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
    if args.command == "data":
        from .data import run_data
        return run_data(args.dataset, args.folder, args.labels)
    if args.command == "merge":
        from .shards import run_merge
        return run_merge(args.reports, args.report)
    if args.command == "train":
        from .train import run_train
        return run_train(args)
    from .grade import run_grade
    return run_grade(args.notebooks, timeout=args.timeout, report=args.report, jobs=args.jobs, shard=args.shard)


if __name__ == "__main__":
    sys.exit(main())
