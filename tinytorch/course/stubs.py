"""Stubs that say what to write: nbgrader's ClearSolutions, reading an `# EXERCISE:` line.

In a solution cell, the line right above `### BEGIN SOLUTION` may be

    # EXERCISE: sgd_update_ must subtract lr * direction from param in place; it returns nothing

The release then replaces that region by `raise NotImplementedError("sgd_update_ must ...")`
instead of nbgrader's bare `raise NotImplementedError()`, so that an exercise the learner has not
written yet fails with a message naming it, wherever it is called from (docs/checks.md, "Stubs").
The `# EXERCISE:` line itself stays in the release: the learner reads it next to the stub.
Regions without such a line get nbgrader's configured `code_stub`, as before.
"""
import re

from nbgrader.preprocessors import ClearSolutions

EXERCISE_LINE = re.compile(r"^\s*#\s*EXERCISE:\s*(?P<text>.*?)\s*$")


class ExerciseStubs(ClearSolutions):
    "ClearSolutions whose stub raises NotImplementedError with the text of the `# EXERCISE:` line above the region."

    def _stub_for(self, exercise: str, language: str) -> list[str]:
        if language != "python":   # only Python has a stub we know how to word
            return self.code_stub[language].split("\n")
        return ["# YOUR CODE HERE", f"raise NotImplementedError({exercise!r})"]

    def _replace_solution_region(self, cell, language: str) -> bool:
        if cell.cell_type != "code" or not any(EXERCISE_LINE.match(line) for line in cell.source.split("\n")):
            return super()._replace_solution_region(cell, language)
        # Replace the regions announced by an EXERCISE line here; leave the others to nbgrader,
        # which also reports nested and unterminated regions.
        lines, kept, replaced = cell.source.split("\n"), [], False
        i = 0
        while i < len(lines):
            line = lines[i]
            announced = EXERCISE_LINE.match(kept[-1]) if kept else None
            if self.begin_solution_delimeter in line and announced:
                end = next((j for j in range(i + 1, len(lines)) if self.end_solution_delimeter in lines[j]), None)
                nested = next((j for j in range(i + 1, end if end is not None else len(lines))
                               if self.begin_solution_delimeter in lines[j]), None)
                if end is None or nested is not None:
                    break   # malformed: let nbgrader raise its own error on the untouched source
                indent = re.match(r"\s*", line).group(0)
                kept += [indent + stub for stub in self._stub_for(announced.group("text"), language)]
                replaced, i = True, end + 1
                continue
            kept.append(line)
            i += 1
        else:
            cell.source = "\n".join(kept)
            return super()._replace_solution_region(cell, language) or replaced
        return super()._replace_solution_region(cell, language)
