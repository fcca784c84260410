# target: none
# why: a test cell copied (nbgrader grades the last copy); the work is correct
# %% duplicate: test_matmul
