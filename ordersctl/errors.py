"""Errors the CLI turns into a message and an exit code instead of a traceback."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # the request was made but something was not accepted / the replay failed
EXIT_INVALID = 2  # bad input: unreadable file, bad JSON, schema violation, invalid pattern
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), after saying what was done


class CliError(Exception):
    """A problem to report to the user in one line, then exit with `exit_code`."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(CliError):
    """The user's input (files, JSON, patterns, options) is not usable."""

    exit_code = EXIT_INVALID
