"""Service-hall kiosk core: domain, queue engine, storage, config, CLI.

Nothing in this package imports Kivy except ``kiosk.app``.
"""

__version__ = "0.1.0"
