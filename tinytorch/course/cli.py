"""The `tinytorch` command: what a learner (and the course scripts) run in a terminal.

    tinytorch student DEST        build the student tree from the instructor tree
    tinytorch publish DEST        the student tree as its own git repository (what Binder builds)
    tinytorch export              put your notebooks' code into your tinytorch package
    tinytorch test 03             run module 03's visible tests on your notebook
    tinytorch lab                 start JupyterLab on a student tree at module 01
    tinytorch modules             list the modules of the course
    tinytorch handin 03 --student ID          pack your notebooks into ID_03_name.zip for the LMS

  Instructors (the grading tree is an nbgrader course folder, ./grading by default):
    tinytorch release all                     student version of the modules in grading/release/
    tinytorch collect DOWNLOADS [--module 03] submissions from LMS downloads (zips, notebooks)
    tinytorch collect --exchange ROOT 03      submissions from an nbgrader exchange
    tinytorch grade 03 [--workers 2]          autograde, feedback HTML, grades CSV, summary
    tinytorch release-feedback 03 --exchange ROOT   feedback back to learners through the exchange
    tinytorch summary 03                      the summary table again
"""
import argparse
import sys
from pathlib import Path

from .layout import CourseError, find_root, list_modules


def _root(args) -> Path:
    return find_root(args.root or ".")


def cmd_student(args):
    from .student import build_student_tree
    dest = build_student_tree(_root(args), args.dest)
    print(f"Student tree written to {dest}")


def cmd_publish(args):
    from .publish import publish
    result = publish(_root(args), args.dest, url=args.repo_url, branch=args.branch, message=args.message)
    what = f"new commit {result.commit[:12]}" if result.changed else f"unchanged, still {result.commit[:12]}"
    print(f"Published to {result.dest}: {what} ({result.commits} commits; files {result.tree_bytes / 2**20:.1f} MiB, "
          f".git {result.git_bytes / 2**20:.1f} MiB). Push it with: git -C {result.dest} push")


def cmd_export(args):
    from .export import export_tree
    root = _root(args)
    export_tree(root)
    print(f"Exported {', '.join(m.id for m in list_modules(root))} into {root / 'tinytorch'}")


def cmd_test(args):
    from .check import check_module
    return 0 if check_module(_root(args), args.module) else 1


def cmd_lab(args):
    from .lab import start_lab
    return start_lab(_root(args), port=args.port, open_browser=not args.no_browser)


def cmd_modules(args):
    for module in list_modules(_root(args)):
        status = "" if module.notebook.is_file() else "  (notebook missing)"
        print(f"{module.id}  {module.notebook.relative_to(module.dir.parent.parent)}{status}")


def cmd_handin(args):
    from .handin import handin
    handin(_root(args), args.module, args.student, dest=args.out)


def _course_dir(args) -> Path:
    return Path(args.course_dir)


def cmd_release(args):
    from .release import release
    for folder in release(_root(args), args.module, _course_dir(args)):
        print(f"Released {folder.name} into {folder}")


def cmd_collect(args):
    from .collect import collect_downloads, collect_exchange
    from .layout import find_module
    root = _root(args)
    if args.exchange:
        if not args.module:
            raise CourseError("collecting from an exchange needs the module: "
                              "tinytorch collect --exchange ROOT --module 03")
        report = collect_exchange(_course_dir(args), find_module(root, args.module), args.exchange)
    elif args.source:
        only = find_module(root, args.module) if args.module else None
        report = collect_downloads(args.source, _course_dir(args), list_modules(root), only=only,
                                   id_pattern=args.id_pattern)
    else:
        raise CourseError("say where from: `tinytorch collect DOWNLOADS` or "
                          "`tinytorch collect --exchange ROOT --module 03`")
    print(report)


def cmd_grade(args):
    from .grading.grade import GradeOptions, grade
    from .grading.report import summary, write_csv
    from .layout import find_module
    root = _root(args)
    options = GradeOptions(workers=args.workers, cell_timeout=args.timeout, memory_limit_mb=args.memory_limit,
                           students=args.student or None, force=args.force, progress=not args.no_progress,
                           unsafe_no_sandbox=args.unsafe_no_sandbox)
    assignment = grade(root, find_module(root, args.module), _course_dir(args), options).assignment
    csv_path = write_csv(assignment, args.csv)
    print(summary(assignment))
    print(f"\nGrades: {csv_path}\nFeedback: {assignment.course / 'feedback'}/<learner>/{assignment.id}/")


def cmd_release_feedback(args):
    from .feedback_release import release_feedback
    from .layout import find_module
    print(release_feedback(_course_dir(args), find_module(_root(args), args.module), args.exchange))


def cmd_summary(args):
    from .grading.prepare import load
    from .grading.report import summary
    from .layout import find_module
    print(summary(load(find_module(_root(args), args.module), _course_dir(args))))  # never regenerates


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinytorch", description="The tinytorch course tools.")
    parser.add_argument("--root", help="the course folder (default: found from the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("student", help="build the student tree (solutions stripped, hidden tests removed)")
    p.add_argument("dest", help="a new, empty folder for the student tree")
    p.set_defaults(func=cmd_student)

    p = sub.add_parser("publish",
                       help="(instructors) the student tree as its own git repository, one commit per publish")
    p.add_argument("dest", help="a new folder, or the clone of the published repository")
    p.add_argument("--repo-url", help="where the published repository lives (default: student_repo in settings.ini)")
    p.add_argument("--branch", help="its branch (default: student_branch in settings.ini, else main)")
    p.add_argument("--message", help="the commit message")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("export", help="export your notebooks into your tinytorch package")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("test", help="run a module's visible tests on your notebook")
    p.add_argument("module", help="01, 1, tensor or 01_tensor")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("lab", help="start JupyterLab on a student tree, at module 01")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("modules", help="list the modules of the course")
    p.set_defaults(func=cmd_modules)

    p = sub.add_parser("handin", help="pack your notebooks into one zip named with your student id")
    p.add_argument("module", nargs="?", default="all", help="03, optimizers, ... or all (default)")
    p.add_argument("--student", required=True, help="your student id (as your course knows it)")
    p.add_argument("--out", help="folder for the zip (default: the course folder)")
    p.set_defaults(func=cmd_handin)

    def course_dir_option(p):
        p.add_argument("--course-dir", default="grading", help="the nbgrader course folder (default: ./grading)")

    p = sub.add_parser("release", help="(instructors) the student version of one or all modules")
    p.add_argument("module", nargs="?", default="all")
    course_dir_option(p)
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("collect", help="(instructors) collect submissions from LMS downloads or an nbgrader exchange")
    p.add_argument("source", nargs="?", help="a folder or zip of downloads")
    p.add_argument("--module", help="collect this module only (required with --exchange)")
    p.add_argument("--exchange", metavar="ROOT", help="an nbgrader exchange folder (c.Exchange.root)")
    p.add_argument("--id-pattern", help="regex with a group named id that finds the learner id in a file name")
    course_dir_option(p)
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("grade", help="(instructors) autograde a module's submissions, write feedback and grades")
    p.add_argument("module")
    course_dir_option(p)
    p.add_argument("--workers", type=int, default=2, help="submissions graded at the same time (default 2)")
    p.add_argument("--student", action="append", help="grade only this learner (repeatable)")
    p.add_argument("--force", action="store_true", help="grade again submissions that did not change")
    p.add_argument("--timeout", type=int, default=60, help="seconds a cell may run (default 60)")
    p.add_argument("--memory-limit", type=int, default=4096, help="MB of address space per kernel (default 4096)")
    p.add_argument("--csv", help="where to write the grades CSV (default: COURSE/grades-MODULE.csv)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade where bubblewrap can't run: learner code gets your rights (said in every result)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("release-feedback",
                       help="(instructors) a graded module's feedback to learners through an nbgrader exchange")
    p.add_argument("module")
    p.add_argument("--exchange", metavar="ROOT", required=True, help="the nbgrader exchange folder (c.Exchange.root)")
    course_dir_option(p)
    p.set_defaults(func=cmd_release_feedback)

    p = sub.add_parser("summary", help="(instructors) the summary table of a graded module")
    p.add_argument("module")
    course_dir_option(p)
    p.set_defaults(func=cmd_summary)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except CourseError as e:
        print(f"tinytorch: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
