# target: test_quiz_fit
# why: a test cell deleted
# %% delete: test_quiz_fit
