"""The visitor's session on the App: activity holds the timeouts, a visitor's own
长辈模式 / 高对比度 lasts until the session ends, and settings saved by staff take effect live.

``VisitorSession`` is mixed into the Kivy App (``wiring/app.py``); it expects ``sm``
(the ScreenManager), ``terminal``, ``text_scale``, ``home``, ``add_mode_screens``, ``build_soon`` and ``_tick``.
Kivy is imported only inside its methods.
"""

from __future__ import annotations


class VisitorSession:
    STAFF_SCREENS = ("pin", "settings", "firstpin", "maintenance")  # built lazily, in the terminal's own type size

    def note_activity(self, *_args) -> None:
        screen = self.sm.current_screen if self.sm else None
        timer = getattr(screen, "idle", None)
        if timer is not None:
            timer.poke()
        session = getattr(self, "evaluator_session", None)
        if session is not None:
            session.keep_alive()

    def visitor_style_changed(self) -> bool:
        return self.visitor_large is not None or self.visitor_contrast is not None

    def toggle_visitor_style(self, key: str) -> None:
        """长辈模式 (large type) or 高对比度 from a visitor's button, for this visitor only."""
        from kivy.clock import Clock

        from screens import theme

        if key == "large":
            self.visitor_large = not (self.text_scale > 1)
        else:
            self.visitor_contrast = not theme.high_contrast
        Clock.schedule_once(lambda dt: self._apply_style(), 0)  # not while the tap is dispatched

    def end_visitor_session(self) -> None:
        """Back to the terminal's own type size and colours for the next visitor."""
        if self.visitor_style_changed():
            self.visitor_large = self.visitor_contrast = None
            self._apply_style()

    def _apply_style(self) -> None:
        from screens import theme

        config = self.terminal.config
        large = config.font_scale == "large" if self.visitor_large is None else self.visitor_large
        contrast = bool(self.visitor_contrast)
        if (self.text_scale > 1) == large and theme.high_contrast == contrast:
            return
        self.text_scale = 1.5 if large else 1.0
        theme.use_palette(contrast)
        self.rebuild_screens()

    def rebuild_screens(self) -> None:
        """Build the mode's screens again: sizes and colours are fixed when a widget is made."""
        current = self.sm.current
        for screen in list(self.sm.screens):
            if screen.name in self.STAFF_SCREENS:
                continue
            timer = getattr(screen, "idle", None)
            if timer is not None:
                timer.stop()
            if screen.name == current:
                screen.dispatch("on_leave")
            self.sm.remove_widget(screen)
        self.add_mode_screens()
        self.build_soon()
        self.sm.current = current if self.sm.has_screen(current) else self.home
        self._tick(0)

    def rescreen_for_scale(self) -> None:
        """The window's short side changed (a resized window, another panel): sizes are fixed when a
        widget is made, so every built screen is made again at the new scale, the visitor's now and the
        staff screens when next shown. A visitor's flow starts again at home; staff stay where they are."""
        current = self.sm.current
        self.rebuild_screens()
        for name in self.STAFF_SCREENS:
            if name in self.sm.waiting() or not self.sm.has_screen(name):
                continue
            if self.sm.current == name:
                self.sm.current = self.home
            self.sm.remove_widget(self.sm.get_screen(name))
            self.sm.add_lazy(name, lambda name=name: self.staff_screen(name))
        staff = current in self.STAFF_SCREENS
        self.sm.current = current if staff and self.sm.has_screen(current) else self.home

    def apply_live_settings(self) -> None:
        """After a save: font scale and timeouts take effect without a restart."""
        config = self.terminal.config
        self.visitor_large = self.visitor_contrast = None
        large = config.font_scale == "large"
        if (self.text_scale > 1) != large:
            self.text_scale = 1.5 if large else 1.0
            self.rebuild_screens()
        for screen in self.sm.screens:
            timer = getattr(screen, "idle", None)
            timeout = {"grid": config.timeouts.idle_s, "priority": config.timeouts.idle_s,
                       "ticket": config.timeouts.ticket_screen_s}.get(screen.name)
            if screen.name in ("category", "guide", "search", "policies", "policy"):
                timeout = config.timeouts.inquiry_idle_s
            if timer is not None and timeout:
                timer.timeout = timeout
