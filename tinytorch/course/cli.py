"""The `tinytorch` command: what a learner (and the course scripts) run in a terminal.

    tinytorch student DEST        build the student tree from the instructor tree
    tinytorch student --in-place  turn this checkout into the student tree (Binder)
    tinytorch export              put your notebooks' code into your tinytorch package
    tinytorch test 03             run module 03's visible tests on your notebook
    tinytorch lab                 start JupyterLab on a student tree at module 01
    tinytorch modules             list the modules of the course
"""
import argparse
import sys
from pathlib import Path

from .layout import CourseError, find_root, list_modules


def _root(args) -> Path:
    return find_root(args.root or ".")


def cmd_student(args):
    from .student import build_student_tree, convert_in_place
    root = _root(args)
    if args.in_place:
        if not args.yes:
            raise CourseError("--in-place deletes the solutions, tests and git history of this checkout; "
                              "add --yes if that is what you want (Binder's postBuild does)")
        convert_in_place(root)
        print(f"{root} is now a student tree.")
    elif args.dest:
        dest = build_student_tree(root, args.dest)
        print(f"Student tree written to {dest}")
    else:
        raise CourseError("say where: `tinytorch student DEST` or `tinytorch student --in-place --yes`")


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinytorch", description="The tinytorch course tools.")
    parser.add_argument("--root", help="the course folder (default: found from the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("student", help="build the student tree (solutions stripped, hidden tests removed)")
    p.add_argument("dest", nargs="?", help="a new, empty folder for the student tree")
    p.add_argument("--in-place", action="store_true", help="convert this checkout itself (Binder)")
    p.add_argument("--yes", action="store_true", help="confirm --in-place")
    p.set_defaults(func=cmd_student)

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
