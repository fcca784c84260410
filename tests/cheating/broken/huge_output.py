# target: none
# why: prints megabytes (kept to a bounded size); the answers are right
# %% replace: quiz_10b_bytes
print("spam " * 2_000_000)
for _ in range(20000):
    print("line")
fp32_bytes_10b = 4e10
fp16_bytes_10b = 2e10
bf16_bytes_10b = 2e10
