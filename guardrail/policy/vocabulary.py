"""The words of the policy format, taken from the effect types so the two cannot drift.

Shared by the schema (which checks them in what a user wrote) and the
compiler (which checks them again after `@lists` are spliced in).
"""

from __future__ import annotations

from typing import get_args

from guardrail import effects

EFFECT_KINDS: tuple[str, ...] = effects.EFFECT_KINDS
PATH_OPS: tuple[str, ...] = get_args(effects.PathOp)
LOCATIONS: tuple[str, ...] = get_args(effects.Location)
ADDRESS_CLASSES: tuple[str, ...] = get_args(effects.AddressClass)
CODE_KINDS: tuple[str, ...] = get_args(effects.CodeKind)
WHERE_KINDS: tuple[str, ...] = ("none", "trivial", "real")
ORIGINS: tuple[str, ...] = ("path", "env", "variable")
LIST_NAME_PATTERN = r"^\+?[A-Za-z_][A-Za-z0-9_.-]*$"
