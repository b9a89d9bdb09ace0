"""What the on-screen settings do, without Kivy: PIN check, draft, test print, save."""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import ConfigInvalid, PrinterSettings, TerminalConfig

if TYPE_CHECKING:
    from .terminal import Terminal

log = logging.getLogger(__name__)

# the fields the settings screen edits, as "section.key" of the terminal file
EDITABLE = {
    "terminal.mode": lambda c: c.mode,
    "terminal.window": lambda c: c.window,
    "terminal.font_scale": lambda c: c.font_scale,
    "terminal.language": lambda c: c.language,
    "server.url": lambda c: c.server_url,
    "printer.kind": lambda c: c.printer.kind,
    "printer.port": lambda c: c.printer.port,
    "printer.baud": lambda c: c.printer.baud,
    "printer.paper_width_mm": lambda c: c.printer.paper_width_mm,
    "timeouts.idle_s": lambda c: c.timeouts.idle_s,
    "timeouts.ticket_screen_s": lambda c: c.timeouts.ticket_screen_s,
    "voice.volume": lambda c: c.voice_volume,
}


class SettingsDraft:
    """Edited values, kept apart from the running config until saved."""

    def __init__(self, config: TerminalConfig):
        self.original = {k: read(config) for k, read in EDITABLE.items()}
        self.values = dict(self.original)

    def get(self, key: str) -> Any:
        return self.values[key]

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if v != self.original[k]}

    def printer_settings(self, base: PrinterSettings) -> PrinterSettings:
        settings = copy.copy(base)
        for key, value in self.values.items():
            if key.startswith("printer."):
                setattr(settings, key.split(".", 1)[1], value)
        return settings


class TerminalSettings:
    def __init__(self, terminal: "Terminal"):
        self.terminal = terminal
        self.config = terminal.config

    # -- PIN
    def _guard(self):
        from .pin import PinGuard

        return PinGuard(Path(self.config.data_dir), self.config.pin_hash)

    def pin_status_text(self) -> str:
        """What the pad says when it opens: no PIN set yet, or how long a lock lasts."""
        status = self._guard().status()
        return "" if status.ok else status.message_zh

    def verify_pin(self, pin: str):
        result = self._guard().verify(pin)
        log.info("settings PIN %s", "accepted" if result.ok else "refused")
        return result

    def change_pin(self, new: str, again: str) -> tuple[bool, str]:
        """Set a new settings PIN (6 digits, no runs or repeats); (ok, message in Chinese)."""
        from .config_write import apply_settings
        from .pin import hash_pin, pin_problem

        if new != again:
            return False, "两次输入的新密码不一致"
        problem = pin_problem(new)
        if problem:
            return False, problem.split(" / ")[-1]
        try:
            new_config = apply_settings(self.terminal_file(), {"security.pin_hash": hash_pin(new)},
                                        log_dir=Path(self.config.data_dir) / "logs")
        except ConfigInvalid as exc:
            return False, "；".join(f"{e.field}: {e.message}" for e in exc.errors)
        except OSError as exc:
            return False, f"无法保存：{exc.strerror or exc}"
        self.config.pin_hash = new_config.pin_hash
        self._guard().reset()
        log.info("settings PIN changed on the settings screen")
        return True, "管理密码已修改"

    def pin_set(self) -> bool:
        from .pin import pin_configured

        return pin_configured(self.config.pin_hash)

    def set_first_pin(self, pin: str) -> tuple[bool, str]:
        """First start with no PIN: the person at the screen sets it (kiosk.pin decides what is
        allowed). Never replaces a PIN: changing one takes `kiosk terminal set-pin` on the box."""
        from .config_write import apply_settings
        from .pin import hash_pin, pin_problem

        if self.pin_set():
            return False, "管理密码已设置，不能在此修改"
        problem = pin_problem(pin)
        if problem:
            return False, "这个密码不能使用：" + problem.split(" / ")[-1]
        try:
            pin_hash = hash_pin(pin)
        except ValueError:
            return False, "这个密码不能使用，请换一个"
        try:
            new = apply_settings(self.terminal_file(), {"security.pin_hash": pin_hash},
                                 log_dir=Path(self.config.data_dir) / "logs")
        except (ConfigInvalid, OSError) as exc:
            log.error("first PIN not saved: %s", exc)
            return False, "保存失败，请联系维护人员"
        self.config.pin_hash = new.pin_hash
        log.warning("settings PIN set from the first-run screen")
        return True, "管理密码已设置"

    # -- drafts and devices
    def draft(self) -> SettingsDraft:
        return SettingsDraft(self.config)

    @staticmethod
    def serial_ports() -> list[str]:
        from serial.tools import list_ports

        return sorted(p.device for p in list_ports.comports())

    def _printer_for(self, draft: SettingsDraft):
        """The running printer when the draft did not change it; else a temporary one."""
        settings = draft.printer_settings(self.config.printer)
        if asdict(settings) == asdict(self.config.printer):
            return self.terminal.printer, False
        return self.terminal.open_printer(settings), True

    def printer_status_text(self, draft: SettingsDraft) -> str:
        try:
            printer, temporary = self._printer_for(draft)
        except Exception as exc:
            return f"无法打开：{exc}"
        try:
            status = printer.status()
            return f"{status.label_zh} / {status.label_en}"
        finally:
            if temporary:
                printer.close()

    def test_print(self, draft: SettingsDraft) -> tuple[bool, str]:
        from .ports import PrintError
        from .ticket_layout import test_page_document

        settings = draft.printer_settings(self.config.printer)
        try:
            printer, temporary = self._printer_for(draft)
        except Exception as exc:
            return False, f"无法打开打印机：{exc}"
        try:
            page = test_page_document(settings, self.terminal.hall.timezone, self.terminal.clock())
            printer.print_document(page)
            return True, "测试页已打印"
        except PrintError as exc:
            return False, f"测试页打印失败：{exc}"
        finally:
            if temporary:
                printer.close()

    def enroll(self, server_url: str, code: str) -> tuple[bool, str]:
        try:
            from .sync import enroll  # built with the terminal-sync work
        except ImportError:
            return False, "终端注册功能尚未提供（需大厅服务器同步功能）"
        try:
            enroll(server_url, code, self.config, path=self.terminal_file())
        except Exception as exc:
            return False, f"注册失败：{exc}"
        return True, "注册成功，重启后连接大厅服务器"

    # -- saving
    def terminal_file(self) -> Path:
        from .config_write import default_terminal_file, ensure_terminal_file

        path = self.config.source or default_terminal_file()
        return ensure_terminal_file(Path(path))

    def save(self, draft: SettingsDraft) -> tuple[bool, str]:
        from .config_write import apply_settings

        changes = draft.changes()
        if not changes:
            return True, "没有修改"
        path = self.terminal_file()
        try:
            new = apply_settings(path, changes, log_dir=Path(self.config.data_dir) / "logs")
        except ConfigInvalid as exc:
            return False, "；".join(f"{e.field}: {e.message}" for e in exc.errors)
        restart = any(k.split(".")[0] in ("server",) or k in ("terminal.mode", "terminal.window")
                      for k in changes)
        restart = not self._adopt(new) or restart
        draft.original = dict(draft.values)
        return True, "已保存" + ("，重启后生效" if restart else "")

    def _adopt(self, new: TerminalConfig) -> bool:
        """Take over what can change while running: printer, timeouts, font, voice. False when the new
        printer could not be opened: it is saved, and the running one (and its settings) stay until a restart."""
        old = self.config
        taken = True
        if asdict(new.printer) != asdict(old.printer):
            try:
                self.terminal.replace_printer(new.printer)  # sets config.printer too
            except Exception as exc:
                log.error("new printer settings saved but not taken over: %s", exc)
                taken = False
        old.timeouts = new.timeouts
        old.font_scale = new.font_scale
        old.language = new.language
        old.voice_volume = new.voice_volume
        old.source = new.source
        return taken
