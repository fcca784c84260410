"""Feedback pages that show what the learner wrote without running it.

nbgrader renders the autograded notebook to HTML. A learner's markdown and outputs may hold
HTML (`<script>`, `display(HTML(...))`, event handlers, javascript: links); the learner, and the
instructor reviewing the page, would run it. nbconvert's SanitizeHTML (bleach) cleans markdown,
raw cells and rich outputs first; then the autograder's notes are drawn in a framed box that
sanitized markdown can't produce (it allows no <div>, no style), so a markdown cell can't
pass itself off as the autograder.
"""
import html

from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from .preprocessors import NOTES_KEY

NOTES_BOX = ('<div class="tinytorch-autograder-notes" style="border: 3px solid #b45309; background: #fffbeb; '
             'padding: 0.6em 1em; margin: 1em 0"><p style="font-weight: bold; margin: 0">Notes from the '
             'autograder (tinytorch grade)</p><ul>{items}</ul></div>')


class SanitizeLearnerHTML(SanitizeHTML):
    "nbconvert's SanitizeHTML, switched on: nbconvert's own preprocessors do nothing unless enabled."
    enabled = Bool(True).tag(config=True)


class AutograderNotes(NbGraderPreprocessor):
    "Draw the notes cell that GuardEvents put first (its text escaped) as the autograder's box."

    def preprocess_cell(self, cell, resources, index):
        notes = cell.get("metadata", {}).get("tinytorch", {}).get(NOTES_KEY)
        if cell.cell_type == "markdown" and isinstance(notes, list):
            cell.source = NOTES_BOX.format(items="".join(f"<li>{html.escape(str(n))}</li>" for n in notes))
        return cell, resources


def feedback_chain() -> list:
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades
    return [GetGrades, SanitizeLearnerHTML, AutograderNotes, CSSHTMLHeaderPreprocessor]
