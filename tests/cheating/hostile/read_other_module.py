# target: none
# why: imports a later module's reference (module 03's optimizers, solutions included) and prints its source into its own feedback
# %% after: tensor_class
import inspect
for _name in ("tinytorch.core.optimizers", "tinytorch.core.autograd", "tinytorch.course.grading.grade"):
    try:
        _module = __import__(_name, fromlist=["x"])
        print("LEAKED", _name, inspect.getsource(_module)[:2000])
    except Exception as _e:
        print("refused:", _name, type(_e).__name__)
