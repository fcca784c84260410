"""Grading: `tinytorch grade` and everything it needs, one job per file.

    layout.py         where everything is in a grading course folder (CourseFolder)
    prepare.py        the module made ready once per run: marked source, gradebook, reference packages, kernelspec
    check.py          each submission read, rebuilt and flagged before anything runs
    policy.py         GuardPolicy: what a grading kernel may see and do (the sandbox and the in-process guard)
    sandbox.py        starts a kernel inside bubblewrap (or says why it can't)
    kernel.py         the grading kernel itself, with its in-process guard (the second layer)
    marks.py, scan.py the marker line of test cells; the static scan that flags code for review
    run.py            one worker process per learner, side by side (concurrent.futures)
    worker.py         one learner: nbgrader autograde + feedback in a private course folder
    preprocessors.py  the autograde chain's own steps (kernel events, forged scores, violations, the judge)
    feedback.py       feedback pages that never run the learner's HTML
    events.py         the kernel's event log, in sentences for the learner
    result.py         GradeResult and its Status
    store.py          results JSON, gradebook, autograded and feedback folders
    report.py         the grades CSV and the summary
    grade.py          the command: prepare, check, run, store

This file imports nothing: the sandbox launcher runs as `python -m tinytorch.course.grading.sandbox`.
"""
