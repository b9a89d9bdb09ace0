"""`kiosk ticket render`: a sample ticket's exact printer bytes and its picture."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("ticket", help="render a sample ticket (ESC/POS bytes and PNG preview)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    render = actions.add_parser("render", help="write a sample ticket's bytes (.bin) and picture (.png)")
    render.add_argument("--out", required=True, metavar="FILE.bin", help="where to write the ESC/POS bytes")
    render.add_argument("--png", metavar="FILE.png", help="also draw the ticket as a PNG")
    render.add_argument("--width", default="80", help="paper width in mm: 58 or 80 (default 80)")
    render.add_argument("--encoding", default="gb18030", help="gb18030 (default) or gbk")
    render.add_argument("--no-cutter", action="store_true", help="feed for tearing off instead of cutting")
    render.set_defaults(func=render_sample)


def render_sample(args) -> int:
    from devices.printer.escpos import RenderOptions, render
    from devices.printer.png import save_png
    from wiring.cli import CliError
    from kiosk.ticket_layout import sample_ticket

    if args.width not in ("58", "80"):
        raise CliError(f"--width {args.width!r}: paper width is 58 or 80 (mm)")
    if args.encoding not in ("gb18030", "gbk"):
        raise CliError(f"--encoding {args.encoding!r}: use gb18030 or gbk")
    width = int(args.width)
    options = RenderOptions(paper_width_mm=width, encoding=args.encoding, cutter=not args.no_cutter)
    doc = sample_ticket(width)
    data = render(doc, options)
    try:
        Path(args.out).write_bytes(data)
        if args.png:
            save_png(doc, args.png, width, options.cutter)
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or args.out}: {exc.strerror or exc}") from None
    wire = len(data) * 10 / 9600
    print(f"{args.out}: {len(data)} bytes, {wire:.2f} s at 9600 baud" + (f"; picture {args.png}" if args.png else ""))
    return 0
