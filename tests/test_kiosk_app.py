"""The real kiosk app, headless (SDL offscreen), driven by simulated touches.

Kivy's window is process-global, so one app serves the whole module (module-scoped
fixture); each test starts from home with input cleared. Plain (non-async) test functions,
so pytest collects every one of them (Kivy 2.3.1's async test decorator drops tests).
Screenshots land in $JUWU_KIOSK_SCREENSHOTS or <pytest basetemp>/kiosk-screenshots.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["SDL_VIDEODRIVER"] = "offscreen"
os.environ["KIVY_NO_ARGS"] = "1"

from content.config import load_config
from content.db import Cache, open_cache, unit_of_work
from content.domain import OutboxState
from content.formatting import yuan
from content.models import Feedback, SurveyResponse
from tests.conftest import load, mini

NOW = dt.datetime(2026, 6, 15, 10, 0)
LANDSCAPE = (1280, 720)  # smaller than the kiosk's 1920x1080: software GL renders faster
PORTRAIT = (720, 1280)


@pytest.fixture(scope="module")
def kiosk_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cache, Any]]:
    data_dir = tmp_path_factory.mktemp("kiosk") / "data"
    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(data_dir)})
    cache = open_cache(config.database_path)
    load(cache, config, mini())
    yield cache, config
    cache.close()


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("JUWU_KIOSK_SCREENSHOTS")
    path = Path(env) if env else tmp_path_factory.getbasetemp() / "kiosk-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def kiosk(kiosk_cache: tuple[Cache, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    from kiosk import boot

    boot.prepare(kivy_home=tmp_path_factory.mktemp("kivy"), windowed=True,
                 size=LANDSCAPE, headless=True)
    from kivy.config import Config

    Config.set("graphics", "maxfps", "0")  # frames as fast as they render: quicker tests
    boot.register_font(boot.find_font())
    from kivy.base import EventLoop, runTouchApp

    from kiosk.app import KioskApp
    from kiosk.backend import Backend
    from kiosk.settings import KioskSettings, hash_pin

    cache, config = kiosk_cache
    app = KioskApp(Backend(config, now=lambda: NOW, cache=cache),
                   KioskSettings(idle_timeout_s=60, admin_pin_hash=hash_pin("2468")),
                   allow_close=True)
    app._run_prepare()
    runTouchApp(embedded=True)
    pump(app)
    yield app
    app.stop()
    EventLoop.close()


@pytest.fixture
def app(kiosk: Any) -> Any:
    """The app at home, normal text, colour theme, Chinese, nothing typed."""
    from kiosk.i18n import texts

    kiosk.set_large_text(False)
    kiosk.set_high_contrast(False)
    kiosk.locale, kiosk.t = "zh", texts("zh")
    kiosk.rated_this_session = False
    kiosk.reset_to_home()
    pump(kiosk)
    return kiosk


def pump(app: Any, until: Callable[[], bool] = lambda: True, timeout_s: float = 5.0,
         min_frames: int = 2) -> None:
    """Run frames until the worker is idle and `until()` holds (`min_frames` at least)."""
    from kivy.base import EventLoop

    deadline = time.monotonic() + timeout_s
    frames = 0
    while True:
        EventLoop.idle()
        frames += 1
        if frames >= min_frames and not app.worker.pending and until():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the kiosk did not get there in time (on {app.sm.current}, "
                                 f"{app.worker.pending} pending, {frames} frames)")
        time.sleep(0.005)


def tap(app: Any, widget: Any) -> None:
    """A real touch (down + up) at the widget's centre, through the window."""
    from kivy.tests.common import UnitTestTouch

    pump(app, min_frames=1)  # a screen change finishes on the next frame; touches wait
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()
    # Inside a ScrollView a quick tap is replayed to the widget, its release 0.2 s later
    # (the view first waits to see whether the finger drags).
    in_scroll = any(type(p).__name__ in ("ScrollView", "RecycleView") for p in parents(widget))
    deadline = time.monotonic() + (0.25 if in_scroll else 0)
    pump(app, until=lambda: time.monotonic() >= deadline)


def parents(widget: Any) -> Iterator[Any]:
    while widget.parent is not None and widget.parent is not widget:
        widget = widget.parent
        yield widget


def find(root: Any, cls: str, text: str | None = None) -> list[Any]:
    return [w for w in root.walk(restrict=True) if type(w).__name__ == cls
            and (text is None or getattr(w, "text", None) == text)]


def one(root: Any, cls: str, text: str) -> Any:
    hits = find(root, cls, text)
    assert hits, f"no {cls} with text {text!r}"
    return hits[0]


def rv_rows(app: Any, screen: str, rv_id: str) -> list[Any]:
    rv = app.screen(screen).ids[rv_id]
    return [w for w in rv.children[0].children]


def test_chinese_renders_as_glyphs_not_tofu(app: Any) -> None:
    from kivy.uix.label import Label

    def pixels(text: str) -> bytes:
        label = Label(text=text, font_size=48)
        label.texture_update()
        return bytes(label.texture.pixels)

    tofu = pixels("\U0010fffd")  # unassigned: every font draws its missing-glyph box
    for char in "财务公开":
        assert pixels(char) != tofu, f"{char} renders as the missing-glyph box"
    assert pixels("财") != pixels("务")


def test_home_shows_community_tiles_announcements_and_new(app: Any, shots_dir: Path) -> None:
    from kiosk.tour import save_screenshot

    home = app.screen("home")
    assert app.sm.current == "home"
    assert app.community_name == "幸福里社区"
    labels = [t.text.split("\n")[0] for t in find(home, "TileButton")]
    assert labels[:5] == ["党务公开", "政务公开", "事务公开", "财务公开", "服务公开"]
    assert "停水" in home.announcements  # the emergency notice valid at NOW
    assert [r["title"] for r in home.new_items] == ["2026年5月社区事务公开"]
    assert app.root.ids.community.text == "幸福里社区"
    save_screenshot(shots_dir / "test-home.png")


def test_tile_opens_browse_then_detail_with_finance_table(app: Any) -> None:
    tile = next(t for t in find(app.screen("home"), "TileButton")
                if t.text.startswith("财务公开"))
    tap(app, tile)
    browse = app.screen("browse")
    assert app.sm.current == "browse" and browse.category == "finance"
    pump(app, lambda: bool(browse.rows))
    assert [r["title"] for r in browse.rows] == ["2026年第一季度财务公开"]
    assert browse.rows[0]["status"] == "现行"
    row = rv_rows(app, "browse", "list")[0]
    tap(app, row)
    detail = app.screen("detail")
    pump(app, lambda: detail.view is not None)
    assert app.sm.current == "detail" and detail.title == "2026年第一季度财务公开"
    content = detail.ids.content
    cells = [c.source for c in find(content, "TableCell")]
    # Totals are computed from the lines: 10,000.00 + 85,000.00 - 27,234.50.
    closing = cells[cells.index("期末结余") + 1]
    assert closing == yuan(1_000_000 + 8_500_000 - 2_723_450) == "67,765.50"
    assert cells[cells.index("本期收入合计") + 1] == "85,000.00"
    assert "3号楼电梯维修" in cells and "民主监督小组" in cells


def test_browse_filters_by_kind_and_period(app: Any) -> None:
    app.go("browse")
    browse = app.screen("browse")
    pump(app, lambda: bool(browse.rows))
    current = browse.count
    tap(app, one(browse.ids.periods, "KToggle", "2026年"))
    pump(app, lambda: browse.period == "year:2026")
    assert browse.count >= current
    tap(app, one(browse.ids.cats, "KToggle", "固定公开"))
    pump(app, lambda: browse.kind == "fixed")
    assert browse.count == 0  # the fixed item was published in 2025
    tap(app, one(browse.ids.periods, "KToggle", "全部"))
    pump(app, lambda: browse.count == 1)
    assert browse.rows[0]["title"] == "社区居委会成员及分工"


def test_search_keypad_gives_results_as_you_type(app: Any) -> None:
    tap(app, app.screen("home").ids.go_search)
    search = app.screen("search")
    keypad = search.ids.keypad
    for key in "cwgk":
        tap(app, one(keypad, "KeyButton", key))
    assert search.query == "cwgk"
    pump(app, lambda: bool(search.results), timeout_s=3)
    assert search.results[0]["title"] == "2026年第一季度财务公开"
    assert search.status_text == "找到 1 条"
    tap(app, one(keypad, "KeyButton", "← 删除"))
    assert search.query == "cwg"
    tap(app, rv_rows(app, "search", "results")[0])
    pump(app, lambda: app.sm.current == "detail")


def test_search_suggestion_and_nothing_found(app: Any) -> None:
    app.go("search")
    search = app.screen("search")
    tap(app, one(search.ids.suggestions, "KToggle", "低保"))
    pump(app, lambda: bool(search.results))
    assert search.results[0]["title"] == "低保评议结果公示"
    search.query = "zzzzqqq"
    pump(app, lambda: search.status_text == "没有找到相关内容")
    assert search.results == []


def test_ask_question_gets_ticket_and_due_date(app: Any,
                                               kiosk_cache: tuple[Cache, Any]) -> None:
    tap(app, app.screen("home").ids.go_ask)
    ask = app.screen("ask")
    tap(app, ask.ids.submit)
    assert ask.error  # no topic yet: nothing is sent
    tap(app, one(ask.ids.topics, "KToggle", "财务"))
    assert ask.topic == "财务"
    tap(app, one(ask.ids.phrases, "KToggle", "请公开明细"))
    for key in "caiwu":
        tap(app, one(ask.ids.keypad, "KeyButton", key))
    assert "财务" in ask.candidates  # ranked from the community's own titles
    tap(app, one(ask.ids.candidates, "KToggle", "财务"))
    assert ask.text == "请公开明细财务" and ask.pinyin == ""
    tap(app, ask.ids.phone_toggle)
    assert ask.ids.keypad.mode == "digits"
    for key in "13800000009":
        tap(app, one(ask.ids.keypad, "KeyButton", key))
    assert ask.phone == "13800000009"
    tap(app, ask.ids.submit)
    pump(app, lambda: ask.stage == "done")
    assert ask.ticket == "受理编号：Q20260615-001"
    from content.formatting import cn_date
    from content.rules import add_working_days

    assert cn_date(add_working_days(NOW.date(), 10).on) in ask.due_text
    assert ask.ids.done_panel.parent is ask and ask.ids.form_panel.parent is None
    cache, _ = kiosk_cache
    with unit_of_work(cache) as s:
        from content.submissions import feedback_by_ticket

        fb = feedback_by_ticket(s, "Q20260615-001")
        assert fb is not None and fb.outbox_state is OutboxState.PENDING
        assert fb.topic == "财务" and fb.contact_phone == "13800000009"


def test_ask_about_a_disclosure_from_its_page(app: Any, kiosk_cache: tuple[Cache, Any]) -> None:
    app.go("detail", uid="aff-2026-05")
    detail = app.screen("detail")
    pump(app, lambda: detail.view is not None and detail.view.uid == "aff-2026-05")
    detail.ids.scroll.scroll_y = 0  # the button is at the end of the page
    pump(app)
    tap(app, one(detail.ids.content, "KButton", "对此提问"))
    pump(app, lambda: app.sm.current == "ask")
    ask = app.screen("ask")
    assert app.sm.current == "ask" and ask.disclosure_uid == "aff-2026-05"
    tap(app, one(ask.ids.topics, "KToggle", "其他"))
    tap(app, one(ask.ids.phrases, "KToggle", "为什么"))
    tap(app, ask.ids.submit)
    pump(app, lambda: ask.stage == "done")
    cache, _ = kiosk_cache
    with unit_of_work(cache) as s:
        from sqlalchemy import select

        fb = s.scalars(select(Feedback).where(Feedback.text == "为什么")).one()
        assert fb.disclosure is not None and fb.disclosure.uid == "aff-2026-05"
        assert fb.contact_phone is None


def test_answers_lookup_shows_reply_and_unknown(app: Any) -> None:
    tap(app, app.screen("home").ids.go_answers)
    answers = app.screen("answers")
    pump(app, lambda: bool(answers.public))
    for key in "20260601001":
        tap(app, one(answers, "KeyButton", key))
    tap(app, answers.ids.find)
    pump(app, lambda: answers.found is not None)
    assert answers.found.state == "replied"
    assert "含更换钢丝绳材料费" in answers.ids.result.source
    tap(app, one(answers, "KeyButton", "清空"))
    for key in "19990101001":
        tap(app, one(answers, "KeyButton", key))
    tap(app, answers.ids.find)
    pump(app, lambda: answers.not_found)
    assert answers.ids.result.source == "没有找到这个编号，请核对"


def test_rate_once_per_session(app: Any, kiosk_cache: tuple[Cache, Any]) -> None:
    cache, _ = kiosk_cache

    def count() -> int:
        with unit_of_work(cache) as s:
            from sqlalchemy import func, select

            return int(s.scalar(select(func.count()).select_from(SurveyResponse)) or 0)

    before = count()
    tap(app, app.screen("home").ids.go_rate)
    rate = app.screen("rate")
    tap(app, rate.ids.basic)
    pump(app, lambda: app.rated_this_session)
    assert rate.ids.satisfied.disabled and rate.ids.basic.disabled
    tap(app, rate.ids.satisfied)
    assert count() == before + 1
    app.reset_to_home()  # the home button does not start a new session
    app.go("rate")
    pump(app)
    assert app.screen("rate").ids.satisfied.disabled


@pytest.mark.parametrize("screen", ["home", "browse", "search", "services", "ask", "answers",
                                    "rate", "admin"])
def test_large_text_and_high_contrast_from_every_screen(app: Any, screen: str) -> None:
    app.go(screen)
    pump(app)
    bar = app.root.ids
    size_before = bar.btn_home.font_size
    tap(app, bar.btn_large)
    assert app.text_scale >= 1.5
    assert bar.btn_home.font_size == pytest.approx(size_before * 1.5)
    assert bar.btn_large.text == "标准字"
    tap(app, bar.btn_contrast)
    assert app.high_contrast and list(app.c_bg) == [0, 0, 0, 1]
    assert app.sm.current == screen  # stays where the resident is
    app.set_large_text(False)
    app.set_high_contrast(False)


def test_english_locale(app: Any) -> None:
    tap(app, app.root.ids.btn_locale)
    assert app.root.ids.btn_home.text == "Home"
    assert app.screen("home").ids.go_ask.text == "Ask a question"
    tap(app, app.root.ids.btn_locale)
    assert app.root.ids.btn_home.text == "首页"


def test_idle_returns_home_and_clears_input(app: Any) -> None:
    app.go("search")
    search = app.screen("search")
    search.query = "dibao"
    app.go("ask")
    app.screen("ask").text = "我的电话是"
    app.set_large_text(True)
    app.last_touch = time.monotonic() - app.settings.idle_timeout_s - 1
    pump(app, lambda: app.sm.current == "home", timeout_s=3)
    assert search.query == "" and app.screen("ask").text == ""
    assert app.text_scale == 1.0


def test_touch_resets_idle_timer(app: Any) -> None:
    app.last_touch = 0.0
    tap(app, app.screen("home").ids.go_services)
    assert time.monotonic() - app.last_touch < 5
    services = app.screen("services")
    pump(app, lambda: bool(services.rows))
    assert {r["name"] for r in services.rows} == {"老王家电维修", "社区卫生服务站"}
    tap(app, one(services.ids.kinds, "KToggle", "维修服务 1"))
    pump(app, lambda: len(services.rows) == 1)


def test_error_on_a_screen_is_logged_and_returns_home(app: Any,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    def broken(uid: str) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.backend.data(), "detail", broken)
    errors = app.errors
    app.go("browse")
    app.go("detail", uid="aff-2026-05")
    pump(app, lambda: app.sm.current == "home")
    assert app.errors == errors + 1
    assert "disk on fire" in caplog.text
    assert app.message == "出了点问题，已返回首页"

    # A bug in the UI thread itself (not the worker) is caught too.
    def ui_bug(_dt: float) -> None:
        raise ValueError("bad widget state")

    from kivy.clock import Clock

    app.go("rate")
    Clock.schedule_once(ui_bug, 0)
    pump(app, lambda: app.sm.current == "home")
    assert app.errors == errors + 2


def test_admin_gesture_pin_and_lockout(app: Any) -> None:
    from kiosk.settings import PinGate, hash_pin

    community = app.root.ids.community
    for _ in range(4):
        tap(app, community)
    assert app.sm.current == "home"
    tap(app, community)
    assert app.sm.current == "admin"
    admin = app.screen("admin")

    def enter(pin: str) -> None:
        for key in pin:
            tap(app, one(admin.ids.pin_panel, "KeyButton", key))
        tap(app, admin.ids.enter)

    app.pin_gate = PinGate(hash_pin("2468"))
    for _ in range(3):
        enter("1111")
    assert "秒后再试" in admin.error and not admin.unlocked
    enter("2468")  # locked: even the right PIN waits
    assert not admin.unlocked
    app.pin_gate = PinGate(hash_pin("2468"))
    enter("2468")
    pump(app, lambda: bool(admin.report))
    assert admin.unlocked and "feedback.acked" in admin.report
    assert admin.ids.status_panel.parent is admin


def test_window_close_and_escape_are_blocked_in_kiosk_mode(app: Any) -> None:
    from kivy.core.window import Window

    app.allow_close = False
    try:
        assert Window.dispatch("on_request_close") is True
        assert app._key_down(Window, 27) is True
        assert app.open_settings() is False
    finally:
        app.allow_close = True


def test_screenshot_tour_landscape_portrait_large_text(app: Any, shots_dir: Path) -> None:
    from kivy.core.window import Window

    from kiosk.tour import Tour, tour_steps

    done: list[list[Path]] = []

    def run(out: Path) -> list[Path]:
        done.clear()
        tour = Tour(app, out, tour_steps(app, app.backend.data().samples()), done.append)
        tour.start()
        pump(app, lambda: bool(done), timeout_s=40)
        return done[0]

    landscape = run(shots_dir / "landscape")
    assert [p.name for p in landscape][:3] == ["01-home.png", "02-browse.png",
                                               "03-browse-finance.png"]
    assert all(p.stat().st_size > 10_000 for p in landscape)
    original = Window.size
    try:
        Window.size = PORTRAIT
        pump(app)
        assert app.portrait
        app.set_large_text(True)
        app.reset_to_home()
        portrait = run(shots_dir / "portrait-large")
        assert len(portrait) == len(landscape)
    finally:
        Window.size = original
        app.set_large_text(False)
    pump(app)
    assert not app.portrait


def unlock_admin(app: Any) -> Any:
    from kiosk.settings import PinGate, hash_pin

    app.pin_gate = PinGate(hash_pin("2468"))
    app.go("admin")
    admin = app.screen("admin")
    pump(app)
    for key in "2468":
        tap(app, one(admin.ids.pin_panel, "KeyButton", key))
    tap(app, admin.ids.enter)
    pump(app, lambda: bool(admin.report))
    assert admin.unlocked
    return admin


def test_admin_sync_now_board_preview_and_restart(app: Any, kiosk_cache: tuple[Cache, Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from content.models import DisplayLogEntry

    cache, _config = kiosk_cache
    with unit_of_work(cache) as s:
        s.add(DisplayLogEntry(board="hall", item_uid="fallback", text="幸福里社区欢迎您",
                              shown_from=NOW - dt.timedelta(minutes=5)))
    admin = unlock_admin(app)
    # Live preview: what the display log says "hall" shows, and what the schedule wants.
    assert "显示屏预览" in admin.report and "[hall]" in admin.report
    assert "正在显示（显示记录，自 06-15 09:55）：幸福里社区欢迎您" in admin.report
    assert "按排程此刻应显示：" in admin.report and "停水" in admin.report
    # Sync now runs on the worker and shows the outcome (this cache has no hub configured).
    tap(app, admin.ids.sync_now)
    pump(app, lambda: not admin.syncing and "同步" in admin.sync_text)
    assert admin.sync_text.startswith("同步：not-configured")
    assert admin.ids.sync_result.text == admin.sync_text
    # Restart stops the app and leaves the restart to kiosk.cli (exec of the same command).
    stopped: list[bool] = []
    monkeypatch.setattr(app, "stop", lambda *a: stopped.append(True))
    tap(app, admin.ids.restart)
    assert stopped and app.restart_requested
    app.restart_requested = False
    app.allow_close = True


def test_services_show_a_qr_code_of_the_phone_number(app: Any) -> None:
    from kiosk.qr import qr_matrix, tel_payload

    app.go("services")
    services = app.screen("services")
    pump(app, lambda: bool(services.rows))
    items = rv_rows(app, "services", "list")
    assert items
    for item in items:
        qr = item.ids.qr
        assert qr.payload == tel_payload(item.phone) and qr.payload.startswith("tel:")
        assert qr.matrix == qr_matrix(qr.payload) and qr.width > 0
        # The texture holds the matrix, one texel per module (0 dark, 255 light).
        n = len(qr.matrix)
        assert qr.texture.size == (n, n)
        pixels = qr.texture.pixels  # RGBA, bottom row first
        for y, row in enumerate(reversed(qr.matrix)):
            got = [pixels[(y * n + x) * 4] < 128 for x in range(n)]
            assert got == row


def test_long_chinese_text_breaks_by_the_rules(app: Any) -> None:
    from kiosk.linebreak import violations
    from kiosk.widgets import TableRow, WrapLabel

    text = ("经社区居民代表会议讨论通过，现将本季度财务收支情况公开如下：收入85,000.00元，"
            "支出27,234.50元（含3号楼电梯维修费），期末结余67,765.50元。如有疑问，请于公示期内"
            "向居务监督委员会反映！") * 3
    app.go("detail", uid=app.backend.data().samples()["finance"])
    detail = app.screen("detail")
    pump(app, lambda: detail.view is not None)
    box = detail.ids.content
    label = WrapLabel(source=text)
    row = TableRow(["说明", text], [0.3, 0.7])
    box.add_widget(label)
    box.add_widget(row)
    try:
        for width in (900, 640, 410):
            detail.ids.scroll.width = width
            box.width = width
            pump(app, min_frames=3)
            for widget in (label, row.children[0]):
                lines = widget.text.split("\n")
                assert len(lines) > 2 and violations(lines) == [], lines
                assert "".join(lines) == text
                # Kivy drew exactly our lines: it found nothing more to break.
                widget.texture_update()
                assert len(widget._label._cached_lines) == len(lines)
    finally:
        box.remove_widget(label)
        box.remove_widget(row)


def test_a_wrapping_label_laid_out_before_the_frame_breaks_its_text_once(app: Any) -> None:
    """As home's labels are (KioskApp.on_start lays the screen out before the first
    frame): not first at Kivy's default 100 px, a tall narrow texture rendered for nothing."""
    from kiosk.widgets import WrapLabel

    seen: list[str] = []

    class Probe(WrapLabel):  # type: ignore[misc]
        def on_text(self, _label: Any, text: str) -> None:
            seen.append(text)

    label = Probe(source="因供水管网维修，12月4日9:00-15:00桂香苑1-8幢停水，请提前储水")
    label.size_hint_x, label.width = None, 900  # its layout, before the next frame
    home = app.screen("home")
    home.add_widget(label)
    try:
        pump(app, min_frames=3)
        assert seen and all("\n" not in text for text in seen), seen
        assert label.text == label.source
    finally:
        home.remove_widget(label)


# --- PDF attachments, read-aloud, map QR codes -------------------------------------------


def add_disclosure(kiosk_cache: tuple[Cache, Any], directory: Path, uid: str, title: str,
                   files: dict[str, bytes]) -> None:
    """A disclosure (2025, archived: the other tests' lists stay as they are) with attachments
    `files` (name → bytes), imported from a content directory like staff would."""
    from content.export import write_content_dir
    from content.importer import import_content, read_content_dir
    from tests.conftest import disclosure

    cache, config = kiosk_cache
    content = directory / uid
    (content / "attachments").mkdir(parents=True)
    for name, data in files.items():
        (content / "attachments" / name).write_bytes(data)
    item = disclosure(uid, title, "施工方案及图纸见附件。", dt.date(2025, 3, 3), kind="stage",
                      attachments=[{"path": f"attachments/{name}", "name": name,
                                    "media_type": "application/pdf"} for name in files])
    write_content_dir({"disclosure": [item]}, content)
    with unit_of_work(cache) as s:
        import_content(s, read_content_dir(content), config)


def pdf_boxes(detail: Any) -> list[Any]:
    """The boxes that hold each PDF's status line and pages, in page order."""
    return [w for w in reversed(detail.ids.content.children)
            if type(w).__name__ == "BoxLayout"]


def box_texts(box: Any) -> list[str]:
    return [w.text for w in reversed(box.children) if type(w).__name__ == "KLabel"]


def box_pages(box: Any) -> list[Any]:
    return [w for w in reversed(box.children) if type(w).__name__ == "Image"]


def test_pdf_attachment_is_shown_as_pages(app: Any, kiosk_cache: tuple[Cache, Any],
                                          tmp_path: Path, shots_dir: Path) -> None:
    from kivy.metrics import dp

    from kiosk.pdfpages import MAX_WIDTH, page_cache_dir
    from kiosk.tour import save_screenshot
    from tests.pdf_support import COLOURS, pdf_bytes

    pdf = pdf_bytes(3)
    add_disclosure(kiosk_cache, tmp_path, "pdf-plan", "小区监控改造施工方案公示",
                   {"施工方案.pdf": pdf})
    app.go("detail", uid="pdf-plan")
    detail = app.screen("detail")
    pump(app, lambda: detail.view is not None and detail.view.uid == "pdf-plan")
    (box,) = pdf_boxes(detail)
    pump(app, lambda: len(box_pages(box)) == 3, timeout_s=20)
    assert box_texts(box) == ["共 3 页", "第 1 页 / 共 3 页", "第 2 页 / 共 3 页",
                              "第 3 页 / 共 3 页"]
    assert app.sm.current == "detail"
    width = min(MAX_WIDTH, int(app.root.width - dp(52)))  # the content's width, capped
    for colour, page in zip(COLOURS, box_pages(box), strict=False):
        texture = page.texture
        assert texture.size[0] == width and texture.size[1] > width  # A4, portrait
        # The page's own colour, read back from the GPU texture (RGBA, bottom row first).
        w, h = texture.size
        pixels = texture.pixels
        i = ((h // 2) * w + w // 2) * 4
        assert all(abs(a - b) <= 12 for a, b in zip(pixels[i:i + 3], colour, strict=True))
        assert page.height == pytest.approx(min(h, page.width * h / w), abs=1)
    sha = hashlib.sha256(pdf).hexdigest()
    cached = page_cache_dir(kiosk_cache[1].data_dir)
    files = {p.name: p.stat().st_ino for p in cached.glob(f"{sha}-*.png")}
    assert sorted(files) == [f"{sha}-{i:04d}-{width}.png" for i in (1, 2, 3)]
    detail.scroll_to_attachments()  # the screenshot tour's "detail-pdf-pages"
    pump(app, min_frames=3)
    scroll = detail.ids.scroll
    title = one(detail.ids.content, "KTitle", "附件")
    top = scroll.to_window(scroll.x, scroll.top)[1]
    assert 0 < top - title.to_window(title.x, title.top)[1] < dp(20)  # at the top of the view
    save_screenshot(shots_dir / "test-detail-pdf.png")
    # Shown again: the same files, not rendered again.
    app.go("home")
    app.go("detail", uid="pdf-plan")
    pump(app, lambda: detail.view is not None and len(pdf_boxes(detail)) == 1
         and len(box_pages(pdf_boxes(detail)[0])) == 3, timeout_s=10)
    assert {p.name: p.stat().st_ino for p in cached.glob(f"{sha}-*.png")} == files


def test_long_pdf_shows_its_first_pages_and_says_how_many_more(
        app: Any, kiosk_cache: tuple[Cache, Any], tmp_path: Path) -> None:
    from kiosk.pdfpages import MAX_PAGES
    from tests.pdf_support import pdf_bytes

    add_disclosure(kiosk_cache, tmp_path, "pdf-long", "物业服务合同公示",
                   {"合同.pdf": pdf_bytes(MAX_PAGES + 3, size=(300, 200))})
    app.go("detail", uid="pdf-long")
    detail = app.screen("detail")
    pump(app, lambda: detail.view is not None and detail.view.uid == "pdf-long")
    (box,) = pdf_boxes(detail)
    pump(app, lambda: len(box_texts(box)) == MAX_PAGES + 2, timeout_s=60)
    assert len(box_pages(box)) == MAX_PAGES
    texts = box_texts(box)
    assert texts[0] == f"共 {MAX_PAGES + 3} 页"
    assert texts[MAX_PAGES] == f"第 {MAX_PAGES} 页 / 共 {MAX_PAGES + 3} 页"
    assert texts[-1] == "还有 3 页未显示，如需查阅请到服务台"


def test_damaged_and_locked_pdfs_say_so_and_the_page_still_works(
        app: Any, kiosk_cache: tuple[Cache, Any], tmp_path: Path) -> None:
    from tests.pdf_support import GARBAGE_PDF, encrypted_pdf_bytes, pdf_bytes

    add_disclosure(kiosk_cache, tmp_path, "pdf-bad", "加装电梯设计图纸公示",
                   {"损坏.pdf": GARBAGE_PDF, "加密.pdf": encrypted_pdf_bytes(),
                    "图纸.pdf": pdf_bytes(1)})
    errors = app.errors
    app.go("detail", uid="pdf-bad")
    detail = app.screen("detail")
    pump(app, lambda: detail.view is not None and detail.view.uid == "pdf-bad")
    damaged, locked, good = pdf_boxes(detail)
    pump(app, lambda: len(box_pages(good)) == 1, timeout_s=20)
    assert box_texts(damaged) == ["此PDF文件已损坏，无法显示"] and not box_pages(damaged)
    assert box_texts(locked) == ["此PDF文件设有密码，无法显示"] and not box_pages(locked)
    assert box_texts(good) == ["共 1 页", "第 1 页 / 共 1 页"]
    assert app.sm.current == "detail" and app.errors == errors
    tap(app, app.root.ids.btn_locale)  # in English too
    pump(app, lambda: len(pdf_boxes(detail)) == 3
         and len(box_pages(pdf_boxes(detail)[2])) == 1, timeout_s=20)
    assert box_texts(pdf_boxes(detail)[1]) == [
        "This PDF is password-protected and cannot be shown"]
    tap(app, app.root.ids.btn_locale)
    pump(app, lambda: len(pdf_boxes(detail)) == 3 and bool(box_texts(pdf_boxes(detail)[0]))
         and box_texts(pdf_boxes(detail)[0])[0] == "此PDF文件已损坏，无法显示")
    detail.ids.scroll.scroll_y = 0
    pump(app, min_frames=3)
    tap(app, one(detail.ids.content, "KButton", "对此提问"))
    pump(app, lambda: app.sm.current == "ask")
    assert app.screen("ask").disclosure_uid == "pdf-bad"


@pytest.fixture
def speaker(app: Any, tmp_path: Path) -> Iterator[Path]:
    """The app speaking through a real stand-in engine (tests/test_kiosk_speech.py), which
    writes what it was given to the file yielded."""
    from kiosk.speech import Speaker, find_command
    from tests.test_kiosk_speech import listener

    command, out = listener(tmp_path)
    original = app.speaker
    app.speaker = Speaker(find_command(command))
    try:
        yield out
    finally:
        app.speaker.stop()
        app.speaker = original


def read_aloud_button(detail: Any) -> Any:
    hits = [b for b in find(detail.ids.content, "KButton")
            if b.text in ("朗读", "停止朗读", "Read aloud", "Stop reading")]
    return hits[0] if hits else None


def open_finance(app: Any) -> Any:
    app.go("detail", uid="cw-2026-q1")
    detail = app.screen("detail")
    pump(app, lambda: detail.view is not None and detail.view.uid == "cw-2026-q1")
    return detail


def spoken_pid(out: Path) -> int:
    pid_file = Path(f"{out}.pid")
    deadline = time.monotonic() + 5
    while not pid_file.exists():
        assert time.monotonic() < deadline, "the engine never started"
        time.sleep(0.02)
    return int(pid_file.read_text())


def wait_gone(app: Any, pid: int) -> None:
    pump(app, lambda: not Path(f"/proc/{pid}").exists(), timeout_s=5)


def test_read_aloud_speaks_the_page_and_stops_on_a_second_tap(
        app: Any, speaker: Path) -> None:
    out = speaker
    detail = open_finance(app)
    button = read_aloud_button(detail)
    assert button is not None and button.text == "朗读"
    tap(app, button)
    pid = spoken_pid(out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("2026年第一季度财务公开。\n")
    assert "本季度收支情况如下表。" in text and "期末结余六万七千七百六十五元五角。" in text
    assert detail.speaking and button.text == "停止朗读"
    tap(app, button)
    assert not detail.speaking and button.text == "朗读"
    wait_gone(app, pid)


def test_leaving_the_page_or_idling_stops_the_speech(
        app: Any, speaker: Path) -> None:
    out = speaker
    detail = open_finance(app)
    tap(app, read_aloud_button(detail))
    pid = spoken_pid(out)
    tap(app, app.root.ids.btn_home)
    assert app.sm.current == "home"
    wait_gone(app, pid)
    assert not detail.speaking
    Path(f"{out}.pid").unlink()
    detail = open_finance(app)
    tap(app, read_aloud_button(detail))
    pid = spoken_pid(out)
    app.last_touch = time.monotonic() - app.settings.idle_timeout_s - 1
    pump(app, lambda: app.sm.current == "home", timeout_s=3)
    wait_gone(app, pid)


def test_read_aloud_button_turns_back_when_the_speech_ends(app: Any, tmp_path: Path) -> None:
    from kiosk.speech import Speaker

    original = app.speaker
    app.speaker = Speaker((sys.executable, "-c", "import sys; sys.stdin.read()"))
    try:
        detail = open_finance(app)
        button = read_aloud_button(detail)
        tap(app, button)
        pump(app, lambda: not detail.speaking, timeout_s=5)
        assert button.text == "朗读"
    finally:
        app.speaker = original


def test_no_speech_engine_no_read_aloud_button(app: Any, tmp_path: Path) -> None:
    from kiosk.speech import Speaker, find_command

    original = app.speaker
    try:
        for setting in ("off", [str(tmp_path / "no-such-engine")]):
            app.speaker = Speaker(find_command(setting))
            detail = open_finance(app)
            assert read_aloud_button(detail) is None
            assert one(detail.ids.content, "KButton", "对此提问")
    finally:
        app.speaker = original


def test_services_show_a_map_qr_code_where_there_is_a_link(app: Any) -> None:
    from kiosk.qr import qr_matrix
    from tests.conftest import MINI

    links = {s["name"]: s.get("map_url", "") for s in MINI["service"]}
    assert any(links.values()) and not all(links.values())
    app.go("services")
    services = app.screen("services")
    pump(app, lambda: len(services.rows) == 2)
    pump(app, lambda: len(rv_rows(app, "services", "list")) == 2)
    for item in rv_rows(app, "services", "list"):
        code = item.ids.map_qr
        url = links[item.name]
        assert code.payload == url
        if url:
            assert code.matrix == qr_matrix(url) and code.width > 0
            assert code.parent.width > 0 and code.parent.opacity == 1
            assert one(code.parent, "Label", "地图")
            assert code.texture.size == (len(code.matrix), len(code.matrix))
        else:
            assert code.texture is None and code.parent.width == 0
        assert one(item.ids.qr.parent, "Label", "电话")


def test_detail_page_reuses_its_rows_without_leftovers(app: Any) -> None:
    detail = app.screen("detail")

    def visit(uid: str) -> tuple[list[str], list[Any]]:
        app.go("detail", uid=uid)
        pump(app, lambda: detail.view is not None and detail.view.uid == uid
             and not detail.loading)
        content = detail.ids.content
        return [c.source for c in find(content, "TableCell")], find(content, "TableRow")

    finance_cells, finance_rows = visit("cw-2026-q1")
    assert "3号楼电梯维修" in finance_cells
    other_cells, other_rows = visit("aff-2026-05")
    assert "3号楼电梯维修" not in other_cells and "期末结余" not in other_cells
    assert other_cells[0] == "公开日期" and len(other_rows) < len(finance_rows)
    again_cells, again_rows = visit("cw-2026-q1")
    assert again_cells == finance_cells  # the same table, cell by cell, in order
    # ...drawn by the rows made for the first visit, not new ones.
    assert {id(r) for r in again_rows} & {id(r) for r in finance_rows}
    assert len(again_rows) == len(finance_rows)


@pytest.mark.parametrize("screen", ["search", "ask"])
def test_a_keyboard_and_the_system_ime_type_into_the_field_tapped(app: Any,
                                                                  screen: str) -> None:
    # With a keyboard attached, the system's input method (fcitx, ibus) composes Chinese and
    # SDL hands the finished text to the window: it must land in the field the resident
    # tapped, exactly as the on-screen keypad's does.
    from kivy.core.window import Window

    app.go(screen)
    page = app.screen(screen)
    field = page.ids.query if screen == "search" else page.ids.text
    tap(app, field)
    assert field.focus
    Window.dispatch("on_textinput", "电梯")
    pump(app)
    if screen == "search":
        assert page.query == "电梯"
        pump(app, lambda: bool(page.results), timeout_s=3)
        assert any("电梯" in r["title"] for r in page.results)
    else:
        assert page.text == "电梯"
    app.reset_to_home()  # leaving (idle, home) lets the keyboard go
    pump(app)
    assert not field.focus


def test_screensaver_after_idle_on_home_and_the_first_touch_goes_home(
        app: Any, shots_dir: Path) -> None:
    from dataclasses import replace

    from kiosk.tour import save_screenshot

    saved = app.settings
    app.settings = replace(saved, screensaver_after_s=30)
    try:
        app.last_resident = time.monotonic() - 20
        app._check_idle(0)
        assert app.sm.current == "home"  # not yet
        app.go("browse")
        app.last_resident = time.monotonic() - 31
        app._check_idle(0)
        assert app.sm.current == "browse"  # only from home: a resident may be reading
        app.go("home")
        app._check_idle(0)
        saver = app.screen("screensaver")
        pump(app, lambda: app.sm.current == "screensaver" and bool(saver.note))
        assert "停水" in saver.note  # the announcement valid at NOW, in large type
        assert saver.ids.note.font_size > app.screen("home").ids.tiles.children[0].font_size
        save_screenshot(shots_dir / "test-screensaver.png")
        before = dict(saver.drift)
        saver.notes = ["第一条", "第二条"]
        saver.rotate()
        assert saver.note == "第二条" and saver.counter == "2 / 2"
        assert saver.drift != before  # it moves, so nothing burns in
        saver.rotate()
        assert saver.note == "第一条" and saver.counter == "1 / 2"
        # A touch where home has its first tile: home, and the tile is not pressed.
        tile = find(app.screen("home"), "TileButton")[0]
        tap(app, tile)
        pump(app)
        assert app.sm.current == "home"
        assert time.monotonic() - app.last_resident < 5
    finally:
        app.settings = saved


def test_admin_shows_the_recent_log_newest_first_and_keeps_a_bounded_tail(app: Any) -> None:
    import logging

    logging.getLogger("content.sync.client").warning("管理日志测试：第一条")
    logging.getLogger("kiosk.screens").error("管理日志测试：第二条")
    app.go("admin")
    admin = app.screen("admin")
    admin.unlocked = True
    admin.refresh()
    pump(app, lambda: "管理日志测试：第二条" in admin.report)
    report = admin.report
    assert "最近日志" in report
    assert report.index("第二条") < report.index("第一条")  # newest first
    assert "WARNING content.sync.client: 管理日志测试：第一条" in report
    for i in range(500):
        logging.getLogger("content.sync.outbox").warning("填充 %d", i)
    newest = app.recent_log.newest(1000)
    assert len(newest) == 200 and newest[0].endswith("填充 499")
    admin.refresh()
    pump(app, lambda: "填充 499" in admin.report)
    assert admin.report.count("填充") == 40  # the report stays one readable label


def test_admin_draws_each_boards_confirmed_pages_as_leds(app: Any, shots_dir: Path,
                                                         kiosk_cache: tuple[Cache, Any]) -> None:
    import io

    from PIL import Image, ImageDraw

    from content.models import BoardState, BoardStatus
    from kiosk.tour import save_screenshot

    # What the driver stores (display_driver.simulator.pages_png): white = lit, pages stacked.
    sheet = Image.new("1", (64, 32), 0)
    ImageDraw.Draw(sheet).rectangle((0, 0, 63, 15), fill=1)  # page 1: every LED lit
    ImageDraw.Draw(sheet).rectangle((10, 20, 20, 27), fill=1)  # page 2: a small block
    png = io.BytesIO()
    sheet.save(png, format="PNG")
    cache, _config = kiosk_cache
    with unit_of_work(cache) as s:
        s.merge(BoardStatus(board="gate", state=BoardState.OK, consecutive_failures=0,
                            preview_png=png.getvalue(), preview_pages=2,
                            updated_at=NOW))
    admin = unlock_admin(app)
    pump(app, lambda: bool(find(admin.ids.boards, "LedPreview")))
    [preview] = find(admin.ids.boards, "LedPreview")
    assert [t.size for t in preview.textures] == [(64, 16), (64, 16)]
    assert preview.height == 2 * (16 * preview.LED_PX + preview.GAP)
    assert any("[gate]" in w.text and "2 页" in w.text for w in find(admin.ids.boards, "KLabel"))
    pump(app)
    shot = save_screenshot(shots_dir / "test-admin-board-preview.png")
    img = Image.open(shot).convert("RGB")
    # The top page is all lit: its middle is LED red on the screen.
    x, y = preview.to_window(preview.x + 32 * preview.LED_PX,
                             preview.top - 8 * preview.LED_PX)
    r, g, b = img.getpixel((int(x), img.height - int(y)))
    assert r > 200 and g < 80 and b < 80


def test_scroll_views_do_not_pile_up_bindings(app: Any) -> None:
    # Kivy 2.3.1's ScrollView bound bar_color again on every relayout within half a second
    # and unbound it once: one more binding per list refill, for months (kiosk/kivyfixes.py).
    app.go("browse")
    view = app.screen("browse").ids.list
    before = len(view.get_property_observers("bar_color"))
    for _ in range(50):
        view.update_from_scroll()
    assert len(view.get_property_observers("bar_color")) <= max(before, 1)


def test_a_quick_answer_is_handed_over_in_the_same_frame_a_slow_one_later(app: Any) -> None:
    # kiosk/worker.py: run_io waits about a frame, so a fast query is drawn with the tap.
    import threading

    from kivy.clock import Clock

    from kiosk.worker import Worker

    worker = Worker()
    try:
        got: list[str] = []
        worker.submit(lambda: "quick", got.append, lambda e: None, wait_s=0.5)
        assert got == ["quick"] and worker.pending == 0  # before submit returned
        release = threading.Event()
        worker.submit(lambda: (release.wait(5), "slow")[1], got.append, lambda e: None,
                      wait_s=0.02)
        assert got == ["quick"] and worker.pending == 1  # not waited for beyond 20 ms
        release.set()
        pump(app, lambda: worker.pending == 0)
        assert got == ["quick", "slow"]  # once, through the Clock
        Clock.tick()
        assert got == ["quick", "slow"]  # the Clock's copy of a quick answer does nothing
        errors: list[BaseException] = []
        worker.submit(lambda: 1 / 0, got.append, errors.append, wait_s=0.5)
        assert isinstance(errors[0], ZeroDivisionError) and worker.pending == 0
    finally:
        worker.shutdown()
