"""The page of a kiosk that cannot start (layout in out_of_service.kv; shown by wiring/out_of_service.py)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

Builder.load_file(str(Path(__file__).with_name("out_of_service.kv")))

VISITORS = "本机暂停服务，已通知工作人员。\n请到服务台办理或使用其他终端。"


class OutOfServicePage(BoxLayout):
    visitors = StringProperty(VISITORS)
    technician = StringProperty("")  # why it did not start and what to do: the line the journal has too
