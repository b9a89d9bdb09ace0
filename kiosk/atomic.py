"""Replace a file so that a crash or power cut at any moment leaves the old or the new
content, never a mix: temp file in the same folder, fsync, rename, fsync the folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def write_atomic(path: Path, data: bytes, *, new_mode: int = 0o600, exclusive: bool = False,
                 check: Callable[[Path], None] | None = None) -> None:
    """Write ``data`` to ``path`` atomically.

    An existing file keeps its mode and (when we may) its owner, so root running a
    CLI command does not leave a file the kiosk user can no longer read. A new file
    gets ``new_mode``: 0600 by default, as terminal files can hold a server token.
    With ``exclusive`` an existing file is left alone and FileExistsError raised.
    ``check(temp_path)`` may inspect the finished temp file and raise to cancel.
    """
    path = Path(path)
    folder = path.parent
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            os.fchmod(fd, (st.st_mode & 0o7777) if st else new_mode)
            if st and os.geteuid() == 0:
                os.fchown(fd, st.st_uid, st.st_gid)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if check is not None:
            check(Path(tmp))
        if exclusive:
            os.link(tmp, path)  # fails if the file appeared meanwhile; never clobbers
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (the directory entry is data too)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
