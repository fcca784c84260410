# target: test_quiz_fit
# why: an endless loop that swallows the interrupt (the kernel is stopped and the cell skipped)
# %% replace: quiz_fit
import time
max_fp16_params_24gib = None
while True:
    try:
        time.sleep(0.2)
    except KeyboardInterrupt:
        pass
