"""Setting overrides a hall server pushes to a terminal.

Only settings a running terminal can take over without a restart are allowed
(timeouts, voice, type size); each value passes the terminal file's own field
check. The server refuses a bad override with the field named; a terminal that
receives one anyway keeps its last good overrides.
"""

from __future__ import annotations

from kiosk.config import TerminalConfig
from kiosk.terminal_model import check_setting

ALLOWED = ("timeouts.ticket_screen_s", "timeouts.idle_s", "timeouts.warn_before_s", "timeouts.rating_s",
           "timeouts.inquiry_idle_s", "voice.volume", "voice.enabled", "terminal.font_scale")


def check_overrides(settings: object) -> tuple[dict, list[tuple[str, str]]]:
    """(clean settings, [(field, message)]); the settings are only usable without problems."""
    if not isinstance(settings, dict):
        return {}, [("settings", "must be an object {\"timeouts.idle_s\": 60, ...}")]
    problems: list[tuple[str, str]] = []
    clean: dict = {}
    for name, value in settings.items():
        if name not in ALLOWED:
            problems.append((name, "cannot be set from the server (allowed: " + ", ".join(ALLOWED) + ")"))
            continue
        value, found = check_setting(name, value)
        if found:
            problems.extend(found)
        else:
            clean[name] = value
    return clean, problems


def apply_overrides(config: TerminalConfig, settings: dict) -> None:
    """Set already checked overrides on the running config (the terminal file is not changed)."""
    for name, value in settings.items():
        section, key = name.split(".", 1)
        if section == "timeouts":
            setattr(config.timeouts, key, value)
        elif name == "voice.volume":
            config.voice_volume = value
        elif name == "voice.enabled":
            config.voice_enabled = value
        elif name == "terminal.font_scale":
            config.font_scale = value
