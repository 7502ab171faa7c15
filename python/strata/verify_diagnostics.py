"""`--verify-diagnostics`: upstream mlir-opt's `expected-error/warning/remark/note` checks.

An expectation `// expected-error@+1 {{text}}` matches a diagnostic of that severity whose message
contains `text`, on the line of the comment, or the line given by `@+N`, `@-N`, `@above`, `@below`.
Every diagnostic must be expected and every expectation produced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strata.diagnostics import Diagnostic

_EXPECT = re.compile(
    r"expected-(?P<kind>error|warning|remark|note)(?:@(?P<where>[+-]\d+|above|below))?\s*\{\{(?P<text>.*?)\}\}"
)
_CODE_LINE = re.compile(r"^\s*(?!//)\S")


@dataclass
class Expectation:
    kind: str
    text: str
    line: int  # the line the diagnostic must be on (1-based, in the whole file)
    comment_line: int
    matched: bool = False


def parse_expectations(lines: list[str], first_line: int) -> list[Expectation]:
    """Expectations in `lines`, which start at line `first_line` of the file."""
    found: list[Expectation] = []
    for i, line in enumerate(lines):
        for m in _EXPECT.finditer(line):
            where, here = m.group("where"), first_line + i
            if where is None:
                target = here
            elif where == "above":
                target = first_line + _neighbour_code_line(lines, i, -1)
            elif where == "below":
                target = first_line + _neighbour_code_line(lines, i, +1)
            else:
                target = here + int(where)
            found.append(Expectation(m.group("kind"), m.group("text"), target, here))
    return found


def _neighbour_code_line(lines: list[str], i: int, step: int) -> int:
    j = i + step
    while 0 <= j < len(lines) and not _CODE_LINE.match(lines[j]):
        j += step
    return j


def check(diagnostics: list[Diagnostic], expectations: list[Expectation], file: str) -> list[str]:
    """Messages for each unexpected diagnostic and each expectation not produced."""
    problems: list[str] = []

    def match(diag: Diagnostic) -> bool:
        for e in expectations:
            if (
                not e.matched
                and e.kind == diag.severity
                and e.line == diag.line
                and e.text in diag.message
            ):
                e.matched = True
                return True
        return False

    for diag in diagnostics:
        if diag.file == file and match(diag):
            pass
        else:
            problems.append(
                Diagnostic(
                    "error",
                    f"unexpected {diag.severity}: {diag.message}",
                    diag.file,
                    diag.line,
                    diag.col,
                ).format()
            )
        for note in diag.notes:
            if note.message.startswith("see current operation"):
                continue
            if not (note.file == file and match(note)):
                problems.append(
                    Diagnostic(
                        "error", f"unexpected note: {note.message}", note.file, note.line, note.col
                    ).format()
                )
    for e in expectations:
        if not e.matched:
            problems.append(
                f'{file}:{e.comment_line}: error: expected {e.kind} "{e.text}" was not produced'
            )
    return problems
