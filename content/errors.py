"""The errors whose message is meant for a person, importable without the database layer.

The kiosk's screens and the `juwu` command line catch these before SQLAlchemy is loaded
(kiosk/backend.py says why that matters); the modules that raise them import them from here.
"""

from __future__ import annotations


class CacheError(RuntimeError):
    """The cache file cannot be used; the message says what to do about it."""


class SearchError(ValueError):
    """The query cannot be searched; the message is fit to show a person."""


class SubmissionError(ValueError):
    """The submission cannot be accepted as given; the message is fit to show a resident."""
