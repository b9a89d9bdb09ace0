"""Service guides (办事指南) and policy documents for the inquiry terminal. No Kivy here.

    catalogue = GuideCatalogue.load()            # shipped content; or load(folder, hall)
    catalogue.categories()                       # tiles on the home screen
    catalogue.hot()                              # hot items
    catalogue.guides("assistance")               # one category's list
    catalogue.guide("dibao-shenqing")            # one guide
    catalogue.search("dbsq")                     # ranked SearchHit list, as the visitor types
    notice_slip(guide, hall_name=..., qr_data=catalogue.guide_url(guide))  # 一次性告知单
"""

from .catalogue import GuideCatalogue, SearchHit
from .loader import check_content, load_content, read_content
from .model import CASE_TYPES, MATERIAL_FORMS, Category, Guide, GuideContent, Material, Policy
from .notice import notice_slip

__all__ = [
    "CASE_TYPES", "MATERIAL_FORMS", "Category", "Guide", "GuideCatalogue", "GuideContent", "Material",
    "Policy", "SearchHit", "check_content", "load_content", "notice_slip", "read_content",
]
