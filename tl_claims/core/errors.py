"""Errors a user can act on. Each message says what was wrong, where, and what to do."""


class HarnessError(Exception):
    """Base of every error the command line prints as one clear line instead of a traceback."""
