"""Widgets the screens share: wrapping labels, big buttons, list rows, tables, keypads.

Their look is in ``kv/app.kv``; here is only what needs code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.app import App
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.togglebutton import ToggleButton


class KLabel(Label):  # type: ignore[misc]
    """A label that wraps to its width and is as tall as its text."""


class KTitle(KLabel):
    pass


class KButton(Button):  # type: ignore[misc]
    """At least 15 mm tall (app.touch_px), colours from the theme, text scaled."""


class BarButton(Button):  # type: ignore[misc]
    """Top-bar buttons: as wide as their text (no wrapping, so no layout loop)."""


class KToggle(ToggleButton):  # type: ignore[misc]
    pass


class TileButton(Button):  # type: ignore[misc]
    subtitle = StringProperty("")


class RowItem(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One row of a RecycleView list: title, subtitle and status in words."""

    uid = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    status = StringProperty("")
    doc_type = StringProperty("disclosure")

    def on_release(self) -> None:
        App.get_running_app().open_item(self.uid, self.doc_type)


class ServiceItem(RecycleDataViewBehavior, BoxLayout):  # type: ignore[misc]
    name = StringProperty("")
    kind = StringProperty("")
    address = StringProperty("")
    phone = StringProperty("")
    hours = StringProperty("")
    notes = StringProperty("")


class TicketItem(RecycleDataViewBehavior, BoxLayout):  # type: ignore[misc]
    ticket = StringProperty("")
    state_text = StringProperty("")
    text = StringProperty("")
    reply = StringProperty("")
    overdue = BooleanProperty(False)


class TableCell(Label):  # type: ignore[misc]
    """Fills its row's height, so the borders of a row line up."""

    emphasis = BooleanProperty(False)


class TableRow(BoxLayout):  # type: ignore[misc]
    """A table row whose cells wrap; the row is as tall as its tallest cell."""

    weights = ListProperty([])

    def __init__(self, cells: Sequence[str], weights: Sequence[float], *,
                 aligns: Sequence[str] = (), header: bool = False, emphasis: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for i, (text, weight) in enumerate(zip(cells, weights, strict=True)):
            cell = TableCell(text=text, size_hint_x=weight,
                             halign=aligns[i] if i < len(aligns) else "left",
                             emphasis=header or emphasis)
            cell.bind(texture_size=self._fit)
            self.add_widget(cell)
        self._fit()

    def _fit(self, *_args: Any) -> None:
        tallest = max((c.texture_size[1] for c in self.children), default=0)
        self.height = max(tallest + dp(4), dp(44))


LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
DIGIT_ROWS = ("123", "456", "789", "0")


class Keypad(GridLayout):  # type: ignore[misc]
    """On-screen keys (no system keyboard on a kiosk): letters and/or digits plus editing.

    Dispatches ``on_key(key)`` with a letter or digit, or "space", "delete", "clear".
    """

    mode = StringProperty("letters")  # "letters" (with a digit row) or "digits"
    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(mode=self._build)
        self._build()

    def _build(self, *_args: Any) -> None:
        self.clear_widgets()
        if self.mode == "digits":
            rows: list[list[str]] = [list(r) for r in DIGIT_ROWS]
            rows[-1] = ["delete", "0", "clear"]
        else:
            rows = [list("1234567890"), *(list(r) for r in LETTER_ROWS)]
            rows[-1] = [*rows[-1], "delete"]
            rows.append(["clear", "space"])
        self.cols = 1
        for keys in rows:
            line = BoxLayout(size_hint_y=None, spacing=self.spacing[0])
            line.bind(minimum_height=line.setter("height"))
            for key in keys:
                button = KeyButton(key=key)
                button.bind(on_release=lambda b: self.dispatch("on_key", b.key))
                line.add_widget(button)
            self.add_widget(line)

    def on_key(self, key: str) -> None:
        pass


class KeyButton(KButton):
    key = StringProperty("")
