"""The README of the published student repository (`tinytorch publish`), a `string.Template`.

Filled in with $badge (the Binder badge of the published repository), $url, $repo and $modules
(one table row per module). `$$` is a literal dollar sign.
"""
TEMPLATE = """# tinytorch: build a deep-learning framework, optimizers first

$badge

You build a small deep-learning framework from scratch, one notebook at a time, and end up
importing your own package: a `Tensor`, reverse-mode autograd, layers and losses, then the heart
of the course, the optimizers (SGD, momentum, Adam, AdamW and beyond), and a real training run.

| notebook | module |
| --- | --- |
$modules

## Start

- **In the browser**: click the badge. Binder opens JupyterLab on module 01 with everything
  installed. A Binder session is temporary: download your notebooks (File > Download) before you
  leave.
- **On your machine** (Python 3.11):

  ```bash
  git clone $url.git && cd $repo
  python3 -m venv .venv && .venv/bin/pip install -r binder/requirements.txt && .venv/bin/pip install --no-deps -e .
  JUPYTER_CONFIG_DIR="$$PWD/.jupyter" PATH="$$PWD/.venv/bin:$$PATH" bash binder/jupyter-learner-config --user
  .venv/bin/tinytorch lab
  ```

- **On your course's JupyterHub**: your instructor gives you the address; the modules arrive in
  the *Assignments* tab (Nbgrader > Assignments), where you also submit and fetch feedback.

## Work through a module

1. Read, then fill each *exercise* cell: replace `raise NotImplementedError()` with your code.
2. Run the *test* cells. They show what is checked; the autograder runs more checks of the same
   kind, so make your code right, not just the examples. nbgrader's **Validate** button runs
   them all.
3. Export your code into your package: **save the notebook** (Ctrl+S), then run the module's last
   cell, or `tinytorch export` in a terminal. The next module imports *your* code.
4. Check a module from a terminal: `tinytorch test 01`.
5. Hand in: on a JupyterHub, *Submit* in the Assignments tab; otherwise
   `tinytorch handin 01 --student YOUR_ID` writes a zip to upload to your course's LMS.

## Updates

Your instructor publishes fixes and new modules as new commits here; nothing already published is
rewritten. Keep your work committed (`git commit -am "my work"`), then `git pull` to get them.
"""
