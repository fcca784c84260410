"""A static look at the learner's code for things honest solutions don't need (replacing library
functions, reading frames or the kernel's history, touching the autograder). It flags the
submission for the instructor's review (the CSV's flags column); it never changes a score.
"""
import ast

from ..notebooks import nbgrader_meta
from .kernel import GUARD_NAME

# --------------------------------------------------------------------------- static scan
SUSPICIOUS_MODULES = {"inspect": "inspects frames or source", "gc": "walks the interpreter's objects",
                      "ctypes": "pokes at memory", "importlib": "reloads or imports by name",
                      "linecache": "reads cached source", "builtins": "changes builtins",
                      "subprocess": "starts processes", "unittest.mock": "fakes objects",
                      "traceback": "inspects frames"}
SUSPICIOUS_NAMES = {"get_ipython": "reaches into the kernel", "In": "reads the input history",
                    "_ih": "reads the input history", "Out": "reads the output history",
                    "_oh": "reads the output history", "__builtins__": "changes builtins",
                    "exec": "runs code from a string", "eval": "evaluates code from a string",
                    "__import__": "imports by name", "globals": "rewrites the namespace",
                    GUARD_NAME: "touches the autograder"}
SUSPICIOUS_ATTRS = {"_getframe": "reads the caller's frame", "f_back": "reads the caller's frame",
                    "f_locals": "reads another frame's variables", "f_globals": "reads another frame's globals",
                    "tb_frame": "reads a frame", "gi_frame": "reads a frame", "modules": "touches sys.modules",
                    "settrace": "traces execution", "setprofile": "traces execution",
                    "__code__": "reads or swaps compiled code", "co_consts": "reads compiled constants"}
LIBRARY_ROOTS = {"np", "numpy", "math", "operator", "builtins", "torch", "unittest", "random", "sys"}
COMPARISON_DUNDERS = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__contains__"}


def _root_name(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _always_constant(func: ast.FunctionDef) -> bool:
    "A method whose body only returns a constant (e.g. `__eq__` returning True)."
    body = [s for s in func.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Constant)


def scan_source(source: str, graded_module: str = "") -> list[str]:
    "What a cell's code does that an honest solution doesn't need, one short reason per finding."
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # IPython magics or a syntax error: the kernel reports it, nothing to scan
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                for module, why in SUSPICIOUS_MODULES.items():
                    if name == module or name.startswith(module + "."):
                        found.append(f"imports {name} ({why})")
                if graded_module and name.startswith(f"tinytorch.{graded_module}"):
                    found.append(f"imports the reference tinytorch.{graded_module} (the module being graded)")
        elif isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES:
            found.append(f"uses {node.id} ({SUSPICIOUS_NAMES[node.id]})")
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRS:
            found.append(f"uses .{node.attr} ({SUSPICIOUS_ATTRS[node.attr]})")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and _root_name(target) in LIBRARY_ROOTS:
                    found.append(f"replaces {ast.unparse(target)} (a library function the tests use)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            if node.args and _root_name(node.args[0]) in LIBRARY_ROOTS:
                found.append(f"calls {node.func.id} on {ast.unparse(node.args[0])} (replaces a library function)")
        elif isinstance(node, ast.FunctionDef) and node.name in COMPARISON_DUNDERS and _always_constant(node):
            found.append(f"defines {node.name} that always returns the same answer")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            found.append("opens a file")
    return sorted(set(found))


def scan_cells(nb, graded_module: str = "") -> dict:
    "{cell label: [findings]} over the cells a learner wrote (everything but locked cells)."
    flags = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or nbgrader_meta(cell).get("locked"):
            continue
        findings = scan_source(cell.source, graded_module)
        if findings:
            flags[nbgrader_meta(cell).get("grade_id") or f"cell {index + 1}"] = findings
    return flags
