# target: test_memory_bytes, test_tensor_basics
# why: a wrong solution, and the test cell emptied so that nothing is checked
# %% replace: memory_bytes
def memory_bytes(n_elements, dtype="float32") -> int:
    return 0
# %% replace: test_memory_bytes
pass
