"""A printer that saves each document instead of printing it: the exact bytes and a picture."""

from __future__ import annotations

import re
import time
from collections import deque
from pathlib import Path

from kiosk.document import Document
from kiosk.ports import PrinterStatus, PrintError

from .escpos import RenderOptions, render
from .png import save_png


class PreviewPrinter:
    """Writes ``<time>-<title>.bin`` (what a printer would receive) and ``.png`` into ``folder``."""

    def __init__(self, folder: Path | str, options: RenderOptions | None = None):
        self.folder = Path(folder)
        self.options = options or RenderOptions()
        # the latest .bin files, newest last; bounded, as a preview terminal may run for weeks (issue 17)
        self.saved: deque[Path] = deque(maxlen=100)

    def status(self) -> PrinterStatus:
        return PrinterStatus.READY

    def print_document(self, doc: Document) -> None:
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(doc.title) or 'document'}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self._free_path(stem)
            path.write_bytes(render(doc, self.options))
            save_png(doc, path.with_suffix(".png"), self.options.paper_width_mm, self.options.cutter)
        except OSError as exc:
            raise PrintError(f"cannot save the preview in {self.folder}: {exc.strerror or exc}",
                             PrinterStatus.OFFLINE) from None
        self.saved.append(path)

    def _free_path(self, stem: str) -> Path:
        path, n = self.folder / f"{stem}.bin", 1
        while path.exists():
            n += 1
            path = self.folder / f"{stem}-{n}.bin"
        return path

    def close(self) -> None:
        pass


class NullPrinter:
    """``kind = "none"``: a terminal without a printer. Always READY, prints nothing.

    The dispenser then issues numbers that are shown on screen only; pausing the
    grid for a printer that is deliberately absent would stop the hall.
    """

    def status(self) -> PrinterStatus:
        return PrinterStatus.READY

    def print_document(self, doc: Document) -> None:
        pass

    def close(self) -> None:
        pass


def _slug(title: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "-", title).strip("-")[:40]
