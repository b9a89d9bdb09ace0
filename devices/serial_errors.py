"""Why a serial port would not open, in one line a person can act on (printer and ID-card reader)."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def open_reason(port: str, exc: BaseException, *, unplugged_hint: str) -> str:
    """``unplugged_hint`` says what to check when the device file is missing."""
    text = str(exc)
    if "No such file" in text:
        return f"{port} does not exist ({unplugged_hint})"
    if "Permission denied" in text:
        return f"no permission to open {port} (add the user to the 'dialout' group)"
    if "Inappropriate ioctl" in text or "Is a directory" in text:
        return f"{port} is not a serial port"
    if "lock" in text.lower() or "Resource temporarily unavailable" in text:
        return f"{port} is in use by another program"
    return f"cannot open {port}: {first_line(exc)}"
