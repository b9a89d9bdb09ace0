"""The terminal settings form: mode, window, server, enrollment, PIN, printer, timeouts, type size,
volume, language. Static layout in form.kv; the values come from a ``SettingsDraft`` each time the
screen opens, and go back to ``kiosk.terminal_settings`` on 保存."""

from __future__ import annotations

import threading
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.lang import Builder
from kivy.uix.boxlayout import BoxLayout

from kiosk.terminal_settings import SettingsDraft

from .. import theme
from ..widgets import measure
from .controls import Choice, Stepper
from .staff import StaffScreen

Builder.load_file(str(Path(__file__).with_name("form.kv")))


class SettingsForm(BoxLayout):
    """The form's layout; its buttons fire ``on_action(name)`` (save, leave, enroll, ...)."""

    __events__ = ("on_action",)

    def on_action(self, name):
        pass

    @staticmethod
    def fields_fit(width: float, field) -> bool:
        """Whether two fields like ``field`` side by side in ``width`` show its whole hint."""
        app = App.get_running_app()
        room = (width - app.px(theme.GAP)) / 2 - field.padding[0] - field.padding[2]
        return measure(field.hint_text, field.font_size)[0] <= room


class SettingsScreen(StaffScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, "终端设置", SettingsForm(), **kw)
        self.draft: SettingsDraft | None = None
        self.status_event = None
        self._loading = False
        ids = self.view.ids
        self.server, self.code, self.new_pin, self.new_pin_again = ids.server, ids.code, ids.new_pin, ids.new_pin_again
        self.message, self.printer_state, self.scroll = ids.message, ids.printer_state, ids.scroll
        self.controls = [w for w in self.view.walk() if isinstance(w, (Choice, Stepper))]
        for control in self.controls:
            control.bind(on_change=lambda c, value: self._change(c.key, value))
        self.server.bind(text=lambda _w, v: None if self._loading else self.draft.set("server.url", v.strip()))
        self.view.bind(on_action=lambda _v, name: getattr(self, name)())

    # -- the form shows the current settings each time it opens
    def on_pre_enter(self, *args):
        self.draft = self.terminal.settings.draft()
        self.load()
        self.status_event = Clock.schedule_interval(lambda dt: self.refresh_status(), 2)
        self.refresh_status()

    def on_leave(self, *args):
        super().on_leave(*args)
        if self.status_event:
            self.status_event.cancel()

    def load(self) -> None:
        d = self.draft
        self._loading = True
        try:
            ports = self.terminal.settings.serial_ports()
            current_port = d.get("printer.port")
            options = [(p, p) for p in ports]
            if current_port and current_port not in ports:
                options.insert(0, (current_port, f"{current_port}（未检测到）"))
            options.insert(0, ("", "不用串口"))
            self.view.ids.port.options = options[:5]
            for control in self.controls:
                control.value = d.get(control.key)
            self.server.text = d.get("server.url")
            self.code.text = self.new_pin.text = self.new_pin_again.text = ""
            self.printer_state.text = ""
            self.message.text = ""
            self.message.color = theme.rgba(theme.INK)
            self.scroll.scroll_y = 1
        finally:
            self._loading = False

    def _change(self, key: str, value) -> None:
        self.draft.set(key, value)
        if key == "printer.port":
            self.draft.set("printer.kind", "serial" if value else "preview")

    # -- actions
    def refresh_status(self) -> None:
        def work():
            text = self.terminal.settings.printer_status_text(self.draft)
            self._show_status(text)

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _show_status(self, text: str) -> None:
        self.printer_state.text = text

    def test_print(self) -> None:
        self.message.text = "正在打印测试页…"

        def work():
            ok, text = self.terminal.settings.test_print(self.draft)
            self._show_message(text, ok)

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _show_message(self, text: str, ok: bool = True) -> None:
        self.message.text = text
        self.message.color = theme.rgba(theme.GREEN if ok else theme.RED)

    def enroll(self) -> None:
        ok, text = self.terminal.settings.enroll(self.draft.get("server.url"), self.code.text.strip())
        self._show_message(text, ok)

    def change_pin(self) -> None:
        ok, text = self.terminal.settings.change_pin(self.new_pin.text.strip(), self.new_pin_again.text.strip())
        self.new_pin.text = self.new_pin_again.text = ""
        self._show_message(text, ok)

    def save(self) -> None:
        ok, text = self.terminal.settings.save(self.draft)
        self._show_message(text, ok)
        if ok:
            App.get_running_app().apply_live_settings()

    def exit_for_maintenance(self) -> None:
        App.get_running_app().exit_for_maintenance()
