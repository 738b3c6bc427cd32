"""Errors a user can act on. Their message is one plain sentence, shown as is."""


class AigcError(ValueError):
    """Bad input or an unavailable model: the message says what to do instead."""


class Notice(UserWarning):
    """Something was adjusted to make a request work (a prompt cut, a character dropped)."""
