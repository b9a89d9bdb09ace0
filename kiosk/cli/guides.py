"""`kiosk guides`: not built yet."""


def register(sub) -> None:
    from kiosk.cli import not_built

    p = sub.add_parser("guides", help="(not built yet)")
    p.add_argument("rest", nargs="*")
    p.set_defaults(func=not_built("guides"))
