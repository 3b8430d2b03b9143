"""Exceptions that carry a message meant for the user, not a traceback."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

Choice = TypeVar("Choice")


class IPv2Error(Exception):
    """Base class of every error the backend raises on purpose."""


class InputError(IPv2Error, ValueError):
    """An input the user gave cannot be used; the message names the input and the problem."""


class CheckpointError(IPv2Error):
    """A model checkpoint is missing, corrupt, truncated or does not match the model."""


class TrainingDiverged(IPv2Error):
    """The training loss or the weights became NaN or infinite; no model was saved."""


class Cancelled(IPv2Error):
    """The user cancelled a long operation; nothing partial was written."""


def require_choice(
    value: Choice, choices: Collection[object], what: str, shown: object = None, *, besides: str | None = None
) -> Choice:
    """`value` when it is one of `choices`; otherwise one InputError for every such check:
    "<what> '<shown, else value>' is unknown; choose one of <choices>[ or <besides>]", where
    `besides` says what else the caller accepts (cuda:N, a number), checked by the caller first."""
    if value not in choices:
        alternative = f" or {besides}" if besides else ""
        raise InputError(
            f"{what} '{value if shown is None else shown}' is unknown; "
            f"choose one of {', '.join(str(choice) for choice in choices)}{alternative}"
        )
    return value
