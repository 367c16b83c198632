"""Errors a user can act on. Each message says what was wrong, where, and what to do."""


class HarnessError(Exception):
    """Base of every error the command line prints as one clear line instead of a traceback."""


class NotOnThisBackend(HarnessError):
    """What a claim measures does not happen on this Keras backend (the lesson's silent mistake is a loud error there,
    say): the claim test skips, and the message says what happens instead."""
