"""The one error type every part of newsdex raises for a usage or configuration mistake.

The command line turns a UsageError into exit code 2 and its message into one line (README, "Exit
codes"); anything else that stops a command is a failure (exit 1). Each message names the option or
variable to change.
"""

from __future__ import annotations


class UsageError(Exception):
    """A usage or configuration error: the command cannot start as given (exit 2, one line)."""
