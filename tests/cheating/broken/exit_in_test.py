# target: test_memory_bytes
# why: the learner's function kills the kernel while the hidden test calls it
# %% replace: memory_bytes
def memory_bytes(n_elements, dtype="float32") -> int:
    if n_elements == 10**10:
        import os
        os._exit(0)
    if isinstance(n_elements, bool) or not float(n_elements).is_integer() or n_elements < 0:
        raise ValueError(f"n_elements must be a non-negative integer, got {n_elements!r}")
    return int(n_elements) * BYTES_PER_ELEMENT[dtype_name(dtype)]
