"""Wire formats shared by the hall server and its terminals (no Kivy, no web framework, no HTTP client).

- ``hallcodec``: a hall as JSON in the hall file's own shape (``GET /api/v1/sync/hall``);
- ``overrides``: the setting overrides a server pushes to a terminal, checked on both sides;
- ``guidefiles``: guide content as ``{relative path: file text}``, validated with the terminal's loader.

The server (``server/api_sync.py``, ``server/public.py``) and the terminal's sync client
(``kiosk/sync/content.py``) both import from here; neither imports the other.
"""
