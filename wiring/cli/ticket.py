"""`kiosk ticket render`: a sample ticket's exact printer bytes and its picture."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("ticket", help="render a sample ticket (ESC/POS bytes and PNG preview)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    render = actions.add_parser("render", help="write a sample ticket's bytes (.bin) and picture (.png)")
    render.add_argument("--out", required=True, metavar="FILE.bin", help="where to write the ESC/POS bytes")
    render.add_argument("--png", metavar="FILE.png", help="also draw the ticket as a PNG")
    render.add_argument("--profile", help="printer profile (default generic-80; `kiosk printer profiles` lists them)")
    render.add_argument("--width", help="paper width in mm, 58 or 80 (default: the profile's)")
    render.add_argument("--encoding", help="gb18030 or gbk (default: the profile's)")
    render.add_argument("--no-cutter", action="store_true", help="feed for tearing off instead of cutting")
    render.set_defaults(func=render_sample)


def render_sample(args) -> int:
    from devices.printer.escpos import RenderOptions, render
    from devices.printer.png import save_png
    from wiring.cli import CliError
    from kiosk.printer_profiles import DEFAULT, UnknownProfile, profile, resolve
    from kiosk.ticket_layout import sample_ticket

    if args.width not in (None, "58", "80"):
        raise CliError(f"--width {args.width!r}: paper width is 58 or 80 (mm)")
    if args.encoding not in (None, "gb18030", "gbk"):
        raise CliError(f"--encoding {args.encoding!r}: use gb18030 or gbk")
    try:
        base = profile(args.profile or DEFAULT)
    except UnknownProfile as exc:
        raise CliError(f"--profile: {exc}") from None
    chosen = resolve(base, paper_width_mm=int(args.width) if args.width else None, encoding=args.encoding,
                     cutter=False if args.no_cutter else None)
    options = RenderOptions.from_profile(chosen)
    width = chosen.paper_width_mm
    doc = sample_ticket(width)
    data = render(doc, options)
    try:
        Path(args.out).write_bytes(data)
        if args.png:
            save_png(doc, args.png, width, options.cutter)
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or args.out}: {exc.strerror or exc}") from None
    wire = len(data) * 10 / 9600
    print(f"{args.out}: {len(data)} bytes, {wire:.2f} s at 9600 baud, profile {chosen.name}"
          + (f"; picture {args.png}" if args.png else ""))
    return 0
