"""Work-arounds for Kivy 2.3.1 defects that matter to a process running for months.

Applied once, before any widget exists (KioskApp.build).
"""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _scrollview_bar_binding()


def _scrollview_bar_binding() -> None:
    """ScrollView.update_from_scroll binds ``bar_color`` on every call but unbinds it only
    once, 0.5 s after the last: every relayout within that half second (a list refilled, a
    large-text toggle relaying out every screen) left one more binding on the scroll view.
    bench/kiosk_bench.py found it: +12% resident size over 10,000 taps, one binding per
    few taps. Unbinding first makes the bind idempotent; behaviour is otherwise the same."""
    from kivy.uix.scrollview import ScrollView

    original = ScrollView.update_from_scroll
    if getattr(original, "juwu_fixed", False):
        return

    def update_from_scroll(self: Any, *largs: Any) -> Any:
        self.funbind("bar_color", self._change_bar_color)
        return original(self, *largs)

    update_from_scroll.juwu_fixed = True  # type: ignore[attr-defined]
    ScrollView.update_from_scroll = update_from_scroll


__all__ = ["apply"]
