"""A ScreenManager that builds some screens the first time they are asked for.

A dispenser's visitors never see the staff screens (PIN, settings) or 预约取号's keypad, and may
never see the green-channel question; built at start they cost the terminal about 25 MB of widgets
and label textures and a share of its cold start (issue 17). ``add_lazy(name, factory)`` names
such a screen; ``has_screen`` knows it, and ``get_screen`` (which Kivy's ``current`` goes
through) builds it then, once. A screen added by its widget replaces a waiting factory of its name.
"""

from __future__ import annotations

from typing import Callable

from kivy.uix.screenmanager import Screen, ScreenManager


class LazyScreenManager(ScreenManager):
    def __init__(self, **kw):
        super().__init__(**kw)
        self._factories: dict[str, Callable[[], Screen]] = {}

    def add_lazy(self, name: str, factory: Callable[[], Screen]) -> None:
        """Build ``factory()`` (a Screen named ``name``) when the screen is first shown or asked for."""
        if super().has_screen(name):
            raise ValueError(f"screen {name!r} is already built")
        self._factories[name] = factory

    def waiting(self) -> set[str]:
        """The names of the screens not built yet."""
        return set(self._factories)

    def has_screen(self, name: str) -> bool:
        return name in self._factories or super().has_screen(name)

    def get_screen(self, name: str) -> Screen:
        factory = self._factories.pop(name, None)
        if factory is not None:
            screen = factory()
            if screen.name != name:
                raise ValueError(f"the factory of screen {name!r} built {screen.name!r}")
            self.add_widget(screen)
        return super().get_screen(name)

    def add_widget(self, widget, *args, **kwargs):
        if isinstance(widget, Screen):
            self._factories.pop(widget.name, None)
        return super().add_widget(widget, *args, **kwargs)
