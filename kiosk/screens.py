"""The screens: state as Kivy properties, loading through the app's worker.

Each screen has ``show(**params)`` (called by ``app.go``), ``reset()`` (clears what a resident
typed; called on idle) and ``has_input()``. Layout is in ``kv/<screen>.kv``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, Line
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import FocusBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen

from content.domain import Kind
from content.errors import SearchError, SubmissionError
from kiosk.pdfpages import MAX_PAGES as MAX_PDF_PAGES
from kiosk.pdfpages import PageImage, PageRenderer, PdfUnreadable, is_pdf, page_cache_dir
from kiosk.qr import tel_payload
from kiosk.speech import spoken_text
from kiosk.views import (
    CATEGORY_ORDER,
    AdminView,
    AttachmentView,
    DetailView,
    HomeView,
    Row,
    ServiceRow,
    SyncNowResult,
    TicketView,
    blob_exists,
)
from kiosk.widgets import KButton, KLabel, KTitle, KToggle, LedPreview, Recycler, TileButton

TOPICS = ("财务", "低保救助", "党务", "政务", "物业维修", "环境卫生", "其他")
PHRASES = ("请公开明细", "什么时候办理", "费用是否合理", "为什么", "建议", "谢谢")
ADMIN_LOG_LINES = 40  # the admin screen's report is one label: keep it far below ~900 lines
if TYPE_CHECKING:
    from content.submissions import FeedbackReceipt

SUGGESTIONS = ("财务公开", "cwgk", "低保", "电梯", "党费", "维修", "bmfw")


def app() -> Any:
    return App.get_running_app()


def clear_toggles(box: Any) -> None:
    """Empty `box` of its toggle buttons, taking them out of their groups first.

    Kivy's toggle groups outlive the buttons: pressing a new button of the group would
    release an old one that is being garbage-collected, whose kv rules then fail with
    ReferenceError (found by bench/kiosk_bench.py after thousands of taps).
    """
    for button in box.children:
        if isinstance(button, KToggle):
            button.group = None
    box.clear_widgets()


def toggle(text: str, group: str, down: bool, action: Any, value: str = "") -> KToggle:
    """A filter/choice button; `action()` runs on release; `value` is what it stands for."""
    button = KToggle(text=text, group=group or None, state="down" if down else "normal",
                     allow_no_selection=False, value=value)
    if group:
        button.bind(on_release=lambda _b: action())
    else:  # a one-shot choice (phrase, candidate, suggestion): pops back up
        button.bind(on_release=lambda b: (setattr(b, "state", "normal"), action()))
    return button


class KioskScreen(Screen):  # type: ignore[misc]
    loading = BooleanProperty(False)
    panel = StringProperty("")

    def on_kv_post(self, _base: Any) -> None:
        # Panels (ids ending in "_panel") take turns on the screen: only the shown one is
        # in the widget tree (a hidden-but-present widget would still take touches).
        # ids holds weak proxies: keep the panels themselves, or a panel taken out of the
        # tree would be garbage-collected.
        self._panels = {k[:-6]: getattr(w, "__self__", w) for k, w in self.ids.items()
                        if k.endswith("_panel")}
        if self._panels:
            self.panel = next(iter(self._panels))
            self.on_panel(self, self.panel)

    def on_panel(self, _screen: Any, name: str) -> None:
        for key, widget in getattr(self, "_panels", {}).items():
            if key != name and widget.parent is self:
                self.remove_widget(widget)
            elif key == name and widget.parent is None:
                self.add_widget(widget)

    def show(self, **params: Any) -> None:
        pass

    def on_leave(self, *_args: Any) -> None:
        # A field left focused would keep the system keyboard, and what is typed next
        # would go to a screen nobody sees.
        for widget in self.walk(restrict=True):
            if isinstance(widget, FocusBehavior) and widget.focus:
                widget.focus = False

    def relabel(self) -> None:
        """The locale changed: redo what Python built (kv bindings follow by themselves)."""
        self.show(**getattr(self, "params", {}))

    def reset(self) -> None:
        pass

    def has_input(self) -> bool:
        return False

    def _rows(self, rows: list[Row]) -> list[dict[str, Any]]:
        t = app().t
        return [{"item_uid": r.uid, "title": r.title, "subtitle": r.subtitle,
                 "status": t[f"status.{r.status}"], "doc_type": r.doc_type} for r in rows]


class HomeScreen(KioskScreen):
    tiles = ListProperty([])
    new_items = ListProperty([])
    announcements = StringProperty("")
    has_data = False  # shown with its data at least once (the kiosk is then ready)

    def show(self, **params: Any) -> None:
        saved = app().take_saved_home()  # the first time only (kiosk.home_snapshot)
        if saved is not None:
            self._loaded(saved)
        else:
            self.refresh()

    def refresh(self) -> None:
        self.loading = True
        app().run_io(app().backend.home, self._loaded)

    def _loaded(self, view: HomeView) -> None:
        self.has_data = True
        self.loading = False
        app().community_name = view.community
        t = app().t
        self.tiles = [{"value": c.value, "label": c.label,
                       "subtitle": t["home.current_n"].format(n=c.current)} for c in view.tiles]
        self.new_items = self._rows(view.new_this_week)
        # No space after the bullet: Kivy would break the line there.
        self.announcements = "\n".join(f"•{a}" for a in view.announcements)

    def on_tiles(self, _screen: Any, tiles: list[dict[str, str]]) -> None:
        grid = self.ids.tiles
        grid.clear_widgets()
        for tile in tiles:
            grid.add_widget(TileButton(
                text=tile["label"], subtitle=tile["subtitle"],
                on_release=lambda _b, c=tile["value"]: app().go("browse", category=c)))
        grid.add_widget(TileButton(text=app().t["home.services"],
                                   on_release=lambda _b: app().go("services")))


class BrowseScreen(KioskScreen):
    category = StringProperty("")
    kind = StringProperty("")
    period = StringProperty("current")
    years = ListProperty([])
    count = NumericProperty(0)
    rows = ListProperty([])
    _ticket = 0

    def show(self, **params: Any) -> None:
        self.category = params.get("category", "")
        self.kind = params.get("kind", "")
        self.period = params.get("period", "current")
        if not self.years:
            app().ask(lambda d: d.years(), lambda ys: setattr(self, "years", ys))
        self.refresh()

    def set_filter(self, **changes: str) -> None:
        for key, value in changes.items():
            setattr(self, key, value)
        self.refresh()

    def on_years(self, *_args: Any) -> None:
        self._build_filters()

    def _build_filters(self) -> None:
        # Making a button costs milliseconds (kv rules): build the ~30 filter buttons once
        # (again when the years or the language change); a filter change only moves the
        # selection (bench/kiosk_bench.py).
        cats, periods = self.ids.cats, self.ids.periods
        key = (tuple(self.years), app().locale)
        if key == getattr(self, "_filters_key", None):
            chosen = {"cat": self.category, "kind": self.kind, "period": self.period}
            for button in [*cats.children, *periods.children]:
                button.state = "down" if chosen[button.group] == button.value else "normal"
            return
        self._filters_key = key
        t = app().t
        clear_toggles(cats)
        clear_toggles(periods)
        for value, label in [("", t["browse.all"]), *((c.value, c.label) for c in CATEGORY_ORDER)]:
            cats.add_widget(toggle(label, "cat", value == self.category,
                                   lambda v=value: self.set_filter(category=v), value))
        for value, label in [("", t["browse.all"]), *((k.value, k.label) for k in Kind)]:
            cats.add_widget(toggle(label, "kind", value == self.kind,
                                   lambda v=value: self.set_filter(kind=v), value))
        choices = [("current", t["browse.current"]), ("month", t["browse.month"]),
                   ("quarter", t["browse.quarter"]),
                   *((f"year:{y}", t["browse.year"].format(year=y)) for y in self.years),
                   ("all", t["browse.all"])]
        for value, label in choices:
            periods.add_widget(toggle(label, "period", value == self.period,
                                      lambda v=value: self.set_filter(period=v), value))

    def refresh(self) -> None:
        self._build_filters()
        self._ticket += 1
        ticket = self._ticket
        category, kind, period = self.category, self.kind, self.period
        self.loading = True
        app().ask(lambda d: d.browse(category, kind, period),
                     lambda rows: self._loaded(ticket, rows))

    def _loaded(self, ticket: int, rows: list[Row]) -> None:
        if ticket != self._ticket:
            return
        self.loading = False
        self.count = len(rows)
        self.rows = self._rows(rows)


class DetailScreen(KioskScreen):
    item_uid = StringProperty("")  # not `uid`: Kivy's own (see widgets.RowItem)
    view: DetailView | None = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    speaking = BooleanProperty(False)
    _ticket = 0  # a new fill or a reset drops the PDF pages still on their way
    _read_button: KButton | None = None
    _attachments: KTitle | None = None
    _poll: Any = None  # the Clock event watching the speech

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recycler = Recycler()

    def show(self, **params: Any) -> None:
        self.stop_reading()
        self.item_uid = uid = params["uid"]
        self.loading = True
        app().ask(lambda d: d.detail(uid), self._loaded)

    def _loaded(self, view: DetailView | None) -> None:
        self.loading = False
        if view is None:
            app().reset_to_home()
            return
        self.view = view
        self.title = view.title
        self._fill(view)
        self.ids.scroll.scroll_y = 1

    def _fill(self, v: DetailView) -> None:
        t = app().t
        self._ticket += 1
        box = self.ids.content
        self.recycler.harvest(box)
        add, row = box.add_widget, self.recycler.row
        add(KLabel(text=f"{v.heading} · {t['status.' + v.status]}"))
        self._read_button = self._attachments = None
        if app().speaker.available:
            self._read_button = KButton(on_release=lambda *_: self.toggle_reading())
            self.on_speaking(self, self.speaking)
            add(self._read_button)
        if v.newest_uid != v.uid:
            add(KButton(text=t["detail.newer"],
                        on_release=lambda *_: app().go("detail", uid=v.newest_uid)))
        if v.correction:
            add(KLabel(text=t["detail.corrected_on"].format(date=v.correction)))
        facts = [(t["detail.published"], v.published),
                 (t["detail.take_down"], v.take_down or t["detail.permanent"])]
        if v.period:
            facts.insert(0, (t["detail.period"], v.period))
        for key, value in facts:
            add(row([key, value], [0.3, 0.7]))
        for paragraph in v.paragraphs:  # one label per paragraph: very long labels draw nothing
            add(self.recycler.paragraph(paragraph))
        if v.finance is not None:
            self._finance(v)
        if v.sign_offs:
            add(KTitle(text=t["detail.signoffs"]))
            for role, person, date in v.sign_offs:
                add(row([role, person, date], [0.35, 0.3, 0.35]))
        if v.revisions:
            add(KTitle(text=t["detail.revisions"]))
            for rev in v.revisions:
                label = rev.label + (t["detail.this_version"] if rev.shown else "")
                add(KButton(text=label, disabled=rev.shown,
                            on_release=lambda _b, uid=rev.uid: app().go("detail", uid=uid)))
        if v.attachments:
            self._attachments = KTitle(text=t["detail.attachments"])
            add(self._attachments)
            pdfs: list[tuple[AttachmentView, BoxLayout]] = []
            for a in v.attachments:
                if a.media_type.startswith("image/") and blob_exists(a.path):
                    add(Image(source=a.path, size_hint_y=None, height=400, fit_mode="contain"))
                add(KLabel(text=f"{a.name}（{a.media_type}）"))
                if is_pdf(a.media_type) and blob_exists(a.path):
                    pages = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(8))
                    pages.bind(minimum_height=pages.setter("height"))
                    add(pages)
                    pdfs.append((a, pages))
            self._show_pdfs(self._ticket, pdfs, MAX_PDF_PAGES)
        add(KButton(text=t["detail.ask"],
                    on_release=lambda *_: app().go("ask", disclosure_uid=v.uid,
                                                   disclosure_title=v.title)))

    def _show_pdfs(self, ticket: int, pdfs: list[tuple[AttachmentView, BoxLayout]],
                   budget: int) -> None:
        """Each PDF's pages into its box, one document after another, one page per worker
        call (other screens' questions wait behind one page at most); at most `budget`
        pages in all. A PDF that cannot be shown says so in its box; the page stays."""
        if not pdfs or ticket != self._ticket:
            return
        (a, box), rest = pdfs[0], pdfs[1:]
        t = app().t
        status = KLabel(text=t["detail.pdf_loading"])
        box.add_widget(status)
        renderer = PageRenderer(page_cache_dir(app().backend.config.data_dir))
        path, sha = Path(a.path), a.sha256
        width = int(Window.width - dp(52))  # the content's width: padding and scroll bar

        def failed(error: BaseException) -> None:
            if ticket != self._ticket:
                return
            if isinstance(error, PdfUnreadable):
                status.text = t[f"detail.pdf_{error.reason}"]
            else:
                status.text = t["detail.pdf_damaged"]
                logging.getLogger(__name__).warning("kiosk: PDF %s not shown: %s", a.name,
                                                    error, exc_info=error)
            self._show_pdfs(ticket, rest, budget)

        def counted(total: int) -> None:
            if ticket != self._ticket:
                return
            status.text = t["detail.pdf_pages"].format(n=total)
            step(0, total, min(total, budget))

        def step(index: int, total: int, shown: int) -> None:
            if index < shown:
                app().run_io(lambda: renderer.page(path, sha, index, width),
                             lambda page: landed(page, index, total, shown), failed, wait_s=0)
                return
            if total > shown:
                box.add_widget(KLabel(text=t["detail.pdf_more"].format(n=total - shown)))
            self._show_pdfs(ticket, rest, budget - shown)

        def landed(page: PageImage, index: int, total: int, shown: int) -> None:
            if ticket != self._ticket:
                return
            try:
                box.add_widget(page_widget(page))
            except Exception as e:  # e.g. a texture the GPU refuses: say so, stay here
                failed(e)
                return
            box.add_widget(KLabel(text=t["detail.pdf_page"].format(i=index + 1, n=total),
                                  halign="center", color=app().c_muted))
            step(index + 1, total, shown)

        app().run_io(lambda: renderer.count(path), counted, failed, wait_s=0)

    def scroll_to_attachments(self) -> None:
        """Bring the attachments to the top of the view (the screenshot tour's PDF pages)."""
        title, scroll, content = self._attachments, self.ids.scroll, self.ids.content
        if title is None or title.parent is None or content.height <= scroll.height:
            return
        top = title.top - content.y + dp(8)  # from the content's bottom
        scroll.scroll_y = min(1.0, max(0.0, (top - scroll.height)
                                       / (content.height - scroll.height)))

    def toggle_reading(self) -> None:
        """朗读: speak the page, or stop if it is being spoken."""
        speaker = app().speaker
        if speaker.speaking():
            self.stop_reading()
            return
        if self.view is None:
            return
        speaker.speak(spoken_text(self.view))
        self.speaking = speaker.speaking()
        if self.speaking:  # the button turns back when the speech ends by itself
            self._poll = Clock.schedule_interval(self._check_speaking, 0.5)

    def _check_speaking(self, _dt: float) -> bool:
        self.speaking = app().speaker.speaking()
        return self.speaking  # False unschedules

    def stop_reading(self) -> None:
        app().speaker.stop()
        self.speaking = False
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def on_speaking(self, _screen: Any, speaking: bool) -> None:
        if self._read_button is not None:
            self._read_button.text = app().t["detail.stop_reading" if speaking
                                             else "detail.read_aloud"]

    def on_leave(self, *args: Any) -> None:
        super().on_leave(*args)
        self.stop_reading()

    def _finance(self, v: DetailView) -> None:
        assert v.finance is not None
        t, f, add = app().t, v.finance, self.ids.content.add_widget
        row = self.recycler.row
        weights = (0.12, 0.2, 0.3, 0.2, 0.18)
        aligns = ("left", "left", "left", "right", "left")
        add(KTitle(text=t["detail.finance"]))
        add(row([t["fin.direction"], t["fin.category"], t["fin.item"], t["fin.amount"],
                 t["fin.note"]], weights, aligns=aligns, header=True))
        for r in f.rows:
            add(row([t[f"fin.{r.direction}"], r.category, r.item, r.amount, r.note],
                    weights, aligns=aligns))
        for key, amount in (("fin.opening", f.opening), ("fin.income_total", f.income),
                            ("fin.expense_total", f.expense), ("fin.closing", f.closing)):
            add(row([t[key], amount], [0.62, 0.2], aligns=("left", "right"), emphasis=True))

    def reset(self) -> None:
        self.stop_reading()
        self._ticket += 1
        self.view = None


def page_widget(page: PageImage) -> Image:
    """A PDF page: its pixels (decoded on the worker) uploaded as a texture, as tall as the
    width it gets allows (never enlarged)."""
    texture = Texture.create(size=(page.width, page.height), colorfmt="rgb")
    texture.blit_buffer(page.rgb, colorfmt="rgb", bufferfmt="ubyte")
    texture.flip_vertical()  # the pixels come top row first, OpenGL starts at the bottom
    image = Image(texture=texture, size_hint_y=None, height=page.height, fit_mode="contain")
    image.bind(width=lambda w, width: setattr(
        w, "height", min(page.height, width * page.height / page.width)))
    with image.canvas.after:  # a white page's edge on a light background: a grey frame
        Color(0.55, 0.55, 0.55, 1)
        frame = Line(width=1)

    def place(*_args: Any) -> None:
        w, h = image.norm_image_size
        frame.rectangle = (image.center_x - w / 2, image.center_y - h / 2, w, h)

    image.bind(pos=place, size=place)
    return image


class SearchScreen(KioskScreen):
    query = StringProperty("")
    results = ListProperty([])
    status_text = StringProperty("")
    suggestions = ListProperty(list(SUGGESTIONS))
    _ticket = 0
    _stale = False  # the query changed while a search was running: search again when it lands

    def on_kv_post(self, base: Any) -> None:
        super().on_kv_post(base)
        for text in self.suggestions:
            self.ids.suggestions.add_widget(
                toggle(text, "", False, lambda v=text: self.suggest(v)))

    def relabel(self) -> None:
        self.run_search()

    def on_query(self, _screen: Any, _value: str) -> None:
        # Results as you type, at once: a key search starts the search in the same frame
        # (a fixed debounce delay would cost every keypress that delay). While one search
        # runs, further keys only mark it stale; the latest query runs when it lands, so a
        # fast typist queues at most one search.
        if self.loading:
            self._stale = True
        else:
            self.run_search()

    def key(self, key: str) -> None:
        if key == "delete":
            self.query = self.query[:-1]
        elif key == "clear":
            self.query = ""
        elif key == "space":
            self.query += " "
        else:
            self.query += key

    def suggest(self, text: str) -> None:
        self.query = text

    def run_search(self) -> None:
        self._ticket += 1
        ticket, query, backend = self._ticket, self.query, app().backend
        if not query.strip():
            self.results, self.status_text = [], ""
            return
        self.loading = True

        def work() -> tuple[list[Row], int] | str:
            try:
                return backend.data().search(query)
            except SearchError as e:  # shown to the resident, not an error of the kiosk
                return str(e)

        app().run_io(work, lambda result: self._loaded(ticket, result))

    def _loaded(self, ticket: int, result: tuple[list[Row], int] | str) -> None:
        self.loading = False
        if ticket != self._ticket or self._stale:
            self._stale = False
            self.run_search()  # the query changed meanwhile: only its results are worth drawing
            return
        t = app().t
        if isinstance(result, str):
            self.results, self.status_text = [], result
            return
        rows, total = result
        self.results = self._rows(rows)
        self.status_text = t["search.results"].format(n=total) if rows else t["search.none"]

    def reset(self) -> None:
        self.query = ""
        self.results = []
        self.status_text = ""
        self._ticket += 1  # a search still running for the old query is dropped

    def has_input(self) -> bool:
        return bool(self.query)


class ServicesScreen(KioskScreen):
    kinds = ListProperty([])
    kind = StringProperty("")
    rows = ListProperty([])
    highlight = StringProperty("")

    def show(self, **params: Any) -> None:
        self.highlight = params.get("uid", "")
        if not self.kinds:
            app().ask(lambda d: d.service_kinds(), lambda ks: setattr(self, "kinds", ks))
        self.select(params.get("kind", ""))

    def on_kinds(self, *_args: Any) -> None:
        self._build_kinds()

    def _build_kinds(self) -> None:
        box = self.ids.kinds
        key = (tuple(self.kinds), app().locale)
        if key == getattr(self, "_kinds_key", None):  # only the selection moves
            for button in box.children:
                button.state = "down" if button.value == self.kind else "normal"
            return
        self._kinds_key = key
        clear_toggles(box)
        for value, label in [("", app().t["services.all"]),
                             *((k, f"{label} {n}") for k, label, n in self.kinds)]:
            box.add_widget(toggle(label, "svc", value == self.kind,
                                  lambda v=value: self.select(v), value))

    def select(self, kind: str) -> None:
        self.kind = kind
        self._build_kinds()
        app().ask(lambda d: d.services(kind), self._loaded)

    def _loaded(self, rows: list[ServiceRow]) -> None:
        if self.highlight:
            rows = sorted(rows, key=lambda r: r.uid != self.highlight)
        self.rows = [{"name": r.name, "kind": r.kind, "address": r.address, "phone": r.phone,
                      "hours": r.hours, "notes": r.notes, "qr": tel_payload(r.phone),
                      "map_qr": r.map_url}
                     for r in rows]


class AskScreen(KioskScreen):
    topic = StringProperty("")
    text = StringProperty("")
    pinyin = StringProperty("")
    candidates = ListProperty([])
    phone = StringProperty("")
    target = StringProperty("text")  # where keypad digits go: "text" or "phone"
    stage = StringProperty("form")  # "form" | "sending" | "done" | "failed"
    error = StringProperty("")
    disclosure_uid = StringProperty("")
    disclosure_title = StringProperty("")
    ticket = StringProperty("")
    due_text = StringProperty("")
    topics = ListProperty(list(TOPICS))
    phrases = ListProperty(list(PHRASES))
    _key = ""

    def show(self, **params: Any) -> None:
        app().need_vocabulary()
        if "disclosure_uid" in params or self.stage != "form":
            self.reset()
        self.disclosure_uid = params.get("disclosure_uid", "")
        self.disclosure_title = params.get("disclosure_title", "")

    def key(self, key: str) -> None:
        if self.target == "phone":
            if key == "delete":
                self.phone = self.phone[:-1]
            elif key == "clear":
                self.phone = ""
            elif key.isdigit() and len(self.phone) < 20:
                self.phone += key
            return
        if key == "delete":
            if self.pinyin:
                self.pinyin = self.pinyin[:-1]
            else:
                self.text = self.text[:-1]
        elif key == "clear":
            self.pinyin, self.text = "", ""
        elif key == "space":
            self.text += self.pinyin + " " if self.pinyin else " "
            self.pinyin = ""
        elif key.isdigit():
            self.text += key
        else:
            self.pinyin += key

    def on_kv_post(self, base: Any) -> None:
        super().on_kv_post(base)
        for topic in self.topics:
            self.ids.topics.add_widget(toggle(topic, "topic", False,
                                              lambda v=topic: self.choose_topic(v)))
        for phrase in self.phrases:
            self.ids.phrases.add_widget(toggle(phrase, "", False,
                                               lambda v=phrase: self.add_phrase(v)))

    def relabel(self) -> None:
        pass

    def choose_topic(self, topic: str) -> None:
        self.topic = topic

    def on_topic(self, _screen: Any, topic: str) -> None:
        for button in self.ids.topics.children:
            button.state = "down" if button.text == topic else "normal"

    def on_candidates(self, _screen: Any, candidates: list[str]) -> None:
        box = self.ids.candidates
        clear_toggles(box)
        for c in candidates:
            box.add_widget(toggle(c, "", False, lambda v=c: self.choose(v)))

    def on_stage(self, _screen: Any, stage: str) -> None:
        self.panel = "done" if stage == "done" else "form"

    def on_pinyin(self, _screen: Any, value: str) -> None:
        self.candidates = app().vocabulary.candidates(value)

    def choose(self, candidate: str) -> None:
        self.text += candidate
        self.pinyin = ""

    def add_phrase(self, phrase: str) -> None:
        self.text += phrase

    def submit(self) -> None:
        t = app().t
        if not self.topic:
            self.error = t["ask.topic"]
            return
        if not self.text.strip():
            self.error = t["ask.text"]
            return
        self.error = ""
        self.stage = "sending"
        if not self._key:
            # Loaded by the worker with the cache long before anyone can press "send".
            from content.submissions import new_idempotency_key

            self._key = new_idempotency_key()  # a second tap resends the same question
        key = self._key
        topic, text, uid, phone = self.topic, self.text, self.disclosure_uid, self.phone
        app().ask(lambda d: d.submit_question(topic=topic, text=text,
                                                  disclosure_uid=uid or None,
                                                  phone=phone or None, idempotency_key=key),
                     self._done, self._failed, wait_s=0)

    def _done(self, receipt: FeedbackReceipt) -> None:
        t = app().t
        from content.formatting import cn_date

        self.ticket = t["ask.ticket"].format(ticket=receipt.ticket)
        self.due_text = t["ask.due"].format(date=cn_date(receipt.due_on)) + (
            t["ask.due_estimate"] if receipt.due_is_estimate else "")
        self.stage = "done"

    def _failed(self, error: BaseException) -> None:
        self.stage = "form"
        if isinstance(error, SubmissionError):
            self.error = str(error)
        else:
            import logging

            logging.getLogger(__name__).error("kiosk: question not stored: %s", error,
                                              exc_info=error)
            self.error = app().t["ask.failed"]

    def reset(self) -> None:
        self.topic = self.text = self.pinyin = self.phone = self.error = ""
        self.ticket = self.due_text = ""
        self.target, self.stage, self._key = "text", "form", ""

    def has_input(self) -> bool:
        return bool(self.text or self.phone or self.pinyin)


class AnswersScreen(KioskScreen):
    number = StringProperty("")
    found: TicketView | None = ObjectProperty(None, allownone=True)
    not_found = BooleanProperty(False)
    public = ListProperty([])

    def show(self, **params: Any) -> None:
        self.found, self.not_found = None, False
        app().ask(lambda d: d.public_replies(), self._public)

    def _public(self, rows: list[TicketView]) -> None:
        self.public = [self._item(r) for r in rows]

    def _item(self, r: TicketView) -> dict[str, Any]:
        t = app().t
        state = t[f"answers.{r.state}"]
        return {"ticket": r.ticket, "state_text": f"{state} · {t['answers.due']} {r.due}",
                "text": f"{r.topic}：{r.text}", "reply": r.reply,
                "overdue": r.state == "overdue"}

    def key(self, key: str) -> None:
        if key == "delete":
            self.number = self.number[:-1]
        elif key == "clear":
            self.number = ""
        elif key.isdigit() and len(self.number) < 12:
            self.number += key

    def lookup(self) -> None:
        number = self.number
        app().ask(lambda d: d.ticket("Q" + number), self._found)

    def _found(self, view: TicketView | None) -> None:
        self.found, self.not_found = view, view is None

    def found_text(self) -> str:
        t, f = app().t, self.found
        if f is None:
            return ""
        lines = [f"{f.ticket} · {t['answers.' + f.state]}",
                 f"{t['answers.question']}：{f.topic} · {f.text}",
                 f"{t['answers.due']}：{f.due}"]
        if f.reply:
            lines.append(f"{t['answers.reply']}（{f.replied}）：{f.reply}")
        return "\n".join(lines)

    def reset(self) -> None:
        self.number, self.found, self.not_found = "", None, False

    def has_input(self) -> bool:
        return bool(self.number)


class RateScreen(KioskScreen):
    sending = BooleanProperty(False)
    _key = ""

    def rate(self, rating: str) -> None:
        if app().rated_this_session or self.sending:
            return
        self.sending = True
        if not self._key:
            from content.submissions import new_idempotency_key

            self._key = new_idempotency_key()
        key = self._key
        app().ask(lambda d: d.submit_rating(rating, key), self._done, wait_s=0)

    def _done(self, _receipt: Any) -> None:
        self.sending = False
        self._key = ""
        app().rated_this_session = True


class ScreensaverScreen(KioskScreen):
    """Attract mode (KioskSettings.screensaver_after_s): today's announcements, one at a
    time, large enough to read in passing; the first touch anywhere goes home and is not
    passed on to what lies beneath."""

    ROTATE_S = 10.0
    DRIFT = ((0.5, 0.55), (0.46, 0.5), (0.54, 0.46), (0.5, 0.42), (0.47, 0.58), (0.53, 0.52))

    notes = ListProperty([])
    note = StringProperty("")
    counter = StringProperty("")
    drift = ObjectProperty({"center_x": 0.5, "center_y": 0.55})
    _index = 0
    _rotation: Any = None

    def show(self, **params: Any) -> None:
        app().run_io(app().backend.home, self._loaded)

    def _loaded(self, view: HomeView) -> None:
        self.notes = view.announcements or [app().t["saver.none"]]
        self._index = -1
        self.rotate()
        if self._rotation is None:
            self._rotation = Clock.schedule_interval(lambda _dt: self.rotate(), self.ROTATE_S)

    def rotate(self) -> None:
        if not self.notes:
            return
        self._index = (self._index + 1) % len(self.notes)
        self.note = self.notes[self._index]
        self.counter = (f"{self._index + 1} / {len(self.notes)}" if len(self.notes) > 1
                        else "")
        x, y = self.DRIFT[self._index % len(self.DRIFT)]
        self.drift = {"center_x": x, "center_y": y}

    def on_touch_down(self, touch: Any) -> bool:
        app().reset_to_home()
        return True

    def on_leave(self, *args: Any) -> None:
        super().on_leave(*args)
        if self._rotation is not None:
            self._rotation.cancel()
            self._rotation = None


class AdminScreen(KioskScreen):
    syncing = BooleanProperty(False)
    sync_text = StringProperty("")
    pin = StringProperty("")
    unlocked = BooleanProperty(False)
    error = StringProperty("")
    report = StringProperty("")

    def on_unlocked(self, _screen: Any, unlocked: bool) -> None:
        self.panel = "status" if unlocked else "pin"

    def show(self, **params: Any) -> None:
        self.pin, self.error, self.unlocked = "", "", False
        if not app().pin_gate.stored_hash:
            self.error = app().t["admin.no_pin"]

    def key(self, key: str) -> None:
        if key == "delete":
            self.pin = self.pin[:-1]
        elif key == "clear":
            self.pin = ""
        elif key.isdigit() and len(self.pin) < 12:
            self.pin += key

    def enter(self) -> None:
        t, gate, now = app().t, app().pin_gate, time.monotonic()
        pin, self.pin = self.pin, ""
        if not gate.stored_hash:
            self.error = t["admin.no_pin"]
        elif gate.wait_s(now) > 0:
            self.error = t["admin.locked"].format(s=int(gate.wait_s(now)) + 1)
        elif gate.try_pin(pin, now):
            self.error, self.unlocked = "", True
            self.refresh()
        else:
            wait = gate.wait_s(now)
            self.error = (t["admin.locked"].format(s=int(wait) + 1) if wait
                          else t["admin.wrong"])

    def refresh(self) -> None:
        app().ask(lambda d: d.admin(), self._loaded)

    def _loaded(self, view: AdminView) -> None:
        t = app().t
        lines = [t["admin.sync"]] + [f"  {k}: {v}" for k, v in view.sync] + [""]
        lines += [t["admin.boards"]] + [f"  {b}: {s} {e}" for b, s, e in view.boards] + [""]
        lines += [t["admin.outbox"]] + [f"  {k}: {n}" for k, n in sorted(view.outbox.items())]
        if view.previews:
            lines += ["", t["admin.preview"]]
            for p in view.previews:
                lines.append(f"  [{p.board}]")
                lines.append("    " + (t["admin.preview_showing"].format(since=p.since,
                                                                         text=p.showing)
                                       if p.showing else t["admin.preview_nothing"]))
                lines.append("    " + t["admin.preview_scheduled"].format(text=p.scheduled))
        lines += ["", t["admin.logs"], *(f"  {line}" for line in app().recent_log.newest(
            ADMIN_LOG_LINES))]
        self.report = "\n".join(lines)
        boards = self.ids.boards
        boards.clear_widgets()
        for p in view.previews:
            if p.png is None:
                continue
            boards.add_widget(KLabel(text=t["admin.preview_image"].format(
                board=p.board, pages=p.pages)))
            try:
                boards.add_widget(LedPreview(p.png, p.pages))
            except Exception as e:  # a damaged preview costs the picture, not the screen
                boards.add_widget(KLabel(text=str(e), color=app().c_warn))

    def sync_now(self) -> None:
        """Sync and relay the outbox on the worker; the outcome replaces the status line."""
        if self.syncing:
            return
        t = app().t
        self.syncing = True
        self.sync_text = t["admin.syncing"]
        app().ask(lambda d: d.sync_now(), self._synced, self._sync_failed, wait_s=0)

    def _synced(self, result: SyncNowResult) -> None:
        t = app().t
        self.syncing = False
        text = t["admin.sync_result"].format(status=result.status, message=result.message)
        if result.relay is not None:
            r = result.relay
            text += "\n" + t["admin.relay_result"].format(acked=r.acked, parked=r.parked,
                                                           pending=r.pending)
            if r.error:
                text += f"（{r.error}）"
        self.sync_text = text
        self.refresh()

    def _sync_failed(self, error: BaseException) -> None:
        import logging

        logging.getLogger(__name__).error("kiosk: sync now failed: %s", error, exc_info=error)
        self.syncing = False
        self.sync_text = app().t["admin.sync_result"].format(status="failed", message=str(error))

    def restart(self) -> None:
        """Stop the app; ``juwu kiosk`` then starts itself again (kiosk.cli)."""
        a = app()
        a.restart_requested = True
        a.allow_close = True
        a.stop()

    def quit(self) -> None:
        a = app()
        a.allow_close = True
        a.stop()

    def reset(self) -> None:
        self.pin, self.unlocked, self.report, self.error = "", False, "", ""
        if not self.syncing:
            self.sync_text = ""
