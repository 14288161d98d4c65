"""The README's "Where each rule lives" table stays true: each `module:function` exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
# The SLA rules the table must place (DOMAIN.md: SLA).
SLA_RULES = ("business time", "due", "breach", "at risk", "paused", "expected by")
# The rule book's (DOMAIN.md: statuses, mass actions, requests, rule 6).
RULE_BOOK = (
    "who may change which status",
    "mass opt-in",
    "double opt-in",
    "restorable by undo",
    "permission answer",
    "skipped",
    "one mailbox is one address",
    "request transitions",
    "claim, decide or reassign",
    "pending second review",
    "second reviewer",
    "rule 4",
)


def rule_rows() -> list[tuple[str, str]]:
    """(rule, module:function) for each row of the README's table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Where each rule lives", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and (target := re.fullmatch(r"`([\w.]+:[\w.]+)`", cells[1])):
            rows.append((cells[0], target.group(1)))
    return rows


def resolve(target: str):
    """Import `module` and walk `function` (Class.method allowed) on it."""
    module_name, _, path = target.partition(":")
    found = importlib.import_module(module_name)
    for name in path.split("."):
        found = getattr(found, name)
    return found


def test_the_table_places_every_sla_rule():
    rules = " | ".join(rule for rule, _ in rule_rows())
    assert [rule for rule in SLA_RULES if rule not in rules] == []


def test_the_table_places_every_rule_of_the_rule_book():
    rules = " | ".join(rule for rule, _ in rule_rows())
    assert [rule for rule in RULE_BOOK if rule not in rules] == []


@pytest.mark.parametrize(("rule", "target"), rule_rows() or [("(no table)", "missing:table")])
def test_each_named_function_exists(rule, target):
    assert callable(resolve(target)), f"{rule}: {target} is not a function"
