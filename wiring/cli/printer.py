"""`kiosk printer status|test|ports`: check a receipt printer on a serial port (for installers)."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("printer", help="check a receipt printer: status, test print, serial ports")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    status = actions.add_parser("status", help="real-time state (exit 0 when ready or paper near end)")
    _port_options(status)
    status.set_defaults(func=show_status)

    test = actions.add_parser("test", help="print a test page (exit 1 with the reason when it fails)")
    _port_options(test)
    test.add_argument("--profile", help="printer profile (default generic-80; `kiosk printer profiles` lists them)")
    test.add_argument("--width", help="paper width in mm, 58 or 80 (default: the profile's)")
    test.add_argument("--encoding", help="gb18030 or gbk (default: the profile's)")
    test.set_defaults(func=print_test_page)

    profiles = actions.add_parser("profiles", help="list the printer profiles a terminal file can name")
    profiles.set_defaults(func=list_profiles)

    ports = actions.add_parser("ports", help="list the serial ports this computer has")
    ports.set_defaults(func=list_ports)


def _port_options(p) -> None:
    p.add_argument("--port", help="serial device, e.g. /dev/ttyUSB0 (see `kiosk printer ports`)")
    p.add_argument("--baud", default="9600", help="9600 (default), 19200, 38400, 57600 or 115200")
    p.add_argument("--flow", default="none", help="flow control: none (default), rtscts or xonxoff")
    p.add_argument("--timeout", default="0.2", help="seconds to wait for a status answer (default 0.2)")


def _settings(args, **extra):
    """PrinterSettings from the options, or a one-line CliError naming the bad option."""
    from wiring.cli import CliError
    from kiosk.config import BAUDS, PrinterSettings

    if not args.port:
        raise CliError("missing --port: name the printer's serial port, e.g. --port /dev/ttyUSB0 "
                       "(`kiosk printer ports` lists them) / 请用 --port 指定串口")
    choices = ", ".join(map(str, BAUDS))
    try:
        baud = int(args.baud)
    except ValueError:
        raise CliError(f"--baud {args.baud!r} is not a number; use one of {choices} / 波特率无效") from None
    if baud not in BAUDS:
        raise CliError(f"--baud {baud} is not supported; use one of {choices} / 波特率无效")
    if args.flow not in ("none", "rtscts", "xonxoff"):
        raise CliError(f"--flow {args.flow!r}: use none, rtscts or xonxoff")
    try:
        timeout = float(args.timeout)
    except ValueError:
        raise CliError(f"--timeout {args.timeout!r} is not a number of seconds") from None
    if not 0.01 <= timeout <= 5:
        raise CliError("--timeout must be between 0.01 and 5 seconds")
    return PrinterSettings(kind="serial", port=args.port, baud=baud, flow_control=args.flow,
                           status_timeout_s=timeout, **extra)


def _open(settings):
    from devices.printer.serial_printer import SerialPrinter

    return SerialPrinter(settings)


def show_status(args) -> int:
    printer = _open(_settings(args))
    try:
        reading = printer.check()
    finally:
        printer.close()
    print(f"{args.port}: {reading}")
    return 0 if reading.status.can_print else 1


def _hall_timezone() -> str:
    """The hall's time zone from this terminal's file (the sample hall's without one)."""
    from kiosk.config import load_terminal
    from kiosk.hall_file import load_hall
    from kiosk.config_write import default_terminal_file

    try:
        path = default_terminal_file()
        return load_hall(load_terminal(path if path.exists() else None).hall_file).timezone
    except Exception:  # a broken terminal file must not stop an installer's test print
        return "Asia/Shanghai"


def print_test_page(args) -> int:
    from devices.printer import PrintError
    from wiring.cli import CliError
    from kiosk.ticket_layout import test_page_document

    from kiosk.printer_profiles import DEFAULT, UnknownProfile, profile, resolve

    if args.width not in (None, "58", "80"):
        raise CliError(f"--width {args.width!r}: paper width is 58 or 80 (mm)")
    if args.encoding not in (None, "gb18030", "gbk"):
        raise CliError(f"--encoding {args.encoding!r}: use gb18030 or gbk")
    try:
        base = profile(args.profile or DEFAULT)
    except UnknownProfile as exc:
        raise CliError(f"--profile: {exc}") from None
    chosen = resolve(base, paper_width_mm=int(args.width) if args.width else None, encoding=args.encoding)
    settings = _settings(args, profile=chosen)
    printer = _open(settings)
    try:
        printer.print_document(test_page_document(settings, _hall_timezone()))
        reading = printer.last
    except PrintError as exc:
        raise CliError(f"test print failed / 测试打印失败: {exc}") from None
    finally:
        printer.close()
    print(f"{args.port}: test page printed / 测试页已打印 — {reading}")
    return 0


def list_profiles(args) -> int:
    from kiosk.printer_profiles import PROFILES

    for p in PROFILES.values():
        qr = "native QR" if p.native_qr else "raster QR"
        print(f"{p.name}\t{p.paper_width_mm} mm, {p.columns} columns, {'cutter' if p.cutter else 'tear-off'}, "
              f"{p.encoding.upper()}, {qr}\t{p.description}")
    return 0


def list_ports(args) -> int:
    from serial.tools import list_ports as serial_ports

    ports = sorted(serial_ports.comports(), key=lambda p: p.device)
    if not ports:
        print("no serial ports found / 未发现串口 (is the USB-serial adapter plugged in?)", file=sys.stderr)
        return 1
    for port in ports:
        about = " ".join(x for x in (port.description, port.hwid) if x and x != "n/a")
        print(f"{port.device}\t{about or '-'}")
    return 0
