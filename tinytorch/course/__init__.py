"""Course tooling (hand-written, not exported from notebooks): the `tinytorch` command, the student tree,
checks and grading."""
