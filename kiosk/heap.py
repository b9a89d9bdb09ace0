"""Give the memory a finished job freed back to the system (glibc ``malloc_trim``).

A ticket's print builds the receipt picture (Pillow) on a worker thread while the UI thread uploads
the ticket screen's text; what they free stays in glibc's heap as holes it does not return by
itself. Over a day of tickets that was about 10 MB of a dispenser's resident memory (issue 17:
``bench/memory.py``); trimming after each print job costs about 1 ms on the worker thread.
Nothing happens where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _malloc_trim():
    """glibc's ``malloc_trim``, looked up once; None where the C library has none."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the free pages of the C heap to the system; False where there is no ``malloc_trim``."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
