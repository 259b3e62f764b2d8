"""The one error hierarchy of douga.

Library code raises these; only the command line turns them into exit codes.
A message names the file or field, the value received and what was expected.
"""

from __future__ import annotations


class DougaError(Exception):
    """Root of every error douga raises on purpose."""


class InputError(DougaError):
    """Bad user input: a missing or corrupt file, a malformed field, an impossible request.

    The command line prints the message on one line and exits with code 2.
    """


class MissingDependency(DougaError):
    """An optional package is needed for this feature; the message says what to install."""
