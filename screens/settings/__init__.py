"""Staff screens behind the hidden long press, one module per job, static layout in ``.kv`` files:

    staff     the staff page (a title bar over a body, leaves after two idle minutes) and its buttons
    pin       the PIN pad, and the first-start pad that sets a PIN
    controls  the form's controls: a row per setting, a row of choices, a − value + stepper
    form      the terminal settings form

The screens collect values and hand them to ``kiosk.terminal_settings``; that module validates,
writes the terminal file atomically and logs each change.
"""

from .form import SettingsScreen
from .pin import FirstPinScreen, PinScreen
from .staff import StaffScreen

__all__ = ["FirstPinScreen", "PinScreen", "SettingsScreen", "StaffScreen"]
