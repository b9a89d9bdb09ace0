"""Service-hall kiosk core: domain, queue engine, storage, config, the ports to hardware.

Nothing in this package imports Kivy or an adapter (``devices``, ``screens``, ``server``,
``wiring``); the ``kiosk`` command and the Kivy App are built in ``wiring/``.
"""

__version__ = "0.1.0"
