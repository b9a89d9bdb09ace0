"""An in-memory printer for tests and scripts: settable state, records documents."""

from __future__ import annotations

from kiosk.document import Document
from kiosk.ports import PrintError, PrinterStatus


class FakePrinter:
    def __init__(self, state: PrinterStatus = PrinterStatus.READY):
        self.state = state
        self.printed: list[Document] = []
        self.fail_next_job: str | None = None  # message of a job failure to simulate

    def status(self) -> PrinterStatus:
        return self.state

    def print_document(self, doc: Document) -> None:
        if self.fail_next_job:
            message, self.fail_next_job = self.fail_next_job, None
            raise PrintError(message, PrinterStatus.OFFLINE)
        if not self.state.can_print:
            raise PrintError(self.state.label_en, self.state)
        self.printed.append(doc)

    def close(self) -> None:
        pass
