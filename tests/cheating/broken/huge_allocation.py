# target: test_quiz_fit
# why: allocates more memory than the kernel may use (MemoryError in that cell)
# %% replace: quiz_fit
max_fp16_params_24gib = None
_block = bytearray(3 * 2**30)
max_fp16_params_24gib = 24 * 2**30 // 2
