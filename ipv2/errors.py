"""Exceptions that carry a message meant for the user, not a traceback."""


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
