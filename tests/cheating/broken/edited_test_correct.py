# target: none
# why: a test cell edited, but the solution is right: the original test is run and passes
# %% replace: test_memory_bytes
print("I changed this test")
