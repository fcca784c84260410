# The corpus files are submissions (notebook cell sources), not tests: pytest must not import them.
collect_ignore_glob = ["*.py"]
