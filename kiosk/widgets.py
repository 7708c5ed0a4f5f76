"""Widgets the screens share: wrapping labels, big buttons, list rows, tables, keypads.

Their look is in ``kv/app.kv``; here is only what needs code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.togglebutton import ToggleButton
from kivy.uix.widget import Widget

from kiosk.linebreak import break_lines


class KLabel(Label):  # type: ignore[misc]
    """A label that wraps to its width and is as tall as its text."""


_WIDTHS: dict[tuple[str, float], dict[str, float]] = {}


def text_width(font_name: str, font_size: float) -> Callable[[str], float]:
    """The width of a piece of text in this font and size, remembered per piece."""
    from kivy.core.text import Label as CoreLabel

    known = _WIDTHS.setdefault((font_name, font_size), {})
    if len(known) > 20_000:  # bounded: long-running kiosk
        known.clear()
    core = CoreLabel(font_name=font_name, font_size=font_size)

    def measure(piece: str) -> float:
        width = known.get(piece)
        if width is None:
            width = known[piece] = float(core.get_extents(piece)[0])
        return width

    return measure


class WrapMixin:
    """Set ``source``, not ``text``: the label breaks it into lines by the Chinese rules
    (kiosk.linebreak), again whenever its width or font size changes."""

    source = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rewrap_trigger = Clock.create_trigger(self._rewrap, -1)
        self.fbind("source", self._rewrap_trigger)
        self.fbind("width", self._rewrap_trigger)
        self.fbind("font_size", self._rewrap_trigger)
        self.fbind("padding", self._rewrap_trigger)
        # Before the next frame, not now at Kivy's default width of 100 px (a tall narrow
        # texture rendered for nothing): a screen built before its first frame is laid out
        # by then (KioskApp.on_start).
        self._rewrap_trigger()

    def _rewrap(self, *_args: Any) -> None:
        pad = self.padding
        room = self.width - (pad[0] + pad[2] if len(pad) == 4 else 2 * pad[0]) - 2
        if room <= 20 or not self.source:
            self.text = self.source
            return
        self.text = "\n".join(break_lines(self.source, room,
                                           text_width(self.font_name, self.font_size)))


class WrapLabel(WrapMixin, KLabel):
    """A KLabel with Chinese line breaking (detail paragraphs, announcements, replies)."""


class KTitle(KLabel):
    pass


class KButton(Button):  # type: ignore[misc]
    """At least 15 mm tall (app.touch_px), colours from the theme, text scaled."""


class BarButton(Button):  # type: ignore[misc]
    """Top-bar buttons: as wide as their text (no wrapping, so no layout loop)."""


class KToggle(ToggleButton):  # type: ignore[misc]
    value = StringProperty("")  # what a filter button stands for ("" = all)


class TileButton(ButtonBehavior, Widget):  # type: ignore[misc]
    """A home tile: its name and, smaller beneath it, what it holds.

    Drawn from two text textures rather than built of labels: as one label with [size]
    markup, or as two kv-styled labels, the six tiles took a third of the time home's
    first frame takes to build and draw (bench/kiosk_bench.py). The look (sizes, colours)
    is set in app.kv like any widget's.
    """

    text = StringProperty("")
    subtitle = StringProperty("")
    font_size = NumericProperty(34)
    subtitle_size = NumericProperty(20)
    fg = ListProperty([0, 0, 0, 1])
    bg = ListProperty([1, 1, 1, 1])
    line = ListProperty([0, 0, 0, 1])

    def __init__(self, **kwargs: Any) -> None:
        self._textures: tuple[Any, Any] | None = None
        self._rerender = Clock.create_trigger(self._render, -1)
        self._redraw = Clock.create_trigger(self._draw, -1)
        super().__init__(**kwargs)
        for name in ("text", "subtitle", "font_size", "subtitle_size", "width"):
            self.fbind(name, self._rerender)
        for name in ("pos", "size", "fg", "bg", "line"):
            self.fbind(name, self._redraw)
        self._rerender()

    def _render(self, *_args: Any) -> None:
        from kivy.core.text import Label as CoreLabel

        room = (max(1.0, self.width - dp(12)), None)
        textures = []
        for text, size in ((self.text, self.font_size), (self.subtitle, self.subtitle_size)):
            if not text:
                textures.append(None)
                continue
            core = CoreLabel(text=text, font_size=size, halign="center", text_size=room)
            core.refresh()
            textures.append(core.texture)
        self._textures = (textures[0], textures[1])
        self._draw()

    def _draw(self, *_args: Any) -> None:
        from kivy.graphics import Color, Line, Rectangle

        title, subtitle = self._textures or (None, None)
        heights = [t.height for t in (title, subtitle) if t is not None]
        gap = dp(8) if len(heights) == 2 else 0
        top = self.center_y + (sum(heights) + gap) / 2  # the two lines centred as a block
        self.canvas.clear()
        with self.canvas:
            Color(*self.bg)
            Rectangle(pos=self.pos, size=self.size)
            Color(*self.fg)  # the text textures are white: tinted here
            for texture in (title, subtitle):
                if texture is not None:
                    top -= texture.height
                    Rectangle(texture=texture, size=texture.size,
                              pos=(self.center_x - texture.width / 2, top))
                    top -= gap
            Color(*self.line)
            Line(rectangle=(self.x, self.y, self.width, self.height), width=dp(2))


class RowItem(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One row of a RecycleView list: title, subtitle and status in words.

    ``item_uid``, not ``uid``: a widget's ``uid`` is Kivy's own key for its kv bindings, and
    rows sharing one left bindings behind (warnings, growing memory) when they were freed.
    """

    item_uid = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    status = StringProperty("")
    doc_type = StringProperty("disclosure")

    def on_press(self) -> None:
        # Rows live in a ScrollView, which holds a tap back until the finger lifts (was it
        # a drag?) and then replays the press, but the release only 0.2 s later: acting on
        # the replayed press opens the item as soon as the finger lifts. A drag never
        # presses.
        App.get_running_app().open_item(self.item_uid, self.doc_type)


class ServiceItem(RecycleDataViewBehavior, BoxLayout):  # type: ignore[misc]
    """A service with its QR codes (``qr``: a tel: link for the phone number; ``map_qr``:
    its map link, "" when it has none)."""

    qr = StringProperty("")
    map_qr = StringProperty("")
    name = StringProperty("")
    kind = StringProperty("")
    address = StringProperty("")
    phone = StringProperty("")
    hours = StringProperty("")
    notes = StringProperty("")


class QRCode(Widget):  # type: ignore[misc]
    """The QR code of ``payload`` (e.g. "tel:01065123456"), drawn crisp and square, with
    its white quiet zone, as large as the widget allows; nothing when the payload is empty."""

    payload = StringProperty("")
    matrix = ListProperty([])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("payload", self._encode)
        self.fbind("pos", self._draw)
        self.fbind("size", self._draw)
        self._encode()

    def _encode(self, *_args: Any) -> None:
        from kivy.graphics.texture import Texture

        from kiosk.qr import luminance_bytes, qr_matrix

        self.matrix = qr_matrix(self.payload) if self.payload else []
        self.texture = None
        if self.matrix:
            n = len(self.matrix)
            texture = Texture.create(size=(n, n), colorfmt="luminance")
            texture.mag_filter = texture.min_filter = "nearest"  # sharp modules
            texture.blit_buffer(luminance_bytes(self.matrix), colorfmt="luminance",
                                bufferfmt="ubyte")
            self.texture = texture
        self._draw()

    def _draw(self, *_args: Any) -> None:
        from kivy.graphics import Color, Rectangle

        self.canvas.clear()
        if self.texture is None:
            return
        side = min(self.width, self.height)
        with self.canvas:
            Color(1, 1, 1, 1)  # a QR code is dark on light whatever the theme
            Rectangle(texture=self.texture, size=(side, side),
                      pos=(self.center_x - side / 2, self.center_y - side / 2))


class LedPreview(Widget):  # type: ignore[misc]
    """A board's pages as the driver last confirmed them (BoardStatus.preview_png: 1-bit,
    white = lit, pages stacked): red LEDs on black, each LED `LED_PX` square, one page
    under the other. An empty sheet (quiet hours) draws one unlit page."""

    LED_PX = 4
    GAP = 8

    def __init__(self, png: bytes, pages: int, **kwargs: Any) -> None:
        import io

        from kivy.graphics.texture import Texture
        from PIL import Image as PILImage

        super().__init__(**kwargs)
        sheet = PILImage.open(io.BytesIO(png)).convert("L")
        w = sheet.width
        h = sheet.height // max(1, pages)
        self.textures = []
        for i in range(max(1, pages)):
            page = sheet.crop((0, i * h, w, (i + 1) * h)).transpose(
                PILImage.Transpose.FLIP_TOP_BOTTOM)  # OpenGL's rows run bottom-up
            texture = Texture.create(size=(w, h), colorfmt="luminance")
            texture.mag_filter = texture.min_filter = "nearest"  # square LEDs, no blur
            texture.blit_buffer(page.tobytes(), colorfmt="luminance", bufferfmt="ubyte")
            self.textures.append(texture)
        self.page_size = (w * self.LED_PX, h * self.LED_PX)
        self.size_hint_y = None
        self.height = len(self.textures) * (self.page_size[1] + self.GAP)
        self.fbind("pos", self._draw)
        self.fbind("size", self._draw)
        self._draw()

    def _draw(self, *_args: Any) -> None:
        from kivy.graphics import Color, Rectangle

        self.canvas.clear()
        pw, ph = self.page_size
        with self.canvas:
            for i, texture in enumerate(self.textures):
                y = self.top - (i + 1) * (ph + self.GAP)
                Color(1, 0.18, 0.1, 1)  # white (lit) comes out LED red, black stays black
                Rectangle(texture=texture, pos=(self.x, y), size=(pw, ph))


class TicketItem(RecycleDataViewBehavior, BoxLayout):  # type: ignore[misc]
    ticket = StringProperty("")
    state_text = StringProperty("")
    text = StringProperty("")
    reply = StringProperty("")
    overdue = BooleanProperty(False)


class TableCell(WrapMixin, Label):  # type: ignore[misc]
    """Fills its row's height, so the borders of a row line up; Chinese line breaking."""

    emphasis = BooleanProperty(False)


class TableRow(BoxLayout):  # type: ignore[misc]
    """A table row whose cells wrap; the row is as tall as its tallest cell."""

    weights = ListProperty([])

    def __init__(self, cells: Sequence[str], weights: Sequence[float], *,
                 aligns: Sequence[str] = (), header: bool = False, emphasis: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cells: list[TableCell] = []
        for _ in cells:
            cell = TableCell()
            cell.bind(texture_size=self._fit)
            self.add_widget(cell)
            self.cells.append(cell)
        self.fill(cells, weights, aligns=aligns, header=header, emphasis=emphasis)

    def fill(self, cells: Sequence[str], weights: Sequence[float], *,
             aligns: Sequence[str] = (), header: bool = False, emphasis: bool = False) -> None:
        """New contents for a row of as many cells (a :class:`Recycler` hands rows on)."""
        for i, (cell, text, weight) in enumerate(zip(self.cells, cells, weights, strict=True)):
            cell.source = text
            cell.size_hint_x = weight
            cell.halign = aligns[i] if i < len(aligns) else "left"
            cell.emphasis = header or emphasis
        self._fit()

    def _fit(self, *_args: Any) -> None:
        tallest = max((c.texture_size[1] for c in self.children), default=0)
        self.height = max(tallest + dp(4), dp(44))


class Recycler:
    """The rows and paragraphs of a page that is rebuilt on every visit (the detail page),
    kept for the next build: making a kv-styled label costs about a millisecond and a half,
    giving an old one new text a tenth of that; a finance table has a hundred cells."""

    def __init__(self) -> None:
        self._free: dict[tuple[str, int], list[Any]] = {}

    def harvest(self, box: Any) -> None:
        """Empty `box`, keeping its table rows and paragraphs for :meth:`row`/:meth:`paragraph`."""
        for widget in box.children:
            if isinstance(widget, TableRow):
                self._free.setdefault(("row", len(widget.cells)), []).append(widget)
            elif type(widget) is WrapLabel:
                self._free.setdefault(("paragraph", 0), []).append(widget)
        box.clear_widgets()

    def row(self, cells: Sequence[str], weights: Sequence[float], *,
            aligns: Sequence[str] = (), header: bool = False,
            emphasis: bool = False) -> TableRow:
        free = self._free.get(("row", len(cells)))
        if not free:
            return TableRow(cells, weights, aligns=aligns, header=header, emphasis=emphasis)
        row: TableRow = free.pop()
        row.fill(cells, weights, aligns=aligns, header=header, emphasis=emphasis)
        return row

    def paragraph(self, text: str) -> WrapLabel:
        free = self._free.get(("paragraph", 0))
        if not free:
            return WrapLabel(source=text)
        label: WrapLabel = free.pop()
        label.source = text
        return label


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
