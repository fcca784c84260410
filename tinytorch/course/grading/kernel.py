"""The Python kernel that runs a learner's notebook under the autograder.

nbgrader starts it through the `tinytorch-grader` kernelspec (prepare.py) and the sandbox
launcher (sandbox.py), which runs it inside bubblewrap as described by the GuardPolicy
(policy.py): that is the first layer. This file is the second: a plain IPython kernel with guard
rails, set up before any learner code runs:

* resource limits: address space (a huge allocation raises MemoryError), CPU seconds, file size;
* an audit hook that refuses to open the instructor's files (solutions, hidden tests, the
  gradebook, other learners' work, any .ipynb including the one being graded) and to start
  processes, so expected values can't be read from disk;
* `sys.path` starts with the reference package made for this notebook: the modules it depends
  on, and a stub that refuses to import for each module it exports;
* while a test cell runs, walking the interpreter's objects (`gc`), other threads' frames and
  `ctypes` are refused;
* before each graded test cell: functions of numpy / math / operator / builtins that learner
  code replaced are put back (and the learner is told), NumPy's comparison helpers become strict
  (no object arrays), every comparison and `assert` in the test only accepts plain values
  (numbers, strings, tuples, NumPy arrays: an object whose `__eq__` always says True fails), and
  the test's source is removed from the kernel's input history;
* after each test cell: a replacement made *while* the test ran is recorded as a violation
  (the grading pipeline then scores that test zero);
* output is capped per cell; a cell that ignores the timeout interrupt makes the kernel exit, and
  cells named in `skip` (they stopped the kernel on an earlier attempt) raise instead of running.

Every event goes, one JSON object per line, to the `events` file the pipeline reads afterwards.
This file is run as a script (`python kernel.py -f CONNECTION_FILE`), not imported from
the tinytorch package: the kernel must not import the instructor's `tinytorch` before its
`sys.path` points at the reference copy, and inside the sandbox it is the only file of the
course tooling there is. Its configuration is the JSON file named by TINYTORCH_GRADER_CONFIG
(GuardPolicy.kernel_config).
"""
import ast
import builtins
import hashlib
import json
import os
import sys
import threading
import time

CONFIG_ENV = "TINYTORCH_GRADER_CONFIG"
# Modules whose functions tests rely on; learner code must not be able to replace them.
GUARDED_MODULES = ("numpy", "numpy.testing", "numpy.testing._private.utils", "numpy.linalg", "math", "operator",
                   "builtins")
# Names under which test cells use those modules: a notebook must not rebind them to a lenient proxy.
MODULE_ALIASES = {"np": "numpy", "numpy": "numpy", "math": "math", "operator": "operator"}
# NumPy helpers that become strict (numeric arrays only) while a test cell runs.
STRICT_NUMPY = ("allclose", "isclose", "array_equal", "array_equiv")
STRICT_TESTING = ("assert_allclose", "assert_array_equal", "assert_array_almost_equal", "assert_almost_equal",
                  "assert_equal", "assert_array_less", "assert_approx_equal", "assert_array_max_ulp")
GUARD_NAME = "__tinytorch_autograder__"
COMPARE_NAME, CHAIN_NAME, TRUTH_NAME = "__tinytorch_compare__", "__tinytorch_chain__", "__tinytorch_truth__"
HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: classes written in Python (a learner's) have it, C types don't
# Builtins that IPython and ipykernel themselves swap (output cache, input forwarding): not the learner's doing.
KERNEL_MANAGED = {"_", "__", "___", "input", "raw_input", "getpass", "display", "get_ipython", "exit", "quit"}
# /proc entries of another process that would let a notebook read the grader's memory, files or settings.
PROC_SECRETS = {"mem", "environ", "cwd", "root", "fd", "map_files", "maps", "cmdline"}


class IntegrityError(AssertionError):
    "A test met a value or a change of the environment that the autograder does not accept."


# --------------------------------------------------------------------------- limits and files
def die_with_parent():
    "Linux: stop when the process that started us dies (a killed grading run leaves no kernels behind)."
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def apply_limits(cfg):
    import resource
    for name, key in (("RLIMIT_AS", "memory_limit_bytes"), ("RLIMIT_CPU", "cpu_limit_seconds"),
                      ("RLIMIT_FSIZE", "file_size_limit_bytes")):
        value = cfg.get(key)
        if value:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))


class FileGuard:
    "Decides which paths the kernel may open, list or change."

    def __init__(self, cfg):
        norm = lambda paths: [os.path.realpath(p) for p in paths if p]
        self.hard_deny = norm(cfg.get("hard_deny", []))
        self.allow = norm(cfg.get("allow", []) + [sys.prefix, sys.base_prefix, sys.exec_prefix, os.getcwd()])
        self.deny = norm(cfg.get("deny", []))
        self.pid = str(os.getpid())

    @staticmethod
    def _inside(path, roots):
        return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

    def denied(self, path) -> bool:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            return False  # a file descriptor: opened earlier, already checked
        real = os.path.realpath(path)
        if real.endswith(".ipynb") or self._inside(real, self.hard_deny):
            return True
        parts = real.split(os.sep)
        if len(parts) > 3 and parts[1] == "proc" and parts[3] in PROC_SECRETS and parts[2] not in (self.pid, "self"):
            return True
        if real.startswith("/proc/") and real.endswith("/mem"):
            return True
        if self._inside(real, self.allow):
            return False
        return self._inside(real, self.deny)


PATH_EVENTS = {"open", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.rmdir", "os.truncate",
               "os.chmod", "os.chown", "os.utime", "os.mkdir", "shutil.rmtree", "shutil.copyfile",
               "shutil.copytree", "shutil.move", "sqlite3.connect", "os.symlink", "os.link"}
PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "os.startfile", "pty.spawn"}
# Ways to look for a running test's values outside the learner's own objects; no test needs them.
INTROSPECTION_EVENTS = {"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames"}


# Numba compiles a learner's kernel (modules/03_optimizers/fused.ipynb) on its first call, inside the test,
# and LLVM's Python binding calls ctypes to do it: ctypes events from there are the compiler's, not the learner's.
# (A learner could fake a code object's file name to look like the compiler; the OS sandbox is the boundary that
# holds, and cells judged by tinytorch.checks have no expected value in this process to find.)


def _from_the_compiler() -> bool:
    "Whether the code raising this event is Numba's or llvmlite's own (the frames right above the audit hook)."
    frame = sys._getframe(2)
    for _ in range(3):
        if frame is None:
            return False
        filename = os.path.realpath(frame.f_code.co_filename)
        if any(filename.startswith(d + os.sep) for d in _compiler_dirs()):
            return True
        frame = frame.f_back
    return False


def _compiler_dirs():
    dirs = []
    for name in ("llvmlite", "numba"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            dirs.append(os.path.realpath(os.path.dirname(module.__file__)))
    return dirs


def install_audit_hook(guard: FileGuard, log, in_cell=lambda: True, in_test=lambda: False):
    def hook(event, args):
        if event.startswith("ctypes.") and in_test() and _from_the_compiler():
            return
        if (event in INTROSPECTION_EVENTS or event.startswith("ctypes.")) and in_test():
            log({"event": "denied", "what": event, "in_cell": True})
            raise PermissionError(f"the autograder does not let code use {event} while a test runs")
        if event in PATH_EVENTS:
            paths = args[:2] if event in ("os.rename", "os.symlink", "os.link", "shutil.copyfile",
                                          "shutil.copytree", "shutil.move") else args[:1]
            for path in paths:
                if guard.denied(path):
                    log({"event": "denied", "what": event, "path": str(path), "in_cell": in_cell()})
                    raise PermissionError(f"the autograder does not let notebooks use {path!r} ({event})")
        elif event in PROCESS_EVENTS:
            log({"event": "denied", "what": event, "in_cell": in_cell()})
            raise PermissionError(f"the autograder does not let notebooks start processes ({event})")
    sys.addaudithook(hook)


# --------------------------------------------------------------------------- strict values
def _trusted(value, depth=0) -> bool:
    "True for plain values whose comparisons learner code cannot change."
    import numpy as np
    kind = type(value)
    if kind in (int, float, complex, bool, str, bytes, type(None), range, type(Ellipsis)):
        return True
    if kind is type:
        return True  # a class (compared by identity); its metaclass is exactly `type`
    if kind in (tuple, list, set, frozenset):
        return depth < 32 and all(_trusted(v, depth + 1) for v in value)
    if kind is dict:
        return depth < 32 and all(_trusted(k, depth + 1) and _trusted(v, depth + 1) for k, v in value.items())
    if kind is np.ndarray:
        return value.dtype.kind in "biufcmMUS"
    if isinstance(value, (np.generic, np.dtype)) and not kind.__flags__ & HEAPTYPE:
        return getattr(value, "dtype", value).kind not in "OV" if isinstance(value, np.generic) else True
    return False


def _describe(value) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def require_plain(*values):
    for value in values:
        if not _trusted(value):
            raise IntegrityError(
                f"the autograder only compares plain values (numbers, strings, tuples, lists, dicts, NumPy "
                f"arrays and dtypes); this test got a {_describe(value)} from your code. Return plain values "
                f"or tinytorch objects whose data are NumPy arrays.")


def _compare(op, left, right):
    import operator
    if op == "is":
        return left is right
    if op == "is not":
        return left is not right
    require_plain(left, right)
    if op == "in":
        return left in right
    if op == "not in":
        return left not in right
    return {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}[op](left, right)


def _chain(left, *links):
    "`a < b < c` with each operand evaluated once and in order, as Python does."
    for op, thunk in links:
        right = thunk()
        result = _compare(op, left, right)
        if not result:
            return result
        left = right
    return result


def _truth(value):
    require_plain(value)
    return value


OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
       ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}


class StrictComparisons(ast.NodeTransformer):
    "Rewrite every comparison and `assert` of a test cell to go through the strict helpers."

    def visit_Compare(self, node):
        self.generic_visit(node)
        ops = [OPS[type(op)] for op in node.ops]
        if all(op in ("is", "is not") for op in ops):
            return node
        if len(ops) == 1:
            args = [ast.Constant(ops[0]), node.left, node.comparators[0]]
            call = ast.Call(ast.Name(COMPARE_NAME, ast.Load()), args, [])
        else:
            no_args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                    kwarg=None, defaults=[])
            links = [ast.Tuple([ast.Constant(op), ast.Lambda(no_args, right)], ast.Load())
                     for op, right in zip(ops, node.comparators)]
            call = ast.Call(ast.Name(CHAIN_NAME, ast.Load()), [node.left, *links], [])
        return ast.copy_location(call, node)

    def visit_Assert(self, node):
        self.generic_visit(node)
        node.test = ast.copy_location(ast.Call(ast.Name(TRUTH_NAME, ast.Load()), [node.test], []), node.test)
        return node


def _strict_array_args(function):
    "A NumPy comparison helper that first turns its array arguments into plain numeric arrays."
    import functools

    import numpy as np

    @functools.wraps(function)
    def strict(*args, **kwargs):
        converted = []
        for i, arg in enumerate(args):
            if i < 2 and not _trusted(arg):  # one of the two values compared, and not a plain value
                array = np.asarray(arg)
                if array.dtype.kind in "OV":
                    raise IntegrityError(f"{function.__name__} got a {_describe(arg)} that is not a numeric "
                                         "array; the autograder compares numbers only")
                arg = array
            converted.append(arg)
        return function(*converted, **kwargs)
    strict.__tinytorch_strict__ = True
    return strict


# --------------------------------------------------------------------------- the guard
class Guard:
    def __init__(self, shell, cfg, log):
        self.shell, self.cfg, self.log = shell, cfg, log
        self.current_test = None
        self.running_since = None
        self.current_sha = None
        self.seen = {}
        self.skip = {f"{sha}:{n}": reason for sha, n, reason in cfg.get("skip", [])}
        self.modules = {}
        self.snapshots = {}
        import importlib
        for name in GUARDED_MODULES:
            module = importlib.import_module(name)
            self.modules[name] = module
            self.snapshots[name] = dict(vars(module))
        self.helpers = {GUARD_NAME: self, COMPARE_NAME: _compare, CHAIN_NAME: _chain, TRUTH_NAME: _truth}
        self.strict = self._strict_versions()
        self.output_limit = int(cfg.get("output_limit_chars", 0) or 0)
        self.output_used = 0

    def _strict_versions(self):
        strict = {}
        for module_name, names in (("numpy", STRICT_NUMPY), ("numpy.testing", STRICT_TESTING)):
            for name in names:
                original = self.snapshots[module_name].get(name)
                if original is not None:
                    strict[(module_name, name)] = _strict_array_args(original)
        return strict

    # -- environment -------------------------------------------------------------------
    def _install_helpers(self):
        for name, value in self.helpers.items():
            setattr(builtins, name, value)
            self.shell.user_ns.pop(name, None)

    def _restore(self):
        "Put back every guarded function that was replaced or deleted; return their names."
        replaced = []
        for name, module in self.modules.items():
            current = vars(module)
            for attr, original in self.snapshots[name].items():
                if current.get(attr, _MISSING) is not original:
                    if (name, attr) in self.strict and current.get(attr) is self.strict[(name, attr)]:
                        pass  # our own strict version, left from a test that raised
                    elif name == "builtins" and attr in KERNEL_MANAGED:
                        continue
                    else:
                        replaced.append(f"{name}.{attr}")
                    setattr(module, attr, original)
            if sys.modules.get(name) is not module:  # a proxy put in sys.modules: test cells' imports get it
                replaced.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
        for alias, name in MODULE_ALIASES.items():
            if alias in self.shell.user_ns and self.shell.user_ns[alias] is not self.modules[name]:
                replaced.append(f"the notebook's name {alias}")
                self.shell.user_ns[alias] = self.modules[name]
        return replaced

    def _install_strict(self):
        for (module_name, attr), function in self.strict.items():
            setattr(self.modules[module_name], attr, function)

    def _changes_during_test(self):
        changed = []
        for name, module in self.modules.items():
            current = vars(module)
            for attr, original in self.snapshots[name].items():
                expected = self.strict.get((name, attr), original)
                if name == "builtins" and attr in KERNEL_MANAGED:
                    continue
                if current.get(attr, _MISSING) is not expected:
                    changed.append(f"{name}.{attr}")
        for name, value in self.helpers.items():
            if getattr(builtins, name, None) is not value or name in self.shell.user_ns:
                changed.append(name)
        changed += [f"sys.modules[{name!r}]" for name, module in self.modules.items()
                    if sys.modules.get(name) is not module]
        changed += [f"the notebook's name {alias}" for alias, name in MODULE_ALIASES.items()
                    if alias in self.shell.user_ns and self.shell.user_ns[alias] is not self.modules[name]]
        return changed

    # -- IPython events --------------------------------------------------------------------
    def pre_run_cell(self, info):
        raw = info.raw_cell or ""
        self.current_sha = hashlib.sha1(raw.encode()).hexdigest()
        n = self.seen[self.current_sha] = self.seen.get(self.current_sha, 0) + 1
        self.current_key = f"{self.current_sha}:{n}"
        self.current_test = _test_id(raw)
        self.output_used = 0
        self.log({"event": "cell", "key": self.current_key, "test": self.current_test})
        if self.current_test:
            replaced = self._restore()
            if replaced:
                self.log({"event": "restored", "test": self.current_test, "names": replaced})
            self._install_helpers()
            self._install_strict()
        self.running_since = time.monotonic()

    def post_run_cell(self, result):
        self.running_since = None
        if self.current_test:
            changed = self._changes_during_test()
            if changed:
                self.log({"event": "violation", "test": self.current_test,
                          "what": "replaced while the test ran: " + ", ".join(sorted(set(changed)))})
            self._restore()
            self._install_helpers()
            self._scrub_history()
        self.log({"event": "done", "key": self.current_key})
        self.current_test = None

    def enter(self, test_id):
        "First statement of every test cell: fails the test if the guard did not see it start."
        callbacks = self.shell.events.callbacks
        intact = (self in self.shell.ast_transformers and self.pre_run_cell in callbacks["pre_run_cell"]
                  and self.post_run_cell in callbacks["post_run_cell"])
        if self.current_test != test_id or not intact:
            raise IntegrityError(f"the autograder's checks were switched off before {test_id} "
                                 "(by code in this notebook): the test is not graded")

    def _scrub_history(self):
        "Remove the test's source (it holds the hidden tests) from what later cells can read."
        history = self.shell.history_manager
        placeholder = "# (a graded test cell: its source is hidden from the notebook)"
        for store in (history.input_hist_parsed, history.input_hist_raw):
            if store:
                store[-1] = placeholder
        history._i00 = placeholder
        for name in ("_i", f"_i{self.shell.execution_count - 1}", f"_i{self.shell.execution_count}"):
            if name in self.shell.user_ns and isinstance(self.shell.user_ns[name], str) and \
                    _test_id(self.shell.user_ns[name]):
                self.shell.user_ns[name] = placeholder
        import linecache
        for filename, entry in list(linecache.cache.items()):
            lines = entry[2] if len(entry) > 2 else []
            if lines and _test_id(lines[0]):
                del linecache.cache[filename]

    # -- AST ---------------------------------------------------------------------------------
    def visit(self, node):
        "IPython AST transformer entry point (this object is registered in shell.ast_transformers)."
        reason = self.skip.get(getattr(self, "current_key", None))
        if reason:
            self.log({"event": "skipped", "key": self.current_key, "test": self.current_test})
            return ast.fix_missing_locations(ast.parse(f"raise RuntimeError({reason!r})"))
        if self.current_test:
            node = ast.fix_missing_locations(StrictComparisons().visit(node))
        return node

    # -- output cap and runaway cells -----------------------------------------------------------
    def cap_stream(self, stream):
        write = stream.write

        def capped_write(text):
            if not self.output_limit:
                return write(text)
            room = self.output_limit - self.output_used
            if room <= 0:
                return len(text)
            self.output_used += len(text)
            if len(text) > room:
                write(text[:room])
                write(f"\n[autograder: output of this cell cut at {self.output_limit} characters]\n")
                return len(text)
            return write(text)
        stream.write = capped_write

    def watch_runaway_cells(self):
        limit = float(self.cfg.get("cell_timeout", 60)) + float(self.cfg.get("interrupt_grace", 10))

        def watch():
            while True:
                time.sleep(0.5)
                started = self.running_since
                if started is not None and time.monotonic() - started > limit:
                    self.log({"event": "runaway", "key": self.current_key, "test": self.current_test})
                    os._exit(3)
        threading.Thread(target=watch, daemon=True, name="tinytorch-runaway-watch").start()


_MISSING = object()


def _test_id(source: str):
    "The grade id in a test cell's first line `__tinytorch_autograder__.enter(\"test_x\")`, else None."
    first = source.lstrip().split("\n", 1)[0]
    prefix = f"{GUARD_NAME}.enter("
    if first.startswith(prefix):
        return first[len(prefix):].split(")", 1)[0].strip("'\" ")
    return None


def test_marker(grade_id: str) -> str:
    "The line the pipeline puts first in each graded test cell (used by grade.py)."
    return f'{GUARD_NAME}.enter("{grade_id}")  # added by the autograder: integrity checks for this test'


# --------------------------------------------------------------------------- main
def main(argv):
    with open(os.environ[CONFIG_ENV]) as f:
        cfg = json.load(f)
    # One BLAS thread: deterministic sums, and several kernels can share the cores.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    events = open(cfg["events"], "a", buffering=1)

    def log(record):
        events.write(json.dumps(record) + "\n")

    die_with_parent()
    apply_limits(cfg)
    script_dir = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != script_dir]
    # The reference copy made for this notebook; a notebook without one gets no reference package at all.
    shadow = cfg.get("reference")
    if shadow:
        sys.path.insert(0, shadow)
    for name in list(sys.modules):
        if name == "tinytorch" or name.startswith("tinytorch."):
            del sys.modules[name]

    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    app.initialize(argv)
    shell = app.shell
    guard = Guard(shell, cfg, log)
    if shadow:  # ipykernel put the working folder first; the reference copy must win
        sys.path[:] = [shadow] + [p for p in sys.path if p != shadow]
    for stream in (sys.stdout, sys.stderr):
        guard.cap_stream(stream)
    shell.events.register("pre_run_cell", guard.pre_run_cell)
    shell.events.register("post_run_cell", guard.post_run_cell)
    shell.ast_transformers.append(guard)
    guard._install_helpers()
    guard.watch_runaway_cells()
    install_audit_hook(FileGuard(cfg), log, in_cell=lambda: guard.running_since is not None,
                       in_test=lambda: guard.running_since is not None and guard.current_test is not None)
    log({"event": "started", "pid": os.getpid()})
    app.start()


if __name__ == "__main__":
    main(sys.argv[1:])
