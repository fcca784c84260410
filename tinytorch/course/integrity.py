"""Where submissions.py and handin.py find the grader's notebook helpers (they live in grading/)."""
from .grading.marks import mark_test_cells, unmark  # noqa: F401
from .grading.scan import scan_cells, scan_source  # noqa: F401
