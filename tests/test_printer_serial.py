"""The serial printer against a fake Epson-compatible printer on a pty: every state, stalls, unplugs."""

from __future__ import annotations

import threading
import time

import pytest

from devices.printer import PrinterStatus, PrintError
from devices.printer.escpos import RenderOptions, render
from devices.printer.serial_printer import SerialPrinter
from kiosk.config import PrinterSettings
from kiosk.printer_profiles import profile, resolve
from kiosk.document import Cut, Document, Text
from kiosk.ticket_layout import sample_ticket

from .escpos_decode import decode
from .printer_fakes import PtyPrinter

EXPECTED = {
    "ready": PrinterStatus.READY,
    "near_end": PrinterStatus.PAPER_NEAR_END,
    "paper_out": PrinterStatus.PAPER_OUT,
    "cover_open": PrinterStatus.COVER_OPEN,
    "offline": PrinterStatus.OFFLINE,
    "error": PrinterStatus.OFFLINE,
    "silent": PrinterStatus.NO_ANSWER,
    "junk": PrinterStatus.NO_ANSWER,
}
BIG = Document([Text("青石镇便民服务中心，请留意叫号。" * 3000), Cut()], title="big")  # > the pty's buffer


def serial_printer(fake: PtyPrinter, **kw) -> SerialPrinter:
    return SerialPrinter(PrinterSettings(kind="serial", port=fake.port_name, **kw))


def print_within(printer: SerialPrinter, doc: Document, seconds: float) -> tuple[PrintError | None, float]:
    """Print in a worker so a hanging job fails this test instead of hanging the run."""
    outcome: list = []

    def job() -> None:
        try:
            printer.print_document(doc)
            outcome.append(None)
        except PrintError as exc:
            outcome.append(exc)

    t = time.monotonic()
    worker = threading.Thread(target=job, daemon=True)
    worker.start()
    worker.join(seconds + 2)
    assert outcome, f"print_document still blocked after {seconds + 2} s"
    return outcome[0], time.monotonic() - t


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_each_state_is_read_from_dle_eot(state):
    with PtyPrinter(state) as fake:
        printer = serial_printer(fake)
        try:
            assert printer.status() is EXPECTED[state]
            assert fake.received.count(b"\x10\x04") == 3  # n = 1, 2, 4 in one write
        finally:
            printer.close()


def test_junk_and_silence_say_why():
    with PtyPrinter("junk") as fake:
        printer = serial_printer(fake)
        assert "baud" in printer.check().detail
        printer.close()
    with PtyPrinter("silent") as fake:
        printer = serial_printer(fake, status_timeout_s=0.1)
        t = time.monotonic()
        assert "no answer within 100 ms" in printer.check().detail
        assert time.monotonic() - t < 5  # the 100 ms timeout, not a hang (loaded machine: a wide margin)
        printer.close()


def test_status_of_a_responsive_printer_needs_one_query_each_time():
    # how fast: bench/printer_status.py (at most 50 ms, median 10 ms); no wall-clock bound here
    with PtyPrinter("ready") as fake:
        printer = serial_printer(fake)
        printer.status()  # opens the port
        for _ in range(20):
            assert printer.status() is PrinterStatus.READY
        printer.close()
        assert fake.received.count(b"\x10\x04\x01") == 21  # one DLE EOT round per call, no retries


@pytest.mark.parametrize("width", [58, 80])
def test_job_reaches_the_printer_byte_for_byte(width):
    doc = sample_ticket(width)
    with PtyPrinter("ready") as fake:
        printer = serial_printer(fake, profile=resolve(profile("generic-80"), paper_width_mm=width))
        printer.print_document(doc)
        printer.close()
        job = fake.jobs_bytes()
    assert job == render(doc, RenderOptions(paper_width_mm=width))
    from kiosk.document import QR

    (qr,) = [b.data for b in doc.blocks if isinstance(b, QR)]  # the ticket's public link (a token)
    assert qr.startswith("http://192.168.1.10:8080/q/")
    assert decode(job).qr_payloads == [qr.encode()]


def test_near_end_still_prints():
    with PtyPrinter("near_end") as fake:
        printer = serial_printer(fake)
        printer.print_document(sample_ticket())
        printer.close()
        assert b"A017" in fake.jobs_bytes()


@pytest.mark.parametrize("state", ["paper_out", "cover_open", "offline", "silent", "junk"])
def test_a_printer_that_cannot_print_gets_no_job(state):
    with PtyPrinter(state) as fake:
        printer = serial_printer(fake, status_timeout_s=0.1)
        with pytest.raises(PrintError) as err:
            printer.print_document(sample_ticket())
        printer.close()
        assert err.value.status is EXPECTED[state]
        assert fake.jobs_bytes() == b""


def test_state_changes_are_seen_and_recovery_needs_no_restart():
    with PtyPrinter("ready") as fake:
        printer = serial_printer(fake)
        assert printer.status() is PrinterStatus.READY
        fake.state = "paper_out"
        assert printer.status() is PrinterStatus.PAPER_OUT
        fake.state = "cover_open"
        assert printer.status() is PrinterStatus.COVER_OPEN
        fake.state = "ready"
        assert printer.status() is PrinterStatus.READY
        printer.print_document(sample_ticket())
        printer.close()


def test_paper_running_out_during_the_job_fails_it():
    with PtyPrinter("ready", after_bytes=(60, "paper_out")) as fake:
        printer = serial_printer(fake)
        with pytest.raises(PrintError, match="paper out") as err:
            printer.print_document(sample_ticket())
        printer.close()
    assert err.value.status is PrinterStatus.PAPER_OUT


def test_a_printer_that_stops_answering_after_the_job_fails_it_within_10s():
    with PtyPrinter("ready", after_bytes=(60, "silent")) as fake:
        printer = serial_printer(fake)
        err, elapsed = print_within(printer, sample_ticket(), 10)
        printer.close()
    assert err is not None and "stopped answering" in str(err)
    assert err.status is PrinterStatus.NO_ANSWER
    assert elapsed < 10


def test_a_stalled_printer_fails_the_job_within_10s():
    with PtyPrinter("ready", after_bytes=(600, "stall")) as fake:
        printer = serial_printer(fake, write_timeout_s=2.0)
        err, elapsed = print_within(printer, BIG, 10)
        t = time.monotonic()
        assert printer.status() is PrinterStatus.NO_ANSWER  # and status does not hang either
        assert time.monotonic() - t < 1
        printer.close()
    assert err is not None and "stalled" in str(err)
    assert err.status is PrinterStatus.NO_ANSWER
    assert 1.5 < elapsed < 10


def test_stall_with_the_default_write_timeout_still_ends_within_10s():
    with PtyPrinter("ready", after_bytes=(600, "stall")) as fake:
        printer = serial_printer(fake)  # write_timeout_s = 5
        err, elapsed = print_within(printer, BIG, 10)
        printer.close()
    assert err is not None and elapsed < 10


def test_unplugged_mid_job_is_a_print_error_then_no_answer():
    with PtyPrinter("ready", after_bytes=(100, "unplug")) as fake:
        printer = serial_printer(fake)
        with pytest.raises(PrintError) as err:
            printer.print_document(sample_ticket())
        assert err.value.status in (PrinterStatus.OFFLINE, PrinterStatus.NO_ANSWER)
        reading = printer.check()
        assert reading.status is PrinterStatus.NO_ANSWER
        assert "does not exist" in reading.detail
        printer.close()


def test_unplugged_between_queries():
    with PtyPrinter("ready") as fake:
        printer = serial_printer(fake)
        assert printer.status() is PrinterStatus.READY
        fake.unplug()
        assert printer.status() is PrinterStatus.NO_ANSWER
        with pytest.raises(PrintError):
            printer.print_document(sample_ticket())
        printer.close()


def test_missing_port_is_no_answer_not_an_exception():
    printer = SerialPrinter(PrinterSettings(kind="serial", port="/dev/does-not-exist-7"))
    reading = printer.check()
    assert reading.status is PrinterStatus.NO_ANSWER and "does not exist" in reading.detail
    with pytest.raises(PrintError):
        printer.print_document(sample_ticket())
    printer.close()


def test_port_in_use_by_another_program():
    with PtyPrinter("ready") as fake:
        first, second = serial_printer(fake), serial_printer(fake)
        assert first.status() is PrinterStatus.READY
        reading = second.check()
        assert reading.status is PrinterStatus.NO_ANSWER and "in use" in reading.detail
        first.close()
        assert second.status() is PrinterStatus.READY  # free again once the other side lets go
        second.close()


def test_status_during_a_job_answers_at_once_with_the_last_known_state():
    with PtyPrinter("ready", after_bytes=(600, "stall")) as fake:
        printer = serial_printer(fake, write_timeout_s=2.0)
        job = threading.Thread(target=print_within, args=(printer, BIG, 10))
        job.start()
        time.sleep(0.3)
        t = time.monotonic()
        assert printer.status() is PrinterStatus.READY  # the state before the job, not a 2 s wait
        assert time.monotonic() - t < 1.5  # well under the 2 s write timeout it must not wait for
        job.join(12)
        printer.close()


def test_bad_settings_are_refused_up_front():
    with pytest.raises(ValueError, match="port"):
        SerialPrinter(PrinterSettings(kind="serial", port=""))
    with pytest.raises(ValueError, match="baud"):
        SerialPrinter(PrinterSettings(kind="serial", port="/dev/ttyS0", baud=1234))
