# target: test_quiz_fit
# why: an endless loop (the cell is interrupted after the time limit)
# %% replace: quiz_fit
max_fp16_params_24gib = None
while True:
    pass
