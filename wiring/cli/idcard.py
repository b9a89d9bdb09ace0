"""`kiosk idcard read`: check an ID-card reader (SAM protocol, serial) and show a card, masked."""

from __future__ import annotations

import time
from datetime import date


def register(sub) -> None:
    p = sub.add_parser("idcard", help="check a second-generation ID card reader (身份证读卡器)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    read = actions.add_parser("read", help="read the card on the reader and print it masked (exit 1 with the reason)")
    read.add_argument("--port", help="serial device of the reader, e.g. /dev/ttyUSB1")
    read.add_argument("--baud", default="115200", help="9600, 19200, 38400, 57600 or 115200 (default 115200)")
    read.add_argument("--wait", default="0", help="seconds to wait for a card to be placed (default 0: one try)")
    read.set_defaults(func=read_card)


def read_card(args) -> int:
    from devices.idcard.serial_reader import BAUDS, SerialIdReader
    from wiring.cli import CliError
    from kiosk.idcard import IdCardError

    if not args.port:
        raise CliError("missing --port: name the reader's serial port, e.g. --port /dev/ttyUSB1 "
                       "(`kiosk printer ports` lists them) / 请用 --port 指定读卡器串口")
    try:
        baud = int(args.baud)
    except ValueError:
        raise CliError(f"--baud {args.baud!r} is not a number; use one of {', '.join(map(str, BAUDS))}") from None
    if baud not in BAUDS:
        raise CliError(f"--baud {baud} is not supported; use one of {', '.join(map(str, BAUDS))} / 波特率无效")
    try:
        wait = float(args.wait)
    except ValueError:
        raise CliError(f"--wait {args.wait!r} is not a number of seconds") from None
    if not 0 <= wait <= 600:
        raise CliError("--wait must be between 0 and 600 seconds")
    reader = SerialIdReader(args.port, baud)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                card = reader.read()
            except IdCardError as exc:
                raise CliError(f"{exc} / 读卡失败") from None
            if card is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.3)
    finally:
        reader.close()
    if card is None:
        raise CliError(f"{args.port}: no card on the reader (or it was read already: take it away and put it "
                       "back) / 读卡器上没有身份证")
    print(f"{args.port}: 姓名 {card.masked_name}  性别 {card.sex}  "
          f"身份证号 {card.masked_id}  年龄 {card.age_on(date.today())}  "
          f"有效期 {card.valid_from}-{card.valid_to}  照片 {len(card.photo)} 字节")
    return 0
