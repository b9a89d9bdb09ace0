"""The composition root: builds a running terminal or server from its files.

The only layer that imports the core (``kiosk``), the adapters (``devices``), the Kivy screens
(``screens``) and the hall server (``server``) together. Nothing imports ``wiring`` back except
the entry points (``kiosk/__main__.py``, the ``kiosk`` console script) and tests.
"""
