"""Explicit state machines for status fields (django-oscar's `pipeline` + `set_status`).

Each status field has ONE map of allowed next states, declared next to its choices on the
model as a `StateMachine`, and ONE transition function in its app's services. That function
takes the row locked (select_for_update) inside a transaction, calls `machine.check(current,
new)` — which refuses an illegal move with a user-facing message before anything is written —
then sets the new state and writes the audit row in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError


class IllegalTransition(ValidationError):
    """A move the status field's map does not allow; nothing was written."""


class StateMachine:
    def __init__(self, name: str, transitions: Mapping[str, Iterable[str]], *, field: str = "status"):
        self.name = name
        self.field = field
        self.transitions: dict[str, frozenset[str]] = {str(k): frozenset(str(v) for v in vs) for k, vs in transitions.items()}
        unknown = {s for targets in self.transitions.values() for s in targets} - set(self.transitions)
        if unknown:
            raise ValueError(f"{name}: next states without their own entry: {sorted(unknown)}")

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.transitions)

    def allowed(self, state: str) -> frozenset[str]:
        """The states `state` may move to (oscar's available_statuses)."""
        return self.transitions.get(str(state), frozenset())

    def can(self, current: str, new: str) -> bool:
        return str(new) in self.allowed(current)

    def is_final(self, state: str) -> bool:
        return not self.allowed(state)

    def check(self, current: str, new: str) -> None:
        """Raise IllegalTransition unless `current` → `new` is an allowed move."""
        if self.can(current, new):
            return
        article = "An" if self.name[:1].lower() in "aeiou" else "A"
        if str(current) not in self.transitions:
            raise IllegalTransition(f"{article} {self.name} cannot be in state “{current}”.")
        allowed = sorted(self.allowed(current))
        where = f"from “{current}” it can only move to {', '.join(f'“{s}”' for s in allowed)}" if allowed else (
            f"“{current}” is final")
        raise IllegalTransition(f"{article} {self.name} cannot move from “{current}” to “{new}”: {where}.")
