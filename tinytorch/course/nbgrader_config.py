# nbgrader configuration of the tinytorch course. The course tools copy this file into
# every nbgrader course folder they make (see tinytorch/course/nbgrader_runner.py); the
# repository's top-level nbgrader_config.py loads it too, so there is one source.
c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads the file)

c.CourseDirectory.course_id = "tinytorch"

# What a learner sees in place of a solution: a stub that fails loudly and clearly.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every notebook runs in well under a minute; a cell that takes longer is a runaway loop.
c.ExecutePreprocessor.timeout = 60
c.Execute.timeout = 60

# The instructor's stores of expected values and mistake catalogues (docs/checks.md) sit next to
# the notebooks; nbgrader copies a module's other files into every release and autograded folder,
# so they are left out of every copy (nbgrader's defaults first).
from tinytorch.course.layout import INSTRUCTOR_ONLY  # noqa: E402

c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", *INSTRUCTOR_ONLY]

# nbgrader makes autograded notebooks read-only (0444); the grading worker then writes its notes
# into them, which only root may do to a read-only file. An instructor grading as themselves (on a
# JupyterHub, say) needs them writable by the owner.
c.Autograde.permissions = 644  # nbgrader reads the digits as octal

# A stub names its exercise: the `# EXERCISE: ...` line above a solution region becomes the text
# of its NotImplementedError (tinytorch/course/stubs.py; the other regions keep code_stub).
from nbgrader.converters import GenerateAssignment  # noqa: E402
from nbgrader.preprocessors import ClearSolutions  # noqa: E402

from tinytorch.course.stubs import ExerciseStubs  # noqa: E402

c.GenerateAssignment.preprocessors = [ExerciseStubs if p is ClearSolutions else p
                                      for p in GenerateAssignment.class_traits()["preprocessors"].default()]
