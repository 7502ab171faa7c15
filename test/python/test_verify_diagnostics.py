"""`--verify-diagnostics` expectations: parsing @+N/@-N/@above/@below and matching."""

from __future__ import annotations

from strata.diagnostics import Diagnostic
from strata.verify_diagnostics import check, parse_expectations

FILE = "t.mlir"


def _err(
    line: int, message: str, severity: str = "error", file: str = FILE, notes=()
) -> Diagnostic:
    return Diagnostic(severity, message, file, line, 3, tuple(notes))


def test_same_line_and_offsets() -> None:
    lines = [
        "%a = op  // expected-error {{here}}",
        "// expected-warning@+2 {{two below}}",
        "",
        "%b = op",
        "%c = op",
        "// expected-remark@-2 {{two above}}",
    ]
    exps = parse_expectations(lines, first_line=10)
    assert [(e.kind, e.text, e.line, e.comment_line) for e in exps] == [
        ("error", "here", 10, 10),
        ("warning", "two below", 13, 11),
        ("remark", "two above", 13, 15),
    ]


def test_above_and_below_skip_comments_and_blank_lines() -> None:
    lines = [
        "%a = op",
        "// a comment",
        "",
        "// expected-error@above {{up}}",
        "// expected-note@below {{down}}",
        "// another comment",
        "   %b = op",
    ]
    exps = parse_expectations(lines, first_line=1)
    assert [(e.kind, e.line) for e in exps] == [("error", 1), ("note", 7)]


def test_first_line_offset_applies() -> None:
    (e,) = parse_expectations(["x", "// expected-error@+1 {{m}}", "y"], first_line=100)
    assert e.line == 102 and e.comment_line == 101


def test_two_expectations_on_one_line() -> None:
    exps = parse_expectations(["op // expected-error {{a}} expected-note {{b}}"], 5)
    assert [(e.kind, e.text, e.line) for e in exps] == [("error", "a", 5), ("note", "b", 5)]


def test_no_expectations() -> None:
    assert parse_expectations(["%a = op", "// expected error {{not a directive}}"], 1) == []


def test_check_all_matched() -> None:
    lines = ["// expected-error@+1 {{contracting dimensions}}", "%0 = op"]
    exps = parse_expectations(lines, 1)
    diags = [_err(2, "contracting dimensions differ: lhs 2x4")]
    assert check(diags, exps, FILE) == []
    assert exps[0].matched


def test_check_unexpected_diagnostic() -> None:
    problems = check([_err(4, "boom")], [], FILE)
    assert problems == [f"{FILE}:4:3: error: unexpected error: boom"]


def test_check_missing_diagnostic() -> None:
    exps = parse_expectations(["", "// expected-error@+1 {{never}}", "%0 = op"], 1)
    assert check([], exps, FILE) == [f'{FILE}:2: error: expected error "never" was not produced']


def test_check_wrong_line_is_both_unexpected_and_missing() -> None:
    exps = parse_expectations(["// expected-error@+1 {{msg}}", "%0 = op", "%1 = op"], 1)
    problems = check([_err(3, "msg")], exps, FILE)
    assert len(problems) == 2
    assert "unexpected error: msg" in problems[0]
    assert 'expected error "msg" was not produced' in problems[1]


def test_check_wrong_severity_and_file() -> None:
    exps = parse_expectations(["%0 = op // expected-warning {{msg}}"], 1)
    assert len(check([_err(1, "msg")], exps, FILE)) == 2
    exps = parse_expectations(["%0 = op // expected-error {{msg}}"], 1)
    assert len(check([_err(1, "msg", file="other.mlir")], exps, FILE)) == 2


def test_each_expectation_matches_once() -> None:
    exps = parse_expectations(["%0 = op // expected-error {{dup}}"], 1)
    problems = check([_err(1, "dup"), _err(1, "dup")], exps, FILE)
    assert problems == [f"{FILE}:1:3: error: unexpected error: dup"]


def test_notes_must_be_expected_except_current_operation() -> None:
    lines = ["%0 = op // expected-error {{bad}}", "// expected-note@-1 {{see here}}"]
    exps = parse_expectations(lines, 1)
    notes = [_err(1, "see here", "note"), _err(1, "see current operation: ...", "note")]
    assert check([_err(1, "bad", notes=notes)], exps, FILE) == []

    exps = parse_expectations(["%0 = op // expected-error {{bad}}"], 1)
    problems = check([_err(1, "bad", notes=[_err(1, "stray", "note")])], exps, FILE)
    assert problems == [f"{FILE}:1:3: error: unexpected note: stray"]


def test_diagnostic_format() -> None:
    d = _err(2, "outer", notes=[_err(3, "inner", "note")])
    assert d.format() == f"{FILE}:2:3: error: outer\n{FILE}:3:3: note: inner"
    assert Diagnostic("error", "no place").format() == "error: no place"
