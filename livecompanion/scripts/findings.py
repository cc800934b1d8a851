"""Findings: what `validate` says about a script, each pointing at a line and column (1-based)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int
    col: int
    severity: Severity
    message: str
    rule: str | None = None  # warnings name their rule: ad-law, length, pacing

    def format(self) -> str:
        label = self.severity if self.rule is None else f"{self.severity}[{self.rule}]"
        return f"{self.file}:{self.line}:{self.col}: {label}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
        }
