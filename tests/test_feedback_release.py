"""`tinytorch release-feedback`: feedback folders get the graded submission's secret and timestamp (what
nbgrader's exchange matches a learner's feedback by), nothing is overwritten, and a hand-in that did
not come through the exchange is named, not silently dropped. The whole route runs in tests/test_hub.py."""
import pytest
from helpers import ROOT

from tinytorch.course.cli import main
from tinytorch.course.feedback_release import complete_feedback_folders
from tinytorch.course.layout import CourseError, find_module

MODULE = find_module(ROOT, "01")


def _learner(course, who, where, secret=True):
    folder = course / where / who / MODULE.id
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text(f"2026-12-01 10:00:00 {who} {where}")
    if secret:
        (folder / "submission_secret.txt").write_text(f"secret-{who}-{where}")
    return folder


def _feedback(course, who):
    folder = course / "feedback" / who / MODULE.id
    folder.mkdir(parents=True)
    (folder / "tensor.html").write_text("<html>Score: 1 / 2</html>")
    return folder


def test_feedback_gets_the_graded_submissions_secret(tmp_path):
    _learner(tmp_path, "ana", "submitted")
    _learner(tmp_path, "ana", "autograded")          # what was graded wins over a later submission
    _learner(tmp_path, "ben", "submitted")
    _learner(tmp_path, "lms", "submitted", secret=False)  # a zip from an LMS: no exchange secret
    for who in ("ana", "ben", "lms"):
        _feedback(tmp_path, who)
    kept = tmp_path / "feedback" / "ben" / MODULE.id / "timestamp.txt"
    kept.write_text("already there")

    report = complete_feedback_folders(tmp_path, MODULE)

    assert report.released == ["ana", "ben"]
    assert "lms" in report.skipped and "submission_secret" in report.skipped["lms"]
    ana = tmp_path / "feedback" / "ana" / MODULE.id
    assert (ana / "submission_secret.txt").read_text() == "secret-ana-autograded"
    assert (tmp_path / "feedback" / "ben" / MODULE.id / "submission_secret.txt").read_text() == "secret-ben-submitted"
    assert kept.read_text() == "already there", "an existing file must not be replaced"
    assert not (tmp_path / "feedback" / "lms" / MODULE.id / "submission_secret.txt").exists()
    assert "not released for lms" in str(report)


def test_no_feedback_is_a_clear_error(tmp_path):
    with pytest.raises(CourseError, match="no feedback for 01_tensor"):
        complete_feedback_folders(tmp_path, MODULE)


def test_the_exchange_must_exist(tmp_path, capsys):
    assert main(["--root", str(ROOT), "release-feedback", "01", "--exchange", str(tmp_path / "nowhere"),
                 "--course-dir", str(tmp_path)]) == 2
    assert "no nbgrader exchange at" in capsys.readouterr().err
