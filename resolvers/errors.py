"""Typed, bilingual input errors (field + code + message), raised for bad arguments."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserError:
    field: str
    code: str
    message: str


class BadInput(Exception):
    """An argument breaks a rule: names the field and the rule, in Chinese and English."""

    def __init__(self, field: str, code: str, zh: str, en: str) -> None:
        self.error = UserError(field=field, code=code, message=f"{zh} / {en}")
        super().__init__(self.error.message)
