"""The evaluator at a window, one module per screen, each with its static layout in a ``.kv`` file:

    common    the level colours, the session state → screen map, the base ``EvaluatorScreen``
    idle      the window, its staff on duty and 请对本窗口服务进行评价 (the home, "evaluator")
    rate      the five levels ("rate")
    reasons   the reasons for a bad rating, 提交 and the optional phone number ("reasons")
    phone     the phone number keypad ("phone")
    thanks    感谢您的评价 ("thanks")
    session   ``evaluator_screens``: the screens on one ``kiosk.evaluator.EvaluatorSession``, fed by
              queue events, a USB keypad and the deadline clock

All decisions live in ``kiosk.evaluator.EvaluatorSession``; these screens show its state and
forward presses.
"""

from .common import LEVEL_CONTRAST, LEVEL_STYLE, EvaluatorScreen
from .idle import IdleScreen
from .phone import PhoneScreen
from .rate import RateScreen
from .reasons import ReasonsScreen
from .session import evaluator_screens
from .thanks import ThanksScreen

__all__ = ["EvaluatorScreen", "IdleScreen", "LEVEL_CONTRAST", "LEVEL_STYLE", "PhoneScreen", "RateScreen",
           "ReasonsScreen", "ThanksScreen", "evaluator_screens"]
