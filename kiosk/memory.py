"""Hand freed heap back to the system, so a kiosk's resident size stays flat for months.

Every screen change frees label textures, result rows and query results, but glibc keeps
the freed pages in its arenas (the I/O worker thread has its own): without this the
resident size climbs about 12% in the first few hundred taps and stays there; with a
trim every half minute it stays within 1-2% (bench/kiosk_bench.py). Elsewhere than glibc
this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache

TRIM_INTERVAL_S = 30.0


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


def release_free_heap() -> bool:
    """Return free heap pages to the system; True when glibc released some."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


__all__ = ["TRIM_INTERVAL_S", "release_free_heap"]
