# target: none
# why: prints megabytes (kept to a bounded size); the answers are right
# %% replace: quiz_10b_gib
print("spam " * 2_000_000)
for _ in range(20000):
    print("line")
fp32_gib_10b = 4e10 / 2**30
bf16_gib_10b = 2e10 / 2**30
int8_gib_10b = 1e10 / 2**30
