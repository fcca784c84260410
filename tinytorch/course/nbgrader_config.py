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
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "*.checks.json", "mistakes.py", "slips.py"]

# nbgrader makes autograded notebooks read-only (0444); the grading worker then writes its notes
# into them, which only root may do to a read-only file. An instructor grading as themselves (on a
# JupyterHub, say) needs them writable by the owner.
c.Autograde.permissions = 644  # nbgrader reads the digits as octal
