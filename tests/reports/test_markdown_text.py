"""User text in summary.md: escaped only where Markdown would act on it, one line, and a plain
string (the fast path) comes back exactly as the full escape would give it."""

from __future__ import annotations

import random

import pytest

from reports.summary import md_text


def _escaped_by_hand(text: str) -> str:
    """The rule written out character by character, independent of md_text's shortcut: collapse
    whitespace to single spaces, then put a backslash before each of \\ * _ [ ] | < except an
    underscore between two letters or digits."""
    flat = " ".join(text.split())
    out = []
    for i, ch in enumerate(flat):
        between = 0 < i < len(flat) - 1 and flat[i - 1].isalnum() and flat[i + 1].isalnum()
        out.append("\\" + ch if ch in "\\*_[]|<" and not (ch == "_" and between) else ch)
    return "".join(out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NVDA", "NVDA"),
        ("2026-08-03", "2026-08-03"),
        ("", ""),
        ("insufficient_data", "insufficient_data"),
        ("_lead", "\\_lead"),
        ("a|b", "a\\|b"),
        ("*bold*", "\\*bold\\*"),
        ("[x](http://e)", "\\[x\\](http://e)"),
        ("<script>", "\\<script>"),
        ("back\\slash", "back\\\\slash"),
        ("two  spaces", "two spaces"),
        (" edge ", "edge"),
        ("line\nbreak", "line break"),
        ("tab\there", "tab here"),
        ("no\u00a0break", "no break"),  # a non-breaking space is whitespace to str.split
        ("a" * 5000 + "*", "a" * 5000 + "\\*"),  # long words: the shortcut fails in linear time
        ("a b " * 2000 + "|", "a b " * 2000 + "\\|"),
    ],
)
def test_md_text_escapes_what_markdown_acts_on(text: str, expected: str) -> None:
    assert md_text(text) == expected


def test_md_text_agrees_with_the_rule_on_random_strings() -> None:
    rng = random.Random(20)
    alphabet = "ab1_ *|[]<\\\n\t\u00a0\u2003é"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        assert md_text(text) == _escaped_by_hand(text), repr(text)
