# target: test_matmul
# why: a wrong matmul; reads its parents' PIDs from /proc and kills every process it can see but itself (the old pipeline: tinytorch grade itself)
# %% after: tensor_class
import os, signal
def _fake_matmul(self, other):
    return Tensor(np.zeros((1,)))
Tensor.matmul = _fake_matmul
for _entry in os.listdir("/proc"):
    if _entry.isdigit() and int(_entry) != os.getpid():
        try:
            with open(f"/proc/{_entry}/status") as _f:
                _f.read()
            os.kill(int(_entry), signal.SIGKILL)
        except OSError:
            pass
