"""The visitor widget toolkit, one module per job:

    basic    panels, big buttons, service cards, the header; text measuring, ``wrappable`` (the one
             line-breaking markup helper, pieces from ``break_runs``), and the one label helper ``label``
    buttons  tiles, list rows, icon buttons, keyboard keys and list markers of the inquiry pages
    paging   scrolling columns and their 上一页 / 下一页 pager
    snapshot a block drawn once as a picture (the search screen's keyboard: software GL)
    timeout  the idle timer and the warning drawn before a screen goes home
"""

from .basic import (BigButton, Header, Label, Panel, ServiceCard, blue_hex, break_runs, digit_shape, fit_font, highlighted,
                    icon_path, label, measure, paint, px, soft_hex, tx, wrappable)
from .buttons import (CardBase, Dot, IconButton, KeyButton, NavButton, QueryField, RowButton, StepNumber, TickBox,
                      TileButton, nav_button)
from .paging import Pager, PagerKey, PagerRow, ScrollColumn, scroll_column
from .snapshot import Snapshot, SnapKey
from .timeout import MIN_WARN_S, WARNING_SPEECH, CountdownLabel, IdleTimer, WarningOverlay

__all__ = ["BigButton", "CardBase", "CountdownLabel", "Dot", "Header", "IconButton", "IdleTimer", "KeyButton", "Label",
           "MIN_WARN_S", "NavButton", "Pager", "PagerKey", "PagerRow", "Panel", "QueryField", "RowButton",
           "ScrollColumn", "ServiceCard", "SnapKey", "Snapshot", "StepNumber", "TickBox",
           "TileButton", "WARNING_SPEECH", "WarningOverlay", "blue_hex", "break_runs", "digit_shape", "fit_font",
           "highlighted", "icon_path", "label", "measure", "nav_button", "paint", "px", "scroll_column", "soft_hex", "tx",
           "wrappable"]
