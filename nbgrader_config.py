# For instructors who run nbgrader (or formgrader) directly in this folder. The settings
# themselves live in the package, shared with the `tinytorch` course commands.
c = get_config()  # noqa: F821
load_subconfig("tinytorch/course/nbgrader_config.py")  # noqa: F821
