"""The grades CSV and the terminal summary of a graded module.

Scores come from the course gradebook (so an instructor's manual adjustment in formgrader
shows up), status, notes and review flags from `results/<module>/`; the per-check verdicts are
in each learner's JSON there.
"""
import csv
from pathlib import Path

from .prepare import Assignment
from .store import load_results


def gradebook_scores(course_dir, assignment_id: str, students) -> dict:
    """{student: {(notebook, grade_id): score}} for every graded cell of the assignment, from the
    gradebook of `course_dir` (manual scores override automatic ones; a missing notebook scores 0)."""
    from nbgrader.api import Gradebook, MissingEntry
    scores = {}
    with Gradebook(f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}") as gb:
        notebooks = gb.find_assignment(assignment_id).notebooks
        for student in students:
            cells = {}
            for notebook in notebooks:
                try:
                    submitted = gb.find_submission_notebook(notebook.name, assignment_id, student)
                except MissingEntry:
                    cells.update({(notebook.name, cell.name): 0.0 for cell in notebook.grade_cells})
                    continue
                cells.update({(notebook.name, g.name): float(g.score) for g in submitted.grades})
            scores[student] = cells
    return scores


def _column(assignment: Assignment, notebook: str, grade_id: str) -> str:
    return grade_id if len(assignment.expected) == 1 else f"{notebook}:{grade_id}"


def grade_table(assignment: Assignment) -> tuple[list[str], list[dict]]:
    "The CSV's header and rows: one row per graded learner, one column per graded cell, then the total."
    results = load_results(assignment.id, assignment.course)
    scores = gradebook_scores(assignment.course, assignment.id, sorted(results))
    tests = assignment.tests
    header = (["student"] + [_column(assignment, nb, gid) for nb, gid in tests]
              + ["total", "max", "status", "notes", "flags"])
    rows = []
    for student in sorted(results):
        result, cells = results[student], scores.get(student, {})
        row = {"student": student}
        for (nb, gid) in tests:
            row[_column(assignment, nb, gid)] = f"{cells.get((nb, gid), 0.0):g}"
        row["total"] = f"{sum(cells.get(key, 0.0) for key in tests):g}"
        row["max"] = f"{sum(tests.values()):g}"
        row["status"] = result.status.value
        row["notes"] = " | ".join(result.notes)
        row["flags"] = " | ".join(f"{cell}: {', '.join(found)}" for cell, found in sorted(result.flags.items()))
        rows.append(row)
    return header, rows


def write_csv(assignment: Assignment, path=None) -> Path:
    path = Path(path) if path else assignment.folder.csv(assignment.id)
    header, rows = grade_table(assignment)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def summary(assignment: Assignment, top: int = 5) -> str:
    "Learners and scores, then the tests failed most often."
    header, rows = grade_table(assignment)
    if not rows:
        return f"No graded submission of {assignment.id} yet (collect, then grade)."
    unsandboxed = sorted(s for s, r in load_results(assignment.id, assignment.course).items() if r.unprotected)
    tests = assignment.tests
    width = max(len("learner"), *(len(r["student"]) for r in rows))
    lines = [f"{assignment.id}: {len(rows)} learner(s), out of {sum(tests.values()):g} points", "",
             f"{'learner':<{width}}  {'score':>13}  status      notes  flags"]
    for row in rows:
        total, most = float(row["total"]), float(row["max"])
        percent = 100 * total / most if most else 0
        notes = len(row["notes"].split(" | ")) if row["notes"] else 0
        flags = "review" if row["flags"] else ""
        lines.append(f"{row['student']:<{width}}  {row['total']:>5}/{row['max']:<3} {percent:3.0f}%  "
                     f"{row['status']:<10}  {notes:>5}  {flags}")
    failures = []
    for (nb, gid), points in tests.items():
        column = _column(assignment, nb, gid)
        failed = sum(1 for row in rows if float(row[column]) < points)
        failures.append((failed, column))
    failures.sort(key=lambda f: (-f[0], f[1]))
    lines += ["", "Tests failed most often:"]
    for failed, column in failures[:top]:
        if failed:
            lines.append(f"  {column:<32} failed by {failed} of {len(rows)} ({100 * failed / len(rows):.0f}%)")
    if not any(f for f, _ in failures):
        lines.append("  none: every learner passed every test")
    mean = sum(float(r["total"]) for r in rows) / len(rows)
    lines += ["", f"Mean score {mean:.2f} of {sum(tests.values()):g}. Flags mark code worth a look "
              "(see the CSV's flags column); they do not change a score."]
    if unsandboxed:
        unprotected = load_results(assignment.id, assignment.course)[unsandboxed[0]].unprotected
        lines += ["", f"WARNING: {len(unsandboxed)} learner(s) were graded without the OS sandbox "
                  "(--unsafe-no-sandbox); not protected: " + "; ".join(unprotected)]
    return "\n".join(lines)
