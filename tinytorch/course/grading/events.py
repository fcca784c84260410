"""What the grading kernel's event log says happened, in sentences for the learner.

The kernel (kernel.py) writes one JSON object per line to its event log in the submission's
private folder. A submission can write to that log too, but only about itself: the worst it can
do is score zero on its own tests or be told about a cell it did not run.
"""
import json
from pathlib import Path

KILLED = ("The autograder did not run this cell: when it was graded, it stopped the Python kernel "
          "(os._exit, a crash, or running past the time limit and ignoring the interrupt). "
          "The rest of the notebook was graded without it.")
RUNAWAY = ("The autograder did not run this cell: when it was graded it ran past the time limit and "
           "did not stop when interrupted. The rest of the notebook was graded without it.")


def read_events(path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        return []
    events = []
    for line in path.read_text().splitlines():
        try:
            event = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue  # a line cut by the kernel's death (or not JSON at all)
        plain = (str, int, float, bool, list, type(None))
        if isinstance(event, dict) and all(isinstance(v, plain) for v in event.values()):
            events.append(event)
    return events


def cell_that_stopped(events) -> tuple[str, str, str] | None:
    "(cell key, reason, note) about the cell running when the kernel went away, if the log says."
    running = None
    for event in events:
        if event.get("event") == "cell":
            running = event
        elif event.get("event") == "done":
            running = None
        elif event.get("event") == "runaway":
            running = event
            break
    if running is None or not isinstance(running.get("key"), str) or ":" not in running["key"]:
        return None
    reason = RUNAWAY if running.get("event") == "runaway" else KILLED
    where = f"test cell {running['test']}" if running.get("test") else "a cell of your notebook"
    what = "ran past the time limit and ignored the interrupt" if reason is RUNAWAY else \
        "stopped the Python kernel (os._exit, a crash or the memory limit)"
    return running["key"], reason, f"{where} {what}; it was skipped and everything else was graded"


def runtime_notes(events) -> tuple[list[str], dict]:
    "Sentences for the learner about what the kernel saw, and {test: reason} of tests to zero."
    notes, zeroed = [], {}
    restored = sorted({str(name) for e in events if e.get("event") == "restored" for name in e.get("names") or []})
    if restored:
        notes.append("code in your notebook replaced " + ", ".join(restored) + "; the autograder put the "
                     "originals back before each test")
    denied = []
    for e in events:
        if e.get("event") == "violation":
            zeroed[str(e.get("test"))] = f"IntegrityError: {e.get('what')}"
        elif e.get("event") == "denied" and e.get("in_cell", True):
            what = f"{e['path']} ({e.get('what')})" if e.get("path") else str(e.get("what"))
            if what not in denied:
                denied.append(what)
    if denied:
        shown = "; ".join(denied[:3]) + (f"; and {len(denied) - 3} more" if len(denied) > 3 else "")
        notes.append(f"your code tried to reach files or start processes that the autograder does not allow "
                     f"(refused): {shown}")
    for test, reason in zeroed.items():
        notes.append(f"{test} scores 0: {reason}")
    return notes, zeroed
