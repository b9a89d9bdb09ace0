"""Inquiry screens (查询机): home -> category -> guide, search as you type, policy documents.

    inquiry  home: search, policy documents, category tiles, hot items (and 取号 when combined)
    category one category's guides
    guide    a guide's sections; print the 一次性告知单, take a ticket, read aloud
    search   on-screen keyboard; results as the visitor types
    policies the policy documents; policy: one document in large type

The screens show what ``terminal.guides`` (kiosk.guides.GuideCatalogue) returns
and forward taps to the terminal: search, the notice slip and printing live in
``kiosk``. Printing reports from a worker thread; ``mainthread`` hops back.

    common.py  the base InquiryScreen; home.py, guide.py, search.py, policy.py the screens
"""

from .common import HOME, InquiryScreen
from .guide import GuideScreen
from .home import CategoryScreen, InquiryHome
from .policy import PolicyListScreen, PolicyScreen
from .search import SearchScreen

__all__ = ["HOME", "CategoryScreen", "GuideScreen", "InquiryHome", "InquiryScreen", "PolicyListScreen",
           "PolicyScreen", "SearchScreen", "inquiry_screens"]


def inquiry_screens(terminal) -> list:
    """The screens of the inquiry mode; the first is the home screen, named "inquiry"."""
    return [InquiryHome(terminal, name=HOME), CategoryScreen(terminal, name="category"),
            GuideScreen(terminal, name="guide"), SearchScreen(terminal, name="search"),
            PolicyListScreen(terminal, name="policies"), PolicyScreen(terminal, name="policy")]
