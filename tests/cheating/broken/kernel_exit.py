# target: test_quiz_linear
# why: os._exit kills the kernel in an exercise cell
# %% replace: quiz_linear
import os
os._exit(1)
