"""A server thread that runs one job every ``check_s`` seconds (the daily backup, the 日报 freeze)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Periodic:
    """Calls ``run_once`` at start and then every ``check_s`` seconds until ``stop``.

    A failing run is logged and retried at the next check: a background job never takes the
    server down. Subclasses set ``check_s`` and implement ``run_once``; ``thread_name`` names the
    thread and the log line.
    """

    thread_name = "periodic"
    check_s: float

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        raise NotImplementedError

    def start(self) -> None:
        def loop():
            while not self._stop.is_set():
                try:
                    self.run_once()
                except Exception:
                    log.exception("%s", self.thread_name)
                self._stop.wait(self.check_s)

        self._thread = threading.Thread(target=loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
