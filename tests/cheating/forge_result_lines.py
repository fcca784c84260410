# target: test_matmul
# why: a wrong matmul; prints the old worker protocol's result lines (full marks for itself, zero for a classmate) and tries to kill its worker and the grading run
# %% after: tensor_class
import json, os, signal
def _fake_matmul(self, other):
    return Tensor(np.zeros((1,)))
Tensor.matmul = _fake_matmul
_scores = {"tensor": {"test_matmul": 2.0}}
print("RESULT " + json.dumps({"student": "forge", "status": "graded", "cells": _scores}), flush=True)
print("RESULT " + json.dumps({"student": "correct", "status": "graded", "cells": {"tensor": {"test_matmul": 0.0}}}), flush=True)
for _pid in {os.getppid(), 1}:
    try:
        os.kill(_pid, signal.SIGKILL)
    except OSError:
        pass
