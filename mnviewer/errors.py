"""Typed errors. Each carries one line a user can act on; the CLI maps the type to an exit code."""

from __future__ import annotations


class MnviewerError(Exception):
    """Base class: str(error) is one line naming the thing and what to do."""

    exit_code = 1


class UsageError(MnviewerError):
    """Bad arguments or bad input files given on the command line."""

    exit_code = 2


class SourceError(MnviewerError):
    """A frame source could not be opened or read."""

    exit_code = 3


class ModelError(MnviewerError):
    """A model is unknown, missing, corrupt or failed to build or compile."""

    exit_code = 4


class DeviceError(ModelError):
    """A requested inference device is absent or failed."""


class ImportFailed(ModelError):
    """A user's model file cannot become an mnviewer model."""


class FetchError(ModelError):
    """A source file could not be fetched or failed its sha256 check."""


class OutputError(MnviewerError):
    """An output file or folder cannot be written."""

    exit_code = 6
