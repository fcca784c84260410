"""Checks for test cells: feedback for a learner in their kernel, plain values for the grader.

See docs/checks.md for the contract. In a notebook:

    from tinytorch.checks import Checks, use_notebook
    use_notebook("optimizers")            # once, in the notebook's imports cell
    ...
    check = Checks("test_sgd_plain", "SGD: the plain step")
    check.close("SGD(lr=0.1), one step", lambda: one_step(), expected=[0.9, -2.1])
    check.done()
"""
from .cell import CheckFailed, Checks, mode, use_notebook
from .judge import Verdict, judge
from .quiz import Slip

__all__ = ["Checks", "CheckFailed", "Slip", "Verdict", "judge", "mode", "use_notebook"]
