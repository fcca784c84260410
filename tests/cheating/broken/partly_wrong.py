# target: test_broadcast_shape, test_quiz_linear
# why: two honest mistakes (no cheating): the tests that check them score zero
# %% replace: broadcast_shape
def broadcast_shape(a: tuple, b: tuple) -> tuple:
    return tuple(max(x, y) for x, y in zip(a, b))
# %% replace: quiz_linear
linear_4096_fp32_bytes = 4096 * 4096 * 4 * 2
