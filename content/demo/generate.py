"""The demo community (幸福里社区) as of any day, in the mapping form of docs/content-format.md.

`build_demo(anchor)` returns what `juwu demo-data` loads: a year of disclosures published up
to `anchor`, the services list, a week of LED-board announcements starting at `anchor`,
residents' feedback of the last three months and two satisfaction surveys.

Everything is computed from the anchor and a seed, never from the clock or the global RNG.
Each disclosure draws from its own `random.Random` keyed by what it covers (e.g. the month
of a monthly report) and its dates come from the calendar, not from the anchor, so a uid
reads the same whichever anchor it is generated for (the importer refuses a published uid
with other content): loading a later day's demo on top of an earlier one only adds items.
Only which items exist, the week of announcements and the feedback move with the anchor.

Optional keys are left out rather than set to None (TOML has no null). Each year's
second-quarter finance statement is published with two errors and corrected a few weeks
later (`supersedes`), as a resident's question in the feedback asks for; the balance chain
follows the corrected statement.

The cadence follows the seeds' plan (shared/seeds/001, 新视界社区党务居务公开工作方案):
ordinary affairs monthly on the 10th for the previous month, finances quarterly on the
10th day of the next quarter, items kept up at least 10 days, supervision review before
publication (we keep 20 calendar days, safely over 5 working days even across the Spring
Festival).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from content.formatting import cn_date, yuan
from content.rules import add_working_days

__all__ = ["build_demo"]

Row = dict[str, Any]

DAY = dt.timedelta(days=1)

# ---------------------------------------------------------------------------------------------
# The community and its people (all fictional; phone numbers are made up).
# ---------------------------------------------------------------------------------------------

NAME = "幸福里社区"
CODE = "xingfuli"
STREET = "明湖街道"
ADDRESS = "临江区明湖街道幸福里路88号（社区党群服务中心）"
HALL = "社区服务大厅（幸福里路88号一楼）"
OFFICE_PHONE = "0571-86523100"
OFFICE_HOURS = "周一至周五 8:30-12:00 13:30-17:30；周六 9:00-11:30 值班"

SECRETARY = "陈建华"  # 社区党委书记
DIRECTOR = "林晓燕"  # 居委会主任、党委副书记
DEPUTY = "周志刚"  # 居委会副主任（综治、物业、老旧小区改造）
CIVIL = "赵敏"  # 民政救助、养老
PARTY_CLERK = "吴俊"  # 组织、宣传、党费
HEALTH = "李雪梅"  # 卫生健康、流动人口
CULTURE = "何文斌"  # 文体、志愿服务
ACCOUNTANT = "郑佳"  # 报账员、就业社保
SUPERVISOR = "王建国"  # 民主监督小组组长
FINANCE_LEAD = "刘德胜"  # 居务理财小组组长

PHONE = {
    DIRECTOR: "0571-86523101",
    DEPUTY: "0571-86523102",
    SECRETARY: "0571-86523103",
    PARTY_CLERK: "0571-86523104",
    CIVIL: "0571-86523105",
    HEALTH: "0571-86523106",
    CULTURE: "0571-86523107",
    ACCOUNTANT: "0571-86523108",
    SUPERVISOR: "0571-86523109",
}
SUPERVISION_PHONE = PHONE[SUPERVISOR]
STREET_AID_PHONE = "0571-86528812"

HANDLER = {
    "party": PARTY_CLERK,
    "government": ACCOUNTANT,
    "affairs": CIVIL,
    "finance": ACCOUNTANT,
    "services": CULTURE,
}

BRANCHES = (
    ("幸福里小区第一党支部", 38),
    ("幸福里小区第二党支部", 34),
    ("桂香苑党支部", 41),
    ("明湖佳苑党支部", 45),
    ("离退休党员党支部", 28),
)

# Resident representatives (居民代表) of the current term, by compound and building.
REPRESENTATIVES = (
    (
        "幸福里小区",
        "陈美华（1幢）、刘桂兰（2幢）、吴国庆（3幢）、杨秀珍（4幢）、蒋志成（5幢）、"
        "王建国（6幢）、许丽娟（7幢）、何国强（8幢）、沈玉梅（9幢）、朱建平（10幢）、"
        "韩淑英（11幢）、冯德华（12幢）",
    ),
    (
        "桂香苑",
        "曹文娟（1幢）、张德明（2幢）、刘德胜（3幢）、彭志远（4幢）、邵美琴（5幢）、"
        "徐美华（6幢）、金秀兰（7幢）、孔令辉（8幢）",
    ),
    (
        "明湖佳苑",
        "唐晓东（1幢）、叶文涛（2幢）、黄淑珍（3幢）、潘雅琴（5幢）、龚立新（7幢）、"
        "蒋丽君（8幢）、余佳敏（10幢）、杨光明（12幢）、程浩（14幢）、钟丽萍（16幢）",
    ),
    (
        "驻区单位",
        "马卫东（明湖小学）、戴海燕（明湖街道社区卫生服务中心）、"
        "任志强（幸福里商业街商户联合会）",
    ),
)

# Lunar festivals by Gregorian year (month, day); the month decides which activities a
# monthly report and a quarter's accounts mention.  Outside the table a usual month is used.
SPRING_FESTIVAL = {
    2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
    2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23),
}
DRAGON_BOAT = {
    2022: (6, 3), 2023: (6, 22), 2024: (6, 10), 2025: (5, 31), 2026: (6, 19),
    2027: (6, 9), 2028: (5, 28), 2029: (6, 16), 2030: (6, 5), 2031: (6, 24),
}
MID_AUTUMN = {
    2022: (9, 10), 2023: (9, 29), 2024: (9, 17), 2025: (10, 6), 2026: (9, 25),
    2027: (9, 15), 2028: (10, 3), 2029: (9, 22), 2030: (9, 12), 2031: (10, 1),
}

CN_NUM = "一二三四五六七八九十"

# Old-compound renovation, one project a year: (what, compound, first building, buildings,
# households, year built).
RENOVATION_SUBJECTS = (
    ("幸福里小区1—6幢", "幸福里小区", 1, 6, 342, 1995),
    ("幸福里小区7—12幢", "幸福里小区", 7, 6, 342, 1995),
    ("桂香苑", "桂香苑", 1, 8, 416, 1999),
)

# 民生微实事 projects paid from the community's public-welfare money, with their contractors.
PROJECTS = (
    ("桂香苑休闲座椅及雨棚安装", "杭州安居房屋修缮有限公司"),
    ("明湖佳苑儿童游乐设施更新", "杭州乐童游乐设备有限公司"),
    ("幸福里小区楼道扶手安装", "杭州安居房屋修缮有限公司"),
    ("社区微型消防站设备更新", "临江区安泰消防器材经营部"),
    ("幸福里小区中心花园绿化提升", "临江区绿源园林绿化工程有限公司"),
    ("桂香苑非机动车充电棚扩容", "临江区明达水电安装服务部"),
    ("幸福里小区公共区域监控补盲", "杭州慧安智能科技有限公司"),
)

# Activities held every month (as named in a monthly report) and how residents take part.
RECURRING_ACTIVITIES = (
    ("党员志愿服务日",
     "您好！党员志愿服务日固定在每月5日上午（遇周末顺延）在社区广场举行，义诊、理发、"
     "磨刀等服务不需要报名，直接到场即可。"),
    ("“银龄课堂”智能手机培训",
     "您好！“银龄课堂”每月举办2至3期，每期4次课，在党群服务中心三楼上课，每期限20人。"
     f"请到服务大厅登记或拨打{PHONE[CULTURE]}（{CULTURE}）报名。"),
    ("健康讲座",
     "您好！健康讲座一般安排在每月第三个周四下午，由卫生服务站医生主讲，不需要报名，"
     "每期主题会提前在电子屏和公开栏公布。"),
    ("“邻里书房”亲子阅读会",
     "您好！亲子阅读会每月举办2至3场，周六上午在二楼图书室进行，每场限12组家庭，"
     f"请提前到服务大厅或拨打{PHONE[CULTURE]}报名。"),
)

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _rng(seed: int, *parts: object) -> random.Random:
    """An RNG for one item, keyed by the seed and what the item covers."""
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _shift_month(year: int, month: int, k: int) -> tuple[int, int]:
    i = year * 12 + (month - 1) + k
    return i // 12, i % 12 + 1


def _month_last(year: int, month: int) -> dt.date:
    ny, nm = _shift_month(year, month, 1)
    return dt.date(ny, nm, 1) - DAY


def _quarter_first(year: int, q: int) -> dt.date:
    return dt.date(year, 3 * q - 2, 1)


def _quarter_last(year: int, q: int) -> dt.date:
    return _month_last(year, 3 * q)


def _next_quarter(year: int, q: int) -> tuple[int, int]:
    return (year + 1, 1) if q == 4 else (year, q + 1)


def _quarter_publish(year: int, q: int) -> dt.date:
    """Finances are published on the 10th day of the next quarter."""
    ny, nq = _next_quarter(year, q)
    return dt.date(ny, 3 * nq - 2, 10)


def _latest(anchor: dt.date, month: int, day: int) -> dt.date:
    """The latest `month`-`day` on or before `anchor` (day <= 28, so any year has it)."""
    d = dt.date(anchor.year, month, day)
    return d if d <= anchor else dt.date(anchor.year - 1, month, day)


def _weekday_back(d: dt.date) -> dt.date:
    while d.weekday() >= 5:
        d -= DAY
    return d


def _weekday_forward(d: dt.date) -> dt.date:
    while d.weekday() >= 5:
        d += DAY
    return d








def _md(d: dt.date) -> str:
    return f"{d.month}月{d.day}日"


def _ordinal(i: int) -> str:
    return CN_NUM[i]


def _festival_month(table: dict[int, tuple[int, int]], year: int, default: int) -> int:
    return table.get(year, (default, 1))[0]


def _q(text: str) -> str:
    """Quote a name in “”, turning quotes inside it into ‘’."""
    return "“" + text.replace("“", "‘").replace("”", "’") + "”"


def _body(*paragraphs: str) -> str:
    return "\n\n".join(p for p in paragraphs if p)


def _amount(rng: random.Random, lo_yuan: int, hi_yuan: int, step_fen: int = 10) -> int:
    """A random amount in fen between two yuan bounds, a multiple of `step_fen`."""
    return rng.randint(lo_yuan * 100 // step_fen, hi_yuan * 100 // step_fen) * step_fen


def _masked(name: str) -> str:
    """张小芳 -> 张*芳, 李军 -> 李*: how relief lists are published."""
    return name[0] + "*" + (name[-1] if len(name) > 2 else "")


def _sign_offs(rng: random.Random, publish: dt.date, handler: str) -> list[Row]:
    """编制 by handler, director and secretary 1-10 days before; supervision >= 20 days."""
    handled = _weekday_back(publish - rng.randint(4, 8) * DAY)
    director = max(handled, _weekday_back(publish - rng.randint(1, 3) * DAY))
    secretary = max(handled, _weekday_back(publish - rng.randint(1, 3) * DAY))
    reviewed = _weekday_back(publish - rng.randint(20, 25) * DAY)
    return [
        {"role": "handler", "person": handler, "signed_on": handled},
        {"role": "director", "person": DIRECTOR, "signed_on": director},
        {"role": "secretary", "person": SECRETARY, "signed_on": secretary},
        {"role": "supervision", "person": SUPERVISOR, "signed_on": reviewed},
    ]


def _term_start(anchor: dt.date) -> tuple[dt.date, int]:
    """The election that began the current term (5-year terms from 2021) and its number."""
    year = 2021 + 5 * ((anchor.year - 2021) // 5)
    election = dt.date(year, 4, 17)
    if election + 40 * DAY > anchor:
        year -= 5
        election = dt.date(year, 4, 17)
    return election, 7 + (year - 2021) // 5


def _dibao_standard(d: dt.date) -> int:
    """City minimum-living-standard (低保) in yuan per person per month, raised each 1 July."""
    year = d.year if d.month >= 7 else d.year - 1
    return 1120 + 50 * (year - 2022)


def _households(year: int) -> int:
    return 3236 + 6 * (year - 2022)


@dataclass
class _Line:
    direction: str
    category: str
    item: str
    amount_fen: int
    note: str = ""

    def row(self) -> Row:
        return {
            "direction": self.direction,
            "category": self.category,
            "item": self.item,
            "amount_fen": self.amount_fen,
            "note": self.note,
        }


@dataclass
class _Quarter:
    year: int
    q: int
    opening_fen: int
    lines: list[_Line] = field(default_factory=list)

    def total(self, direction: str) -> int:
        return sum(x.amount_fen for x in self.lines if x.direction == direction)

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.total("income") - self.total("expense")


@dataclass
class _Published:
    """A disclosure with what the feedback generator may want to refer to."""

    kind: str
    row: Row
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def publish_on(self) -> dt.date:
        d: dt.date = self.row["publish_on"]
        return d


# ---------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------


class _Demo:
    def __init__(self, anchor: dt.date, seed: int) -> None:
        self.anchor = anchor
        self.seed = seed
        self.items: list[_Published] = []
        self.term_start, self.term_no = _term_start(anchor)

    def rng(self, *parts: object) -> random.Random:
        return _rng(self.seed, *parts)

    def add(
        self,
        kind_tag: str,
        *,
        uid: str,
        category: str,
        kind: str,
        title: str,
        body: str,
        publish: dt.date,
        take_down: dt.date | None = None,
        period: tuple[dt.date, dt.date] | None = None,
        handler: str | None = None,
        finance: Row | None = None,
        supersedes: str | None = None,
        correction_note: str | None = None,
        info: dict[str, Any] | None = None,
    ) -> _Published | None:
        """Add a disclosure if it is published by the anchor; return it (or None)."""
        if publish > self.anchor:
            return None
        row: Row = {
            "uid": uid,
            "category": category,
            "kind": kind,
            "title": title,
            "body": body,
            "publish_on": publish,
        }
        if take_down is not None:
            row["take_down_on"] = take_down
        if period is not None:
            row["period_start"], row["period_end"] = period
        if supersedes is not None:
            row["supersedes"] = supersedes
            row["correction_note"] = correction_note or ""
        row["sign_offs"] = _sign_offs(
            self.rng("sign", uid), publish, handler or HANDLER[category]
        )
        if finance is not None:
            row["finance"] = finance
        item = _Published(kind_tag, row, info or {})
        self.items.append(item)
        return item

    def latest(self, kind_tag: str, before: dt.date | None = None) -> _Published | None:
        """The most recent item of a kind published on or before `before`."""
        found = [
            i for i in self.items
            if i.kind == kind_tag and (before is None or i.publish_on <= before)
        ]
        return max(found, key=lambda i: i.publish_on) if found else None

    # -----------------------------------------------------------------------------------------
    # Fixed items (固定公开): permanent, published after the term began or at the year's start
    # -----------------------------------------------------------------------------------------

    def fixed_items(self) -> None:
        e = self.term_start
        n = _ordinal(self.term_no - 1)
        published = e + 30 * DAY
        term = f"{e.year}—{e.year + 5}年"
        self.add(
            "party-committee",
            uid=f"party-committee-{e.year}",
            category="party",
            kind="fixed",
            title=f"中共{NAME}委员会班子成员及分工（{term}）",
            body=_body(
                f"{cn_date(e - 12 * DAY)}，{NAME}召开党员大会，选举产生第{n}届社区党委，"
                f"经{STREET}党工委批复，任期五年。现将班子成员及分工公开如下：",
                f"书记：{SECRETARY}，主持社区党委全面工作，履行党风廉政建设第一责任人职责，"
                "联系幸福里小区第一党支部。",
                f"副书记：{DIRECTOR}（兼居委会主任），协助书记工作，分管居务公开和社区治理，"
                "联系桂香苑党支部。",
                f"委员：{PARTY_CLERK}，负责组织、宣传、党员教育管理和党费收缴，"
                "联系离退休党员党支部。",
                f"委员：{DEPUTY}，负责平安建设、物业协调和退役军人服务，联系明湖佳苑党支部。",
                f"委员：{CIVIL}，负责社会救助、残疾人工作和统战工作，"
                "联系幸福里小区第二党支部。",
                "社区党委下设5个党支部，现有党员180余名。党员群众对班子成员履职情况有意见"
                f"或建议的，可向社区民主监督小组（{SUPERVISION_PHONE}）或街道党工委反映。",
            ),
            publish=published,
            handler=PARTY_CLERK,
        )
        self.add(
            "committee",
            uid=f"committee-{e.year}",
            category="affairs",
            kind="fixed",
            title=f"第{n}届{NAME}居民委员会成员分工及联系方式",
            body=_body(
                f"{cn_date(e)}，{NAME}召开居民代表会议，依法选举产生第{n}届社区居民委员会，"
                "任期五年。现将成员分工及联系方式公开如下：",
                f"主任：{DIRECTOR}，主持居委会全面工作，负责居务公开、居民议事和社区规划，"
                f"电话{PHONE[DIRECTOR]}。",
                f"副主任：{DEPUTY}，负责综治平安、人民调解、物业协调和老旧小区改造，"
                f"电话{PHONE[DEPUTY]}。",
                f"委员：{CIVIL}，负责社会救助、养老服务和残疾人工作，电话{PHONE[CIVIL]}。",
                f"委员：{HEALTH}，负责卫生健康、妇女儿童和流动人口服务，电话{PHONE[HEALTH]}。",
                f"委员：{CULTURE}，负责文体活动、志愿服务和老年协会，电话{PHONE[CULTURE]}。",
                f"委员：{ACCOUNTANT}（兼报账员），负责社区财务、就业社保和统计，"
                f"电话{PHONE[ACCOUNTANT]}。",
                "居委会下设人民调解、治安保卫、公共卫生、社会福利、环境和物业管理5个下属"
                "委员会，全社区划分6个网格、24个居民小组，每个网格配备一名专职网格员。",
            ),
            publish=published,
            handler=DEPUTY,
        )
        self.add(
            "groups",
            uid=f"supervision-finance-groups-{e.year}",
            category="affairs",
            kind="fixed",
            title="社区民主监督小组、居务理财小组成员名单",
            body=_body(
                f"经{cn_date(e)}居民代表会议推选，产生新一届社区民主监督小组和居务理财小组，"
                "现将成员名单公开如下：",
                f"民主监督小组（5人）：组长{SUPERVISOR}（退休教师，居民代表，幸福里小区6幢）；"
                "成员刘桂兰（幸福里小区第二党支部党小组长）、张德明（桂香苑楼栋长）、"
                "黄淑珍（明湖佳苑居民代表）、马卫东（驻区单位代表）。",
                "民主监督小组负责在公开前审核每期居务公开内容，受理居民对公开事项的质询，"
                "发现内容遗漏或不实的，督促社区重新公布，并定期向居民会议报告监督情况。",
                f"居务理财小组（4人）：组长{FINANCE_LEAD}（退休会计师，桂香苑3幢）；"
                "成员徐美华、杨光明、蒋丽君。理财小组审核社区各项收支票据，参与大额支出论证，"
                "每季度对财务公开内容审核签字。",
                f"民主监督小组联系电话：{SUPERVISION_PHONE}（工作日），"
                "也可在服务大厅触摸屏“居务公开意见箱”留言。",
            ),
            publish=published,
            handler=DEPUTY,
        )
        reps = sum(len(names.split("、")) for _, names in REPRESENTATIVES)
        self.add(
            "representatives",
            uid=f"resident-representatives-{e.year}",
            category="affairs",
            kind="fixed",
            title=f"{NAME}居民代表名单（{term}）",
            body=_body(
                f"经各居民小组推选，本届社区居民代表共{reps}名，名单如下（按小区及楼栋排列）：",
                *(f"{place}：{names}。" for place, names in REPRESENTATIVES),
                "居民代表负责收集反映居民意见，参加居民代表会议，讨论决定社区重大事项。"
                "居民有事可直接联系本楼栋的居民代表。",
            ),
            publish=published,
            handler=DEPUTY,
        )
        self.add(
            "charter",
            uid=f"residents-charter-{e.year}",
            category="government",
            kind="fixed",
            title=f"{NAME}居民公约",
            body=_body(
                f"本公约经{cn_date(e)}社区居民代表会议讨论通过，请全体居民共同遵守。",
                "一、爱党爱国，遵纪守法，支持社区工作，积极参加社区公益活动和民主议事。",
                "二、邻里和睦，互谅互让，有矛盾找调解，不吵闹、不打架、不越级缠访。",
                "三、爱护公共设施和绿化，不私搭乱建，不占用楼道、消防通道堆放杂物。",
                "四、垃圾分类定时定点投放，文明养犬，出门牵绳，及时清理犬只粪便。",
                "五、电动自行车不进楼入户、不飞线充电，装修施工遵守作息时间。",
                "六、尊老爱幼，关心独居、困难老人，邻里之间守望相助。",
                "七、移风易俗，婚丧事宜从简，不大操大办，不在小区内燃放烟花爆竹。",
                "八、提高警惕，不听不信陌生来电，发现可疑情况及时报告社区或拨打110。",
                "对模范遵守公约的家庭，社区每年评选“和美家庭”予以表扬；违反公约的，"
                "由居民小组长、网格员劝导，必要时提交居民代表会议讨论。",
            ),
            publish=published,
            handler=DEPUTY,
        )
        self.add(
            "rules",
            uid=f"deliberation-rules-{e.year}",
            category="government",
            kind="fixed",
            title=f"{NAME}居民议事规则",
            body=_body(
                f"为保障居民依法参与社区事务的决策、管理和监督，根据《中华人民共和国城市居民"
                f"委员会组织法》，经{cn_date(e)}居民代表会议通过，制定本规则。",
                "一、议题来源：居民10人以上联名、居民代表3人以上联名、居委会或社区党委均可"
                "提出议题，由居委会汇总后提交社区党委审定。",
                "二、会议召开：居民代表会议每季度至少召开一次，须有三分之二以上代表出席方可"
                "举行；议题材料提前3天送达代表。",
                "三、表决规则：一般事项经到会代表过半数同意通过；涉及全体居民切身利益的重大"
                "事项（如公益金使用、加装电梯协调方案）须经全体代表过半数同意。",
                "四、结果公开：会议决定事项在7日内于公开栏、触摸屏和电子显示屏公开，"
                "实施情况及时向居民通报，接受民主监督小组监督。",
            ),
            publish=published,
            handler=DEPUTY,
        )
        self.add(
            "feedback-channels",
            uid=f"feedback-channels-{e.year}",
            category="affairs",
            kind="fixed",
            title="居民意见建议反映渠道及办理时限",
            body=_body(
                "居民对社区党务、居务公开内容有疑问，或对社区工作有意见建议，"
                "可通过以下渠道反映：",
                "1. 在服务大厅触摸屏“居务公开意见箱”留言，系统生成受理编号，凭编号查询办理结果；",
                "2. 投入公开栏旁的居务公开意见箱（每周一、周四开箱）；",
                f"3. 工作时间到{HALL}当面反映，或拨打{OFFICE_PHONE}；",
                f"4. 向社区民主监督小组组长{SUPERVISOR}反映（{SUPERVISION_PHONE}）。",
                "办理时限：能当场答复的当场答复；不能当场答复的，10个工作日内书面答复。"
                "署名投诉的，15日内将处理结果告知本人。经核实公开内容确有遗漏或不实的，"
                "社区将更正后重新公开，原内容存档备查。",
                "居民留下的姓名、电话仅用于答复，社区依法保护居民个人信息。",
            ),
            publish=published,
            handler=DEPUTY,
        )
        self.add(
            "service-fees",
            uid=f"service-items-fees-{e.year}",
            category="services",
            kind="fixed",
            title="社区服务项目、服务时间及收费标准",
            body=_body(
                f"一、一站式服务大厅：{OFFICE_HOURS}。受理社保医保、民政救助、"
                "流动人口、计生卫健、各类证明开具等事项，不收取任何费用。",
                "二、居家养老服务照料中心：周一至周六 8:00-17:00。日间托养每天30元（含午餐）；"
                "低保、特困老人免费。康复理疗、助浴按服务券结算。",
                "三、老年助餐点（幸福里小区4幢底层）：周一至周五 11:00-12:30。午餐每餐15元，"
                "80周岁以上老人每餐补贴5元，送餐上门每次加收2元。",
                "四、文化活动站、图书室、多功能厅：周二至周日开放，免费；"
                "多功能厅需提前3个工作日预约。",
                "五、四点半课堂：上学日16:00-18:00，面向辖区小学生，免费，学期初报名。",
                "六、便民维修志愿服务：每月第二个周六上午在社区广场，修理小家电、磨刀、"
                "配钥匙等免收工时费，材料费按实收取。",
                "社区工作人员不得以任何名义收取规定以外的费用，发现乱收费请向民主监督小组反映。",
            ),
            publish=published,
            handler=CULTURE,
        )
        self.add(
            "stations",
            uid=f"culture-health-stations-{e.year}",
            category="services",
            kind="fixed",
            title="社区文化活动站、卫生服务站服务内容及开放时间",
            body=_body(
                "文化活动站（党群服务中心二楼）：周二至周日 8:30-11:30、13:30-20:30。"
                "设图书阅览室（藏书1.2万册，可通借通还）、书画室、排练厅和棋牌室。"
                "常年活动团队有幸福里合唱团、夕阳红舞蹈队、太极拳队、书画社等12支。",
                "社区卫生服务站（幸福里路90号）：周一至周六 8:00-11:30、13:30-17:00。"
                "提供全科门诊、慢病配药、家庭医生签约、健康档案管理；每周六上午免费测血压、"
                "血糖；65周岁以上老人每年可免费体检一次，需带身份证和医保卡。",
                "心灵驿站（党群服务中心二楼）：每周四下午，专业社工提供心理疏导，"
                "可电话预约。",
                f"咨询电话：文化活动站{PHONE[CULTURE]}，卫生服务站0571-86527120。",
            ),
            publish=published,
            handler=CULTURE,
        )
        # Yearly fixed items: the year's goals and the collective assets.
        goals_on = _latest(self.anchor, 2, 25)
        y = goals_on.year
        r = self.rng("goals", y)
        self.add(
            "goals",
            uid=f"party-goals-{y}",
            category="party",
            kind="fixed",
            title=f"社区党委{y}年度工作目标",
            body=_body(
                f"经社区党委会议研究、党员大会讨论，现将{y}年度工作目标公开如下：",
                f"一、组织建设：按程序发展党员{r.randint(1, 3)}名，落实“三会一课”，"
                "每月5日开展主题党日；党员参加志愿服务每人全年不少于12小时。",
                "二、为民服务：完成民生微实事项目不少于3个，居民诉求办结率达到98%以上，"
                "书面答复不超过10个工作日。",
                "三、居务公开：事务每月10日、财务每季度首月10日按时公开，民主测评满意率"
                "不低于90%。",
                f"四、平安建设：开展消防安全巡查不少于{r.choice([36, 40, 48])}次，"
                "矛盾纠纷调解成功率95%以上，电动自行车入户充电“清零”。",
                "五、养老服务：助餐点日均服务不少于80人次，独居、空巢老人每月至少走访一次。",
            ),
            publish=goals_on,
            handler=PARTY_CLERK,
        )
        assets_on = _latest(self.anchor, 1, 20)
        ay = assets_on.year
        self.add(
            "assets",
            uid=f"collective-assets-{ay}",
            category="finance",
            kind="fixed",
            title=f"社区集体资产及资源使用情况（截至{ay - 1}年12月31日）",
            body=_body(
                f"根据社区财务公开要求，现将截至{ay - 1}年底社区集体资产及资源情况公开如下：",
                "1. 幸福里商业街12号沿街用房1间，建筑面积86平方米，经居民代表会议同意出租，"
                "年租金36,000元，按季度收取，全部纳入社区账户管理。",
                "2. 党群服务中心用房1,260平方米，产权属明湖街道，由社区无偿使用。",
                "3. 办公设备：电脑14台、打印复印一体机3台、触摸屏查询机1台、"
                "电子显示屏2块（服务大厅、社区大门），均已登记造册。",
                "4. 文体设施：健身路径3处共52件器材，由社区负责日常维护。",
                "社区集体资产的出租、处置均须经居民代表会议讨论决定，收益用于社区公益事业。",
            ),
            publish=assets_on,
            handler=ACCOUNTANT,
        )
        facts_on = _latest(self.anchor, 1, 15)
        fy = facts_on.year - 1
        self.add(
            "facts",
            uid=f"community-facts-{fy}",
            category="affairs",
            kind="fixed",
            title=f"{NAME}基本情况（截至{fy}年底）",
            body=_body(
                f"{NAME}隶属{STREET}，成立于2001年，面积0.86平方公里，辖幸福里小区（12幢，"
                "1995年建成）、桂香苑（8幢，1999年建成）、明湖佳苑（16幢，2012年建成）"
                "三个住宅小区和幸福里商业街。",
                f"截至{fy}年12月底，社区共有住户{_households(fy):,}户，常住人口"
                f"{8410 + 9 * (fy - 2022):,}人，其中60周岁以上老年人{2040 + 25 * (fy - 2022):,}人、"
                "80周岁以上290余人；登记流动人口700余人。",
                "社区党委下设5个党支部，党员180余名；居委会下设5个委员会，划分6个网格、"
                "24个居民小组。辖区有明湖小学、社区卫生服务站、商户80余家。",
                f"社区党群服务中心位于幸福里路88号，设一站式服务大厅、文化活动站、"
                f"居家养老服务照料中心和儿童之家，办公时间：{OFFICE_HOURS}。",
            ),
            publish=facts_on,
            handler=ACCOUNTANT,
        )

    # -----------------------------------------------------------------------------------------
    # Monthly community-affairs reports (事务公开, 每月10日公开上月)
    # -----------------------------------------------------------------------------------------

    def monthly_reports(self, count: int = 12) -> None:
        y, m = self.anchor.year, self.anchor.month
        if self.anchor.day < 10:  # this month's report (on last month) is not out yet
            y, m = _shift_month(y, m, -1)
        for k in range(count, 0, -1):
            self.monthly_report(*_shift_month(y, m, -k))

    def monthly_report(self, y: int, m: int) -> None:
        r = self.rng("affairs", y, m)
        ny, nm = _shift_month(y, m, 1)
        publish = dt.date(ny, nm, 10)
        info: dict[str, Any] = {"year": y, "month": m}

        hh = r.randint(21, 25)
        persons = hh + r.randint(hh // 2, hh - 4)
        per_person = r.randint(58, 66) * _dibao_standard(dt.date(y, m, 1)) // 100
        n80, n90, n100 = 258 + 5 * (y - 2022) + r.randint(-4, 4), r.randint(27, 33), 1
        elderly_yuan = n80 * 100 + n90 * 300 + n100 * 600
        info["elderly"] = n80 + n90 + n100
        extras = [
            f"新受理低保申请{r.randint(1, 3)}件，均已完成入户调查和家庭经济状况核对。",
            f"办理临时救助{(t := r.randint(1, 3))}户，"
            f"发放救助金{t * r.choice([2, 3]) * 1000:,}元。",
            f"走访独居、空巢老人{r.randint(90, 130)}户次，"
            f"为{r.randint(4, 12)}户高龄老人免费安装烟感报警器。",
            f"为{r.randint(8, 20)}名残疾人办理两项补贴年审，新办残疾证{r.randint(1, 3)}本。",
        ]
        welfare = (
            f"民生保障。本月在册城市低保{hh}户{persons}人，发放低保金"
            f"{persons * per_person:,}元；低保边缘家庭{r.randint(9, 14)}户。协助街道为"
            f"{info['elderly']}名80周岁以上老人发放高龄津贴{elderly_yuan:,}元。"
            + "".join(r.sample(extras, 2))
        )

        checkup = 4 <= m <= 10
        flu = m in (10, 11, 12)
        hazards = r.randint(6, 19)
        info["hazards"] = hazards
        pool: list[tuple[str, str]] = [
            ("jobs", r.choice([
                f"就业社保。现有登记失业人员{r.randint(14, 26)}人，本月帮助{r.randint(2, 6)}人"
                f"实现再就业；举办“家门口”招聘会1场，{r.randint(8, 15)}家企业提供岗位"
                f"{r.randint(60, 140)}个。",
                f"就业社保。办理灵活就业人员社保登记{r.randint(6, 18)}人次，协助"
                f"{r.randint(30, 70)}名居民完成养老金领取资格认证，为{r.randint(3, 9)}名"
                "新退休人员办理社会化管理手续。",
            ])),
            ("health", (
                f"卫生健康。办理生育登记{r.randint(2, 7)}件，新生儿入户登记{r.randint(2, 6)}人；"
                + (
                    f"社区卫生服务站为{r.randint(80, 160)}名65周岁以上老人完成免费体检，"
                    if checkup else
                    f"家庭医生为{r.randint(20, 45)}名行动不便的签约居民上门随访，"
                )
                + f"随访高血压、糖尿病患者{r.randint(180, 260)}人次"
                + (f"，组织流感疫苗接种{r.randint(60, 150)}人次。" if flu else "。")
            )),
            ("migrants", (
                f"流动人口服务。新登记流动人口{r.randint(15, 40)}人，注销{r.randint(10, 35)}人，"
                f"现登记在册{r.randint(700, 760)}人；受理居住证申领{r.randint(8, 25)}件，"
                f"上门核查出租房屋{r.randint(20, 45)}户。"
            )),
            ("safety", r.choice([
                f"平安建设。调解邻里、家庭纠纷{(a := r.randint(4, 9))}起，调解成功"
                f"{a - r.randint(0, 1)}起；开展消防安全巡查{r.randint(4, 8)}次，"
                f"整改楼道堆物、飞线充电等隐患{hazards}处。",
                f"平安建设。组织“红袖章”平安巡防{r.randint(12, 20)}次、志愿者"
                f"{r.randint(80, 150)}人次；开展反诈宣传进楼道活动，覆盖居民"
                f"{r.randint(400, 900)}户，整改楼道堆物、飞线充电等隐患{hazards}处。",
            ])),
            ("environment", r.choice([
                "环境卫生。督导垃圾分类定时定点投放，桂香苑、明湖佳苑分类准确率分别达到"
                f"{r.randint(88, 96)}%、{r.randint(90, 97)}%；清理楼道杂物{r.randint(12, 30)}处、"
                f"废弃非机动车{r.randint(3, 15)}辆。",
                f"物业协调。召开物业、业委会、社区三方协调会{r.randint(1, 3)}次，协调解决居民"
                f"诉求{r.randint(6, 15)}项；补植绿化{r.randint(40, 180)}平方米，"
                f"修剪树木{r.randint(30, 90)}株。",
            ])),
            ("counter", (
                f"便民服务。一站式服务大厅共受理各类事项{r.randint(320, 520)}件，开具居住、"
                f"亲属关系等证明{r.randint(40, 90)}份，为行动不便居民上门代办"
                f"{r.randint(5, 16)}件。"
            )),
            ("projects", "为民办实事。" + self._project_of_month(y, m) + "。"),
        ]
        chosen = sorted(r.sample(range(len(pool)), 3))
        if 3 not in chosen and r.random() < 0.5:  # safety patrols: most months
            chosen = sorted([*chosen[:2], 3])
        info["sections"] = [pool[i][0] for i in chosen]
        activities, info["recurring"] = self._activities_of_month(r, y, m)
        sections = [welfare, *(pool[i][1] for i in chosen), "社区活动。" + "；".join(activities)
                    + "。"]
        body = _body(
            f"根据《{NAME}居务公开制度》，现将{y}年{m}月社区事务办理情况公开如下：",
            *(f"{_ordinal(i)}、{s}" for i, s in enumerate(sections)),
            "以上内容已经社区民主监督小组审核。公示期30天，居民如有疑问，可到"
            f"{HALL}查询，或拨打{SUPERVISION_PHONE}向民主监督小组反映。",
        )
        self.add(
            "monthly",
            uid=f"affairs-{y}-{m:02d}",
            category="affairs",
            kind="periodic",
            title=f"{NAME}{y}年{m}月事务公开",
            body=body,
            publish=publish,
            take_down=publish + 30 * DAY,
            period=(dt.date(y, m, 1), _month_last(y, m)),
            handler=r.choice([CIVIL, HEALTH, CULTURE]),
            info=info,
        )

    def _project_of_month(self, y: int, m: int) -> str:
        projects = (
            "完成桂香苑2幢至4幢楼道感应灯更换，共更换灯具38盏",
            "明湖佳苑北门非机动车棚新增充电口24个，已投入使用",
            "为12户高龄独居老人完成卫生间扶手、防滑地面等适老化改造",
            "修复幸福里小区11幢前破损路面约60平方米",
            "更换儿童之家游乐区塑胶地垫，新增图书角1处",
            "在幸福里小区中心花园增设休闲座椅6张、遮阳伞2把",
            "疏通桂香苑雨水管道约300米，清理窨井42个",
            "党群服务中心无障碍坡道加装扶手，一楼卫生间增设无障碍厕位",
            "为明湖佳苑6幢、11幢单元门口台阶加装助力扶手",
            "完成幸福里小区7幢、9幢楼道墙面粉刷，清除小广告",
            "在桂香苑东门划定快递车辆临时停靠区，增设指示牌",
            "为社区微型消防站补充灭火器30具、消防水带6盘",
        )
        offset = self.rng("projects").randrange(len(projects))
        return projects[(y * 12 + m + offset) % len(projects)]

    def _activities_of_month(
        self, r: random.Random, y: int, m: int
    ) -> tuple[list[str], str]:
        """The month's activities (seasonal ones and a recurring one), and the recurring one."""
        n = r.randint
        by_month: dict[int, list[str]] = {
            1: [
                f"开展“冬日暖阳”走访，慰问独居老人{n(40, 60)}户",
                f"组织冬季消防安全大检查，检查沿街商铺{n(50, 80)}家",
            ],
            2: [
                f"举办元宵节猜灯谜游园会，{n(20, 32) * 10}余名居民参加",
                "开展烟花爆竹禁放宣传，党员志愿者分片包干巡查",
            ],
            3: [
                f"“学雷锋志愿服务月”开展义剪、磨刀、家电维修等便民服务，服务居民{n(260, 420)}人次",
                f"“三八”妇女节举办插花沙龙，{n(40, 60)}名女性居民参加",
            ],
            4: [
                "开展清明文明祭扫宣传，倡导鲜花祭扫、网上祭扫",
                f"“4·15全民国家安全教育日”设咨询台，发放宣传资料{n(300, 500)}份",
            ],
            5: [
                f"“5·12防灾减灾日”开展应急疏散演练，{n(150, 260)}名居民参加",
                f"组织“五一”环境大扫除，清理卫生死角{n(20, 40)}处",
            ],
            6: [
                f"“六一”儿童节举办亲子游园会，{n(60, 100)}组家庭参加",
                "“安全生产月”开展燃气安全入户宣传，检查燃气软管老化情况",
            ],
            7: [
                f"“七一”主题党日重温入党誓词，{n(110, 150)}名党员参加",
                f"暑期“四点半课堂”开班，招收辖区小学生{n(40, 60)}名",
            ],
            8: [
                "开展防汛防台应急演练，检查地下车库挡水板和排水泵",
                f"“八一”前夕走访慰问退役军人和军属{n(20, 32)}户",
            ],
            9: [
                "开学季组织“护学岗”志愿服务，党员志愿者每天早晚在明湖小学门口护学",
                "全民国防教育日开展国防知识宣传",
            ],
            10: [
                f"重阳节举办“孝老爱亲”敬老宴，为{n(60, 90)}位80周岁以上老人祝寿",
                f"国庆期间组织“我和国旗合个影”活动，{n(150, 300)}名居民参加",
            ],
            11: [
                f"“119消防宣传月”开展灭火器使用培训，{n(80, 140)}名居民现场实操",
                f"召开居民代表评议座谈会，收集意见建议{n(12, 25)}条",
            ],
            12: [
                "“12·4国家宪法日”开展宪法宣传进小区活动",
                f"开展年度居务公开满意度测评，组织居民代表{n(30, 36)}人参加评议会",
            ],
        }
        acts = list(by_month[m])
        if _festival_month(SPRING_FESTIVAL, y, 2) == m:
            acts.insert(0, f"春节前走访慰问困难家庭、困难党员{n(30, 40)}户，"
                        f"书法志愿者现场书写春联{n(200, 300)}副")
        if _festival_month(DRAGON_BOAT, y, 6) == m:
            acts.insert(0, f"端午节开展“粽情邻里”包粽子活动，为独居老人送去粽子{n(150, 250)}个")
        if _festival_month(MID_AUTUMN, y, 9) == m:
            acts.insert(0, f"中秋节举办“邻里月饼会”，{n(80, 150)}名居民一起制作月饼")
        generic = [
            f"每月5日党员志愿服务日开展义诊、理发、磨刀等服务{n(120, 200)}人次",
            f"“银龄课堂”开展智能手机培训{n(2, 4)}期，{n(40, 80)}名老人学会网上挂号",
            f"邀请社区卫生服务站医生举办健康讲座，{n(40, 80)}名居民参加",
            f"组织“邻里书房”亲子阅读会{n(2, 3)}场",
        ]
        pick = r.randrange(len(generic))
        return [*acts[:2], generic[pick]], RECURRING_ACTIVITIES[pick][0]

    # -----------------------------------------------------------------------------------------
    # Quarterly finance statements (财务公开, 次季度第10日) and a correction
    # -----------------------------------------------------------------------------------------

    EPOCH = (2022, 1)
    EPOCH_OPENING_FEN = 8_642_350

    def quarters(self) -> list[_Quarter]:
        """The true accounts from the epoch to the last quarter published by the anchor."""
        out: list[_Quarter] = []
        y, q = self.EPOCH
        opening = self.EPOCH_OPENING_FEN
        while _quarter_publish(y, q) <= self.anchor:
            quarter = _Quarter(y, q, opening, self._quarter_lines(y, q, opening))
            out.append(quarter)
            opening = quarter.closing_fen
            y, q = _next_quarter(y, q)
        return out

    def _quarter_lines(self, y: int, q: int, opening: int) -> list[_Line]:
        r = self.rng("finance", y, q)
        inc: list[_Line] = [
            _Line("income", "上级拨款", f"{STREET}拨付{y}年第{q}季度社区工作经费",
                  (50_000 + 2_500 * (y - 2022)) * 100),
            _Line("income", "党组织服务群众经费", f"{y}年第{q}季度党组织服务群众经费",
                  25_000 * 100, "专款专用"),
            _Line("income", "集体资产收入", "幸福里商业街12号沿街用房租金（3个月）",
                  9_000 * 100, "按合同季度收取"),
        ]
        if q == 1:
            inc.append(_Line("income", "专项经费", "垃圾分类专项工作经费",
                             _amount(r, 6_000, 10_000, 10_000)))
            inc.append(_Line("income", "捐赠收入", "辖区爱心企业春节慰问捐款",
                             _amount(r, 5_000, 10_000, 100_000), "明湖农商银行幸福里支行"))
        elif q == 2:
            inc.append(_Line("income", "公益金", f"街道下拨{y}年社区公益金（民生微实事项目）",
                             _amount(r, 60_000, 80_000, 100_000)))
        elif q == 3:
            inc.append(_Line("income", "捐赠收入", "“慈善一日捐”居民及商户捐款",
                             _amount(r, 8_000, 15_000), "捐款明细另行公示"))
        else:
            inc.append(_Line("income", "捐赠收入", "辖区单位重阳敬老捐赠",
                             _amount(r, 3_000, 6_000, 100_000), "明湖小学、幸福里商户联合会"))
        inc.append(_Line("income", "其他收入", "银行存款利息", _amount(r, 20, 90, 1)))

        water = {1: (4_200, 5_200), 2: (3_000, 3_800), 3: (5_500, 6_800), 4: (3_400, 4_200)}[q]
        exp: list[_Line] = [
            _Line("expense", "办公费", "办公用品及打印耗材", _amount(r, 1_800, 3_600)),
            _Line("expense", "水电费", "党群服务中心水电费（3个月）", _amount(r, *water)),
            _Line("expense", "通讯费", "网络宽带及电话费（3个月）", 138_000),
            _Line("expense", "保洁绿化", "公共区域保洁服务费（3个月）", 1_260_000,
                  "合同期一年"),
            _Line("expense", "人员补贴", "居民小组长、楼栋长工作补贴（24名，3个月）",
                  24 * 150 * 3 * 100, "每人每月150元"),
            _Line("expense", "人员补贴", "志愿者误餐补贴", _amount(r, 600, 1_500, 10_000)),
            _Line("expense", "宣传印刷",
                  r.choice(["居务公开栏版面更新制作", "政策宣传资料印制",
                            "垃圾分类、反诈宣传海报印制"]),
                  _amount(r, 600, 2_200)),
        ]
        events = {
            1: [("迎新春写春联送福字活动", 1_200, 2_400), ("元宵节猜灯谜游园会", 2_500, 4_500),
                ("“学雷锋”便民服务活动物资", 800, 1_600)],
            2: [("“六一”亲子游园会", 2_000, 3_500), ("“5·12”应急疏散演练物资", 900, 1_800),
                ("“粽情邻里”端午活动", 2_200, 3_800)],
            3: [("“七一”主题党日活动", 1_500, 3_000), ("暑期四点半课堂教材及文具", 1_800, 3_200),
                ("防汛防台应急物资补充", 2_500, 4_800)],
            4: [("重阳节“孝老爱亲”敬老宴", 4_000, 6_500), ("“119”消防培训及演练", 1_200, 2_200),
                ("年度居务公开满意度测评及居民代表评议会", 600, 1_200)],
        }[q]
        for item, lo, hi in r.sample(events, 2):
            note = "党组织服务群众经费列支" if "党" in item else ""
            exp.append(_Line("expense", "活动经费", item, _amount(r, lo, hi), note))
        if q == 1:
            h = r.randint(32, 40)
            exp.append(_Line("expense", "慰问支出", f"春节走访慰问困难家庭、困难党员（{h}户）",
                             h * 500 * 100, "每户500元"))
        elif q == 2:
            c = r.randint(8, 14)
            exp.append(_Line("expense", "慰问支出", f"“六一”慰问困境儿童（{c}名）",
                             c * 300 * 100, "每人300元"))
        elif q == 3:
            exp.append(_Line("expense", "慰问支出", "高温慰问环卫工人、快递员等户外劳动者",
                             _amount(r, 1_500, 2_600)))
        else:
            p = r.randint(270, 300)
            exp.append(_Line("expense", "慰问支出", f"重阳节慰问80周岁以上老人（{p}名）",
                             p * 50 * 100, "每人50元慰问品"))
        repairs = [
            ("幸福里小区楼道感应灯更换", 2_000, 4_500, "临江区明达水电安装服务部"),
            ("桂香苑健身器材维修", 1_500, 3_800, "杭州康力体育设施有限公司"),
            ("明湖佳苑雨水管道疏通", 2_200, 5_000, "临江区通达管道疏通服务部"),
            ("活动室空调清洗及维修", 1_200, 2_800, "临江区快修家电维修部"),
            ("幸福里小区非机动车棚顶棚修补", 3_000, 6_500, "杭州安居房屋修缮有限公司"),
            ("养老服务中心卫生间防滑处理", 2_500, 4_200, "杭州安居房屋修缮有限公司"),
        ]
        for item, lo, hi, contractor in r.sample(repairs, r.randint(1, 2)):
            exp.append(_Line("expense", "维修费", item, _amount(r, lo, hi),
                             f"承接单位：{contractor}"))

        # Projects from 公益金 take up what the quarter can afford, keeping a working balance.
        income = sum(x.amount_fen for x in inc)
        target_closing = _amount(r, 70_000, 105_000, 100)
        room = opening + income - sum(x.amount_fen for x in exp) - target_closing
        if room >= 200_000:
            k = (y * 4 + q) * 2
            parts = [room]
            if room >= 7_000_000:  # over 70,000 yuan: two projects
                first = room * r.randint(50, 60) // 100
                parts = [first, room - first]
            for i, amount in enumerate(parts):
                project, contractor = PROJECTS[(k + i) % len(PROJECTS)]
                exp.append(_Line("expense", "公益项目", f"民生微实事：{project}",
                                 amount // 10 * 10,
                                 f"承接单位：{contractor}；经居民代表会议表决通过"))
        return inc + exp

    def finance_statements(self, count: int = 5) -> None:
        """The last five quarters; each year's second quarter was corrected after publication.

        Five, so that a second quarter before the latest one (whose correction is out and
        whose successor opens with the corrected balance) is always shown.
        """
        for quarter in self.quarters()[-count:]:
            if quarter.q == 2:
                self._corrected_statement(quarter)
            else:
                self._statement(quarter)

    def _statement_body(self, quarter: _Quarter, publish_next: dt.date) -> str:
        y, q = quarter.year, quarter.q
        inc = [x for x in quarter.lines if x.direction == "income"]
        exp = [x for x in quarter.lines if x.direction == "expense"]
        top_exp = sorted(exp, key=lambda x: -x.amount_fen)[:3]
        return _body(
            f"根据《{NAME}居务公开制度》，经居务理财小组审核，现将{y}年第{q}季度"
            f"（{_md(_quarter_first(y, q))}至{_md(_quarter_last(y, q))}）社区财务收支情况"
            "公开如下：",
            f"上季度末结余 {yuan(quarter.opening_fen)} 元。本季度收入合计 "
            f"{yuan(quarter.total('income'))} 元（{len(inc)}笔），支出合计 "
            f"{yuan(quarter.total('expense'))} 元（{len(exp)}笔），本季度末结余 "
            f"{yuan(quarter.closing_fen)} 元。",
            "支出金额较大的项目为：" + "；".join(
                f"{x.item} {yuan(x.amount_fen)} 元" for x in top_exp
            ) + "。各项收支明细见下表。",
            "所有支出均经社区两委集体研究、居务理财小组审核，单笔5,000元以上支出经居民代表"
            "会议通过，票据齐全，存档备查。",
            f"本次公开至{cn_date(publish_next)}下季度财务公开时止。居民对公开内容如有疑问，"
            f"可在工作时间到{HALL}查阅凭证，或向居务理财小组组长{FINANCE_LEAD}、"
            f"民主监督小组（{SUPERVISION_PHONE}）反映。",
        )

    def _finance_row(self, quarter: _Quarter) -> Row:
        return {
            "opening_balance_fen": quarter.opening_fen,
            "lines": [x.row() for x in quarter.lines],
        }

    def _statement(self, quarter: _Quarter) -> _Published | None:
        y, q = quarter.year, quarter.q
        publish = _quarter_publish(y, q)
        publish_next = _quarter_publish(*_next_quarter(y, q))
        return self.add(
            "finance",
            uid=f"finance-{y}-q{q}",
            category="finance",
            kind="periodic",
            title=f"{y}年第{q}季度社区财务收支公开",
            body=self._statement_body(quarter, publish_next),
            publish=publish,
            take_down=publish_next,
            period=(_quarter_first(y, q), _quarter_last(y, q)),
            finance=self._finance_row(quarter),
            info={"quarter": quarter},
        )

    def _corrected_statement(self, right: _Quarter) -> None:
        """Publish the quarter with two errors, then the correction that supersedes it."""
        y, q = right.year, right.q
        wrong = replace(right, lines=[replace(x) for x in right.lines])
        water_i = next(i for i, x in enumerate(wrong.lines) if x.category == "水电费")
        whole = str(right.lines[water_i].amount_fen // 100)
        swap = next((i for i in range(1, len(whole) - 1) if whole[i] != whole[i + 1]), None)
        if swap is None:
            wrong_fen = right.lines[water_i].amount_fen + 18_000
        else:
            digits = whole[:swap] + whole[swap + 1] + whole[swap] + whole[swap + 2:]
            wrong_fen = int(digits) * 100 + right.lines[water_i].amount_fen % 100
        wrong.lines[water_i].amount_fen = wrong_fen
        care_i = next(i for i, x in enumerate(wrong.lines) if x.category == "慰问支出")
        wrong.lines[care_i].category = "活动经费"

        original = self._statement(wrong)
        assert original is not None  # quarters() holds published quarters only
        r = self.rng("correction", y, q)
        # Asked a month after publication, answered within days, corrected before next quarter.
        asked = original.publish_on + r.randint(30, 38) * DAY
        answered = _weekday_forward(asked + r.randint(3, 6) * DAY)
        publish = answered + r.randint(26, 28) * DAY
        water = right.lines[water_i]
        care = right.lines[care_i]
        note = (
            f"经居务理财小组核对原始票据，原公开表第{water_i + 1}项{_q(water.item)}金额误录为"
            f"{yuan(wrong_fen)}元，实为{yuan(water.amount_fen)}元；第{care_i + 1}项"
            f"{_q(care.item)}应列入“慰问支出”，原误列“活动经费”。支出合计由"
            f"{yuan(wrong.total('expense'))}元更正为{yuan(right.total('expense'))}元，"
            f"期末结余由{yuan(wrong.closing_fen)}元更正为{yuan(right.closing_fen)}元。"
        )
        publish_next = _quarter_publish(*_next_quarter(y, q))
        body = _body(
            f"{cn_date(original.publish_on)}公开的{y}年第{q}季度社区财务收支情况，经居民通过"
            "意见箱反映、居务理财小组复核，发现两处差错，现更正后重新公开，"
            "原公开内容存档备查。",
            note,
            self._statement_body(right, publish_next).split("\n\n", 1)[1],
        )
        self.add(
            "finance",
            uid=f"finance-{y}-q{q}-r1",
            category="finance",
            kind="periodic",
            title=f"{y}年第{q}季度社区财务收支公开（更正）",
            body=body,
            publish=publish,
            take_down=publish_next,
            period=(_quarter_first(y, q), _quarter_last(y, q)),
            finance=self._finance_row(right),
            supersedes=original.row["uid"],
            correction_note=note,
            info={"quarter": right},
        )
        original.info.update(
            asked=asked, answered=answered, item=water.item, wrong_fen=wrong_fen,
            right_fen=water.amount_fen, care_item=care.item, corrected_on=publish,
        )

    # -----------------------------------------------------------------------------------------
    # Party dues (党费收缴), quarterly
    # -----------------------------------------------------------------------------------------

    def party_dues(self, count: int = 4) -> None:
        y, q = self.anchor.year, (self.anchor.month - 1) // 3 + 1
        done = 0
        while done < count:
            y, q = (y - 1, 4) if q == 1 else (y, q - 1)
            if _quarter_publish(y, q) <= self.anchor:
                self._dues(y, q)
                done += 1

    def _dues(self, y: int, q: int) -> None:
        r = self.rng("dues", y, q)
        publish = _quarter_publish(y, q)
        sizes = [size + r.randint(-1, 1) for _, size in BRANCHES]
        members = sum(sizes)
        exempt = r.randint(0, 2)
        amounts = [size * r.randint(5_200, 9_800) // 10 * 10 for size in sizes]
        handed = _weekday_back(dt.date(y, 3 * q, 12) - r.randint(0, 2) * DAY)
        extra_n = r.randint(2, 5)
        paid_line = (
            f"实交{members - exempt}名（{exempt}名长期卧病、生活困难的老党员经支部研究同意"
            "免交）" if exempt else f"实交{members}名"
        )
        self.add(
            "dues",
            uid=f"party-dues-{y}-q{q}",
            category="party",
            kind="periodic",
            title=f"社区党委{y}年第{q}季度党费收缴情况",
            body=_body(
                f"根据《中国共产党党费使用和管理规定》，现将社区党委{y}年第{q}季度党费收缴"
                "情况公开如下：",
                f"本季度应交党费党员{members}名，{paid_line}，共收缴党费 "
                f"{yuan(sum(amounts))} 元，已于{cn_date(handed)}全额上缴{STREET}党工委。"
                f"其中{extra_n}名党员自愿多交党费。",
                "各支部收缴情况：" + "；".join(
                    f"{name}{size}名党员，{yuan(a)} 元"
                    for (name, _), size, a in zip(BRANCHES, sizes, amounts, strict=True)
                ) + "。",
                "党费收缴标准按党员本人工资收入或离退休费的比例确定，党员对本人交纳标准有疑问"
                f"的，请联系社区党委组织委员{PARTY_CLERK}（{PHONE[PARTY_CLERK]}）。",
            ),
            publish=publish,
            take_down=_quarter_publish(*_next_quarter(y, q)),
            period=(_quarter_first(y, q), _quarter_last(y, q)),
            handler=PARTY_CLERK,
        )

    # -----------------------------------------------------------------------------------------
    # Government affairs (政务公开): policies that concern residents, as they come out
    # -----------------------------------------------------------------------------------------

    def government_items(self) -> None:
        a = self.anchor
        d = _latest(a, 7, 3)
        y = d.year
        new, old = _dibao_standard(d), _dibao_standard(d) - 50
        self.add(
            "dibao-policy",
            uid=f"policy-dibao-standard-{y}",
            category="government",
            kind="immediate",
            title=f"关于调整{y}年度城乡居民最低生活保障标准的公告",
            body=_body(
                f"根据市民政局、市财政局关于调整{y}年度城乡居民最低生活保障标准的通知，"
                f"自{y}年7月1日起，我市城乡居民最低生活保障标准由每人每月{old:,}元调整为"
                f"{new:,}元，低保边缘家庭认定标准相应调整为每人每月{new * 3 // 2:,}元。",
                "已纳入低保的家庭按新标准自动调整保障金，无需重新申请；7月已按原标准发放的，"
                "差额随8月保障金一并补发。",
                "家庭人均月收入低于新标准、家庭财产符合规定的居民，可携带户口簿、身份证及收入"
                "证明到社区服务大厅民政窗口申请，社区受理后按规定开展入户调查和民主评议。",
                f"咨询电话：社区民政窗口{PHONE[CIVIL]}（{CIVIL}），"
                f"街道社会救助窗口{STREET_AID_PHONE}。",
            ),
            publish=d,
            take_down=d + 45 * DAY,
            handler=CIVIL,
            info={"year": y, "standard": new},
        )
        d = _latest(a, 9, 12)
        y = d.year
        adult, minor = 380 + 20 * (y + 1 - 2023), 280 + 20 * (y + 1 - 2023)
        self.add(
            "medical-insurance",
            uid=f"policy-medical-insurance-{y + 1}",
            category="government",
            kind="immediate",
            title=f"关于做好{y + 1}年度城乡居民基本医疗保险参保缴费工作的通知",
            body=_body(
                f"{y + 1}年度城乡居民基本医疗保险集中参保缴费期为{y}年9月1日至12月31日，"
                f"待遇享受期为{y + 1}年1月1日至12月31日。现将有关事项通知如下：",
                f"一、缴费标准：成年居民每人每年{adult}元，未成年人和在校学生每人每年{minor}元。"
                "低保对象、特困人员、低保边缘家庭成员的个人缴费部分由政府按规定资助。",
                "二、缴费方式：可通过市医保服务App、合作银行网点缴费；不会使用手机的老年人"
                f"可到{HALL}2号窗口由工作人员协助办理。",
                "三、温馨提示：未在集中缴费期内参保的，次年参保将设置待遇等待期。"
                "医保部门不会电话要求居民向个人账户转账缴费，谨防诈骗。",
                f"咨询电话：{PHONE[ACCOUNTANT]}（{ACCOUNTANT}）。",
            ),
            publish=d,
            take_down=dt.date(y, 12, 31),
            handler=ACCOUNTANT,
            info={"year": y + 1, "adult": adult, "minor": minor},
        )
        d = _latest(a, 3, 15)
        y = d.year
        self.add(
            "elderly-subsidy",
            uid=f"policy-elderly-care-subsidy-{y}",
            category="government",
            kind="immediate",
            title=f"{y}年居家养老服务补贴政策解读",
            body=_body(
                f"根据区民政局{y}年居家养老服务补贴实施办法，现将政策要点解读如下：",
                "一、补贴对象：具有本市户籍并居住在本社区，且符合以下条件之一的老年人："
                "低保、低保边缘家庭中的60周岁以上老人；80周岁以上独居或空巢老人；"
                "经评估为失能、半失能的老人。",
                "二、补贴标准：按评估等级每人每月200元至600元，以服务券形式发放，可用于助餐、"
                "助洁、助浴、助医等居家养老服务，不兑换现金。",
                "三、申请流程：本人或家属到社区民政窗口提出申请→社区初审并公示7天→"
                "街道审核→区民政局审批，审批通过后次月起享受。",
                f"需携带：老人身份证、户口簿，代办人身份证。咨询：{PHONE[CIVIL]}（{CIVIL}）。",
            ),
            publish=d,
            take_down=d + 60 * DAY,
            handler=CIVIL,
            info={"year": y},
        )
        d = _latest(a, 5, 20)
        y = d.year
        self.add(
            "waste",
            uid=f"policy-waste-sorting-{y}",
            category="government",
            kind="immediate",
            title="生活垃圾分类管理规定要点及小区投放时间",
            body=_body(
                "根据《市生活垃圾管理条例》，生活垃圾分为可回收物、有害垃圾、易腐垃圾和"
                "其他垃圾四类，居民应当按类别定时定点投放。现将要点公开如下：",
                "一、投放时间：各小区每日7:00-9:00、18:00-20:00定时投放；明湖佳苑北门设"
                "24小时误时投放点。大件垃圾、装修垃圾请预约清运，不得堆放在楼道。",
                "二、分类要求：易腐垃圾破袋投放，有害垃圾（废电池、过期药品、废灯管）投入"
                "红色收集容器，可回收物可交由每周六上午的回收志愿者称重积分。",
                "三、法律责任：个人未按规定分类投放的，由执法部门责令改正；拒不改正的，"
                "依法处以罚款。",
                f"社区将继续在投放点安排志愿者督导，欢迎居民报名参加。咨询：{PHONE[DEPUTY]}。",
            ),
            publish=d,
            take_down=d + 30 * DAY,
            handler=DEPUTY,
        )
        d = _latest(a, 1, 12)
        y = d.year
        self.add(
            "conscription",
            uid=f"policy-conscription-{y}",
            category="government",
            kind="immediate",
            title=f"{STREET}{y}年上半年征兵报名公告",
            body=_body(
                f"{y}年上半年征兵工作已经开始，现将有关事项公告如下：",
                "一、征集对象：年满18至22周岁的男性青年，大学专科以上学历可放宽至24周岁，"
                "研究生放宽至26周岁；女兵征集对象为普通高校应届毕业生和在校生。",
                f"二、报名方式：{y}年2月10日前登录全国征兵网进行兵役登记和应征报名，"
                "打印《应征报名登记表》后到社区退役军人服务站确认。",
                "三、优待政策：义务兵服役期间按规定发放家庭优待金，退役后享受学费资助、"
                "就业安置等优待政策。",
                f"咨询电话：社区退役军人服务站{PHONE[PARTY_CLERK]}（{PARTY_CLERK}）。",
            ),
            publish=d,
            take_down=d + 30 * DAY,
            handler=PARTY_CLERK,
        )
        d = _latest(a, 4, 8)
        y = d.year
        self.add(
            "recruitment",
            uid=f"recruitment-community-workers-{y}",
            category="government",
            kind="immediate",
            title=f"{STREET}{y}年社区专职工作者招聘公告",
            body=_body(
                f"根据区社区工作者管理办法，{STREET}面向社会公开招聘社区专职工作者"
                f"{self.rng('recruit', y).randint(5, 8)}名，现将有关事项公告如下：",
                "一、报名条件：拥护中国共产党的领导，遵纪守法，身体健康；大专及以上学历；"
                "年龄35周岁以下，持有社会工作者职业资格证书的放宽至40周岁。",
                f"二、报名时间：{y}年4月15日至4月24日（工作日），"
                f"到{STREET}便民服务中心三楼报名，需带身份证、学历证书原件及复印件。",
                "三、招聘程序：报名→资格审查→笔试→面试→体检→考察→公示→聘用，"
                "各环节结果均在街道和各社区公开栏公布。",
                "四、待遇：按区社区工作者薪酬体系执行，依法缴纳五险一金。",
            ),
            publish=d,
            take_down=dt.date(y, 4, 30),
            handler=ACCOUNTANT,
        )

    # -----------------------------------------------------------------------------------------
    # Party affairs published at once (党务即时公开)
    # -----------------------------------------------------------------------------------------

    def party_items(self) -> None:
        a = self.anchor
        d = _latest(a, 6, 8)
        y = d.year
        candidates = (
            ("张雨萱", "女", "明湖街道社区卫生服务中心护士"),
            ("刘子豪", "男", "幸福里小区居民、软件工程师"),
            ("陈思远", "男", "明湖小学教师"),
            ("王佳怡", "女", "社区专职网格员"),
            ("李明轩", "男", "退役军人、物业公司工程部主管"),
        )
        name, sex, job = candidates[(y + self.seed) % len(candidates)]
        ends = add_working_days(d, 4).on
        self.add(
            "new-member",
            uid=f"party-new-member-{y}",
            category="party",
            kind="immediate",
            title=f"关于拟接收{name}同志为中共预备党员的公示",
            body=_body(
                f"经支部大会讨论，社区党委研究，拟接收{name}同志为中共预备党员。"
                "现将有关情况公示如下：",
                f"{name}，{sex}，汉族，{y - 28}年出生，大学本科学历，{job}。{y - 3}年3月递交"
                f"入党申请书，{y - 2}年5月被确定为入党积极分子，{y - 1}年6月被列为发展对象，"
                "已参加街道党工委组织的集中培训并考试合格。",
                f"公示期为{_md(d)}至{_md(ends)}（5个工作日）。党员和群众对该同志如有意见，"
                f"可在公示期内向社区党委（{PHONE[SECRETARY]}）或{STREET}党工委组织办反映。"
                "反映问题应实事求是，提倡署名反映。",
            ),
            publish=d,
            take_down=d + 14 * DAY,
            handler=PARTY_CLERK,
        )
        d = _latest(a, 3, 6)
        y = d.year - 1
        r = self.rng("review", y)
        total = sum(size for _, size in BRANCHES) - r.randint(0, 3)
        excellent = r.randint(28, 36)
        attended = total - r.randint(6, 12)
        self.add(
            "party-review",
            uid=f"party-democratic-review-{y}",
            category="party",
            kind="immediate",
            title=f"社区党委{y}年度组织生活会和民主评议党员情况通报",
            body=_body(
                f"按照街道党工委统一部署，社区党委各支部于{y + 1}年2月召开{y}年度组织生活会，"
                f"开展民主评议党员。现将有关情况通报如下：",
                f"一、参加情况：全体党员{total}名，实际参加评议{attended}名，"
                "未参加的均为长期卧病或在外地居住的老党员，支部已上门或电话听取意见。",
                f"二、评议结果：评定为优秀{excellent}名、合格{attended - excellent}名，"
                "无基本合格和不合格党员。",
                f"三、问题整改：征求党员群众意见建议{r.randint(18, 30)}条，归纳为"
                "联系服务群众不够经常、部分老旧小区停车难、公开栏更新不够及时等"
                f"{r.randint(4, 6)}个方面，已逐条明确整改措施、责任人和完成时限，"
                "整改情况将适时公开。",
            ),
            publish=d,
            take_down=d + 30 * DAY,
            handler=PARTY_CLERK,
        )
        d = _latest(a, 6, 20)
        y = d.year
        r = self.rng("honours", y)
        members = ["孙国华", "吴秀英", "钱立新", "周美玲", "郑国平", "许建民", "何春燕",
                   "沈德荣", "金爱华", "陆卫东"]
        honoured = r.sample(members, 4)
        self.add(
            "honours",
            uid=f"party-honours-{y}",
            category="party",
            kind="immediate",
            title=f"社区党委{y}年“七一”优秀共产党员、优秀党务工作者拟表彰名单公示",
            body=_body(
                "经各支部推荐、社区党委会议研究，拟对以下同志予以表彰，现予公示：",
                "优秀共产党员（4名）：" + "、".join(
                    f"{p}（{BRANCHES[r.randrange(len(BRANCHES))][0]}）" for p in honoured
                ) + "。",
                f"优秀党务工作者（1名）：{r.choice(['刘桂兰', '张德明', '黄淑珍'])}。",
                f"公示期为{_md(d)}至{_md(d + 9 * DAY)}。如有异议，请在公示期内向社区党委"
                f"（{PHONE[SECRETARY]}）反映。",
            ),
            publish=d,
            take_down=d + 14 * DAY,
            handler=PARTY_CLERK,
        )

    # -----------------------------------------------------------------------------------------
    # Community affairs published at once (事务即时公开): relief, aid, hot issues
    # -----------------------------------------------------------------------------------------

    def _recent(self, months: Sequence[int], day: int, count: int) -> list[dt.date]:
        """The `count` latest dates on `day` of one of `months`, on or before the anchor."""
        out: list[dt.date] = []
        y, m = self.anchor.year, self.anchor.month
        while len(out) < count:
            d = dt.date(y, m, day)
            if m in months and d <= self.anchor:
                out.append(d)
            y, m = _shift_month(y, m, -1)
        return out

    PEOPLE = (
        "王小芳", "李建军", "张丽华", "刘秀英", "陈刚", "杨志明", "赵玉兰", "黄建平",
        "周红", "吴国强", "徐美琴", "孙海", "马春生", "朱丽娟", "胡永康", "郭淑芬",
    )
    PLACES = (
        *(f"幸福里小区{i}幢" for i in range(1, 13)),
        *(f"桂香苑{i}幢" for i in range(1, 9)),
        *(f"明湖佳苑{i}幢" for i in (1, 2, 3, 5, 6, 9, 11, 15)),
    )

    def affairs_items(self) -> None:
        for d in self._recent((2, 5, 8, 11), 18, 2):
            self._dibao_review(d)
        for d in self._recent((3, 6, 9, 12), 22, 2):
            self._temporary_aid(d)
        self._student_aid(_latest(self.anchor, 9, 20))
        self._hot_issues()

    def _dibao_review(self, d: dt.date) -> None:
        r = self.rng("dibao-review", d)
        # The meeting comes first, then the supervision group reviews the result list.
        review_day = _weekday_back(d - r.randint(26, 30) * DAY)
        n = r.randint(2, 4)
        names, places = r.sample(self.PEOPLE, n), r.sample(self.PLACES, n)
        reject = r.random() < 0.6
        lines = []
        for i in range(n):
            size = r.randint(1, 4)
            kind = "低保" if r.random() < 0.7 else "低保边缘家庭"
            result = "同意上报街道审核"
            if reject and i == n - 1:
                result = "不同意上报（家庭拥有机动车辆1辆，不符合现行认定条件）"
            lines.append(f"{i + 1}. {_masked(names[i])}，{places[i]}，家庭人口{size}人，"
                         f"申请类别：{kind}，评议结果：{result}。")
        mm = _shift_month(review_day.year, review_day.month, -1)[1]
        self.add(
            "dibao-review",
            uid=f"dibao-review-{d:%Y-%m}",
            category="affairs",
            kind="immediate",
            title=f"{d.year}年{d.month}月最低生活保障申请民主评议结果公示",
            body=_body(
                f"根据最低生活保障审核确认办法，社区于{cn_date(review_day)}组织居民代表、"
                f"民主监督小组成员和网格员共{r.randint(11, 15)}人，对{mm}月以来新受理的"
                "低保申请进行民主评议。现将评议结果公示如下：",
                "\n".join(lines),
                f"公示期10天（{_md(d)}至{_md(d + 9 * DAY)}）。如有异议，请在公示期内向社区"
                f"民主监督小组（{SUPERVISION_PHONE}）或街道社会救助窗口（{STREET_AID_PHONE}）"
                "反映。为保护个人隐私，公示不含门牌号和收入明细。",
            ),
            publish=d,
            take_down=d + 14 * DAY,
            handler=CIVIL,
            info={"rejected": reject},
        )

    def _temporary_aid(self, d: dt.date) -> None:
        r = self.rng("temporary-aid", d)
        reasons = (
            ("因病住院手术，医保报销后自付费用较高，导致基本生活困难", 3_000, 6_000),
            ("家中突发火灾，衣物家具受损", 2_000, 4_000),
            ("主要劳动力意外受伤，暂时失去收入来源", 2_000, 3_000),
            ("子女重病，家庭支出骤增", 4_000, 6_000),
            ("独居老人突发疾病，急需护理费用", 1_500, 3_000),
        )
        n = r.randint(2, 4)
        names, places = r.sample(self.PEOPLE, n), r.sample(self.PLACES, n)
        picked = r.sample(reasons, n)
        amounts = [r.randint(lo // 500, hi // 500) * 500 for _, lo, hi in picked]
        lines = [
            f"{i + 1}. {_masked(names[i])}，{places[i]}，{why}，救助金额{amounts[i]:,}元。"
            for i, (why, _, _) in enumerate(picked)
        ]
        quarter = (d.month - 1) // 3 + 1
        self.add(
            "temporary-aid",
            uid=f"temporary-aid-{d:%Y-%m}",
            category="affairs",
            kind="immediate",
            title=f"{d.year}年第{quarter}季度临时救助金发放情况公示",
            body=_body(
                f"根据临时救助实施办法，经社区受理、入户核实、街道审批，本季度共为{n}户"
                f"困难家庭发放临时救助金{sum(amounts):,}元，现公示如下：",
                "\n".join(lines),
                "救助金已全部通过银行转账发放到户。居民因遭遇突发事件、意外伤害或重大疾病"
                f"导致基本生活暂时困难的，可向社区民政窗口申请（{PHONE[CIVIL]}）。",
            ),
            publish=d,
            take_down=d + 20 * DAY,
            handler=CIVIL,
        )

    def _student_aid(self, d: dt.date) -> None:
        r = self.rng("student-aid", d.year)
        grades = (("小学", 1_000), ("初中", 1_500), ("高中", 2_000), ("大学", 3_000))
        n = r.randint(4, 6)
        names = r.sample(
            ["张子涵", "李思琪", "王浩然", "刘欣怡", "陈宇航", "杨梓萱", "赵一鸣", "黄诗涵"], n
        )
        rows = []
        total = 0
        for i, name in enumerate(names):
            grade, money = grades[r.randrange(len(grades))]
            total += money
            family = r.choice(["低保家庭", "低保边缘家庭", "因病致困家庭"])
            rows.append(f"{i + 1}. {_masked(name)}，{grade}，{family}，资助{money:,}元。")
        self.add(
            "student-aid",
            uid=f"student-aid-{d.year}",
            category="affairs",
            kind="immediate",
            title=f"{d.year}年秋季困难家庭学生助学金发放公示",
            body=_body(
                f"为帮助困难家庭学生顺利入学，{STREET}慈善分会与明湖农商银行幸福里支行"
                f"共同出资，经社区审核，{d.year}年秋季为辖区{n}名困难家庭学生发放助学金"
                f"共{total:,}元，现公示如下：",
                "\n".join(rows),
                "资助标准：小学每人1,000元，初中1,500元，高中2,000元，大学3,000元。"
                f"公示期10天，如有异议请联系社区民主监督小组（{SUPERVISION_PHONE}）。",
            ),
            publish=d,
            take_down=d + 15 * DAY,
            handler=CIVIL,
        )

    def _hot_issues(self) -> None:
        issues = (
            (
                "garage",
                "关于桂香苑地下车库渗水问题处理情况的公示",
                "近期多名居民通过意见箱和12345热线反映，桂香苑地下车库东侧墙面雨后渗水，"
                "部分车位长期积水。",
                "社区会同物业、业委会于接件后3日内现场查看，委托专业机构检测，确认为外墙"
                "防水层老化。经业主大会同意，使用住宅专项维修资金约8.6万元进行防水修复，"
                "同步清理排水沟、更换排水泵1台。",
                "修复工程已完工并经暴雨检验未再渗水。物业每月检查一次排水设施，"
                "居民发现渗漏可直接拨打物业服务中心电话报修。",
            ),
            (
                "charging",
                "关于幸福里小区电动自行车充电难问题处理情况的公示",
                "幸福里小区建成较早，原有充电桩不足，部分居民从楼上拉线充电，"
                "居民代表会议上多名代表提出安全隐患问题。",
                "社区召开居民议事会，确定在5幢北侧、9幢西侧新建充电棚2处，新增充电口60个，"
                "费用纳入民生微实事项目；同时联合物业开展飞线充电专项整治，"
                "逐户上门宣传劝导。",
                "两处充电棚已投入使用，充电收费每度电0.8元（含服务费），"
                "飞线充电现象已基本消除。",
            ),
            (
                "dance",
                "关于明湖佳苑南门广场舞噪音问题协调处理情况的公示",
                "明湖佳苑1幢、2幢居民反映，南门广场晚间广场舞音量过大，影响老人和学生休息。",
                "社区邀请舞蹈队负责人、居民代表和物业共同协商，议定活动时间为19:00-20:30，"
                "音箱统一调低音量，并在广场设置噪声监测显示屏。",
                "协商结果已执行一个月，未再收到相关投诉。社区将继续与舞蹈队保持沟通，"
                "也欢迎居民监督。",
            ),
            (
                "fumes",
                "关于幸福里商业街餐饮油烟扰民问题处理情况的公示",
                "桂香苑5幢低层住户反映，幸福里商业街部分餐饮店油烟直排，夏季无法开窗。",
                "社区会同街道综合行政执法中队对商业街14家餐饮店逐一检查，"
                "责令3家店铺清洗、更换油烟净化设施，1家调整排烟口朝向。",
                "整改已全部完成并经复查合格。社区将每季度联合执法中队开展一次复查。",
            ),
            (
                "delivery",
                "关于快递车辆占用桂香苑消防通道问题处理情况的公示",
                "居民反映每天早上快递三轮车在桂香苑东门消防通道集中卸货，影响通行和消防安全。",
                "社区与物业、3家快递网点协商，在东门外侧划定快递临时停靠区，"
                "早高峰安排志愿者引导，并在通道两侧施划禁停标线。",
                "消防通道已恢复畅通。快递网点承诺遵守停靠规定，"
                "物业将违规停车情况每周通报给网点负责人。",
            ),
        )
        offset = self.rng("hot-issues").randrange(len(issues))
        for d in self._recent((1, 4, 7, 10), 25, 2):
            # One issue a quarter, taking the issues in turn.
            turn = d.year * 4 + d.month // 3 + offset
            slug, title, why, done, result = issues[turn % len(issues)]
            self.add(
                "hot-issue",
                uid=f"hot-issue-{slug}-{d:%Y%m}",
                category="affairs",
                kind="immediate",
                title=title,
                body=_body(
                    f"一、问题由来。{why}",
                    f"二、处理过程。{done}",
                    f"三、处理结果。{result}",
                    "对以上处理情况如有意见，请在公示期内向社区民主监督小组"
                    f"（{SUPERVISION_PHONE}）反映。",
                ),
                publish=d,
                take_down=d + 30 * DAY,
                handler=DEPUTY,
                info={"slug": slug},
            )

    # -----------------------------------------------------------------------------------------
    # Stage work (阶段公开): an old-compound renovation published stage by stage
    # -----------------------------------------------------------------------------------------

    def renovations(self) -> None:
        """Last year's project (all three stages by now) and this year's, as far as it got."""
        for y in (self.anchor.year - 1, self.anchor.year):
            self._renovation(y)

    def _renovation(self, y: int) -> None:
        place, compound, first_no, buildings, households, built = RENOVATION_SUBJECTS[y % 3]
        r = self.rng("renovation", y)
        first = _weekday_back(dt.date(y, 3, 16))  # stage 1: the plan, for comments
        adopted = _weekday_back(dt.date(y, 4, 24))
        begun = _weekday_back(dt.date(y, 5, 12))
        status_on = _weekday_back(dt.date(y, 6, 20))
        second = _weekday_back(dt.date(y, 7, 16))  # stage 2: progress
        accepted = _weekday_back(dt.date(y, 10, 28))
        third = _weekday_back(dt.date(y, 11, 26))  # stage 3: acceptance and money
        budget = households * r.randint(160, 190) * 100  # yuan
        final = budget - r.randint(20, 50) * 1_000
        lifts = r.randint(2, 3) + buildings // 8
        parking, chargers = households // 10, households // 40 * 10
        base = f"{place}老旧小区综合改造（{y}年度项目）"
        info = {"year": y, "compound": compound, "ramp": f"{compound}{first_no + 2}幢",
                "lift": f"{compound}{first_no + buildings - 1}幢"}
        self.add(
            "renovation-plan",
            uid=f"renovation-{y}-stage1",
            category="affairs",
            kind="stage",
            title=f"{base}改造方案征求意见公示（第一阶段）",
            body=_body(
                f"{place}建成于{built}年，共{buildings}幢{households}户。经区住建局批准，"
                f"列入{y}年度老旧小区综合改造计划，概算总投资约{budget / 10_000:,.0f}万元，"
                "由市、区财政补助和住宅专项维修资金共同承担，居民个人不需另外出资。",
                f"主要改造内容：雨污分流及管网改造；{buildings}幢屋面防水和外墙保温修缮；"
                f"符合条件的单元加装电梯{lifts}台；新增停车位{parking}个、非机动车充电口"
                f"{chargers}个；增设无障碍坡道和楼道扶手；提升绿化照明和安防监控。",
                f"方案图纸在{HALL}和小区宣传栏展示。征求意见期为{_md(first)}起30天，"
                "居民可在意见箱、触摸屏留言或参加每周三晚7点的现场答疑会。",
            ),
            publish=first,
            take_down=first + 30 * DAY,
            period=(first, first + 29 * DAY),
            handler=DEPUTY,
            info=info,
        )
        self.add(
            "renovation-progress",
            uid=f"renovation-{y}-stage2",
            category="affairs",
            kind="stage",
            title=f"{base}施工进展情况公示（第二阶段）",
            body=_body(
                f"根据居民意见修改完善的改造方案已于{cn_date(adopted)}经居民代表会议"
                f"通过，工程于{cn_date(begun)}开工。截至{cn_date(status_on)}，施工进展如下：",
                f"1. 雨污分流管网已完成约{r.randint(60, 80)}%，已完工路段路面已恢复；",
                f"2. 屋面防水完成{r.randint(2, buildings - 2)}幢，"
                f"外墙保温修缮完成{r.randint(1, 3)}幢；",
                f"3. 加装电梯已完成{r.randint(1, lifts - 1)}台基坑施工，其余进入设备订货阶段；",
                "4. 施工期间每日7:00至12:00、14:00至20:00作业，中高考等特殊时段停止噪声作业。",
                "居民代表和监督小组每周参加一次工程例会。施工问题请联系现场负责人"
                f"（0571-86529031）或社区{DEPUTY}（{PHONE[DEPUTY]}）。",
            ),
            publish=second,
            take_down=second + 30 * DAY,
            period=(begun, status_on),
            handler=DEPUTY,
            info=info,
        )
        subsidy = final * 7 // 10
        self.add(
            "renovation-done",
            uid=f"renovation-{y}-stage3",
            category="affairs",
            kind="stage",
            title=f"{base}竣工验收及资金使用情况公示（第三阶段）",
            body=_body(
                f"改造工程已于{cn_date(accepted)}通过建设、监理、设计、施工单位及居民代表"
                "参加的竣工验收。现将完成情况公示如下：",
                f"完成雨污分流管网改造，{buildings}幢屋面防水和外墙修缮，加装电梯{lifts}台，"
                f"新增停车位{parking}个、充电口{chargers}个，新建无障碍坡道{buildings}处。",
                f"工程决算（送审）{final:,}元，其中市、区财政补助{subsidy:,}元，"
                f"住宅专项维修资金{final - subsidy:,}元，最终以审计结果为准，"
                "审计完成后再行公开。",
                "工程保修期内发现质量问题，请向物业或社区报修，由施工单位负责维修。"
                "公示期60天，如有异议请向社区民主监督小组反映。",
            ),
            publish=third,
            take_down=third + 60 * DAY,
            period=(begun, accepted),
            handler=DEPUTY,
            info=info,
        )

    # -----------------------------------------------------------------------------------------
    # Service notices (服务公开, at once)
    # -----------------------------------------------------------------------------------------

    def service_items(self) -> None:
        d = _latest(self.anchor, 6, 26)
        y = d.year
        self.add(
            "summer-class",
            uid=f"summer-class-{y}",
            category="services",
            kind="immediate",
            title=f"{y}年暑期青少年公益托管班招生公告",
            body=_body(
                f"为解决双职工家庭暑期看护难题，社区联合明湖小学、大学生志愿者开办{y}年"
                "暑期公益托管班，现将有关事项公告如下：",
                f"一、时间：{y}年7月8日至8月16日，周一至周五 8:30-11:30、14:00-17:00。",
                "二、对象：辖区6至12周岁小学生，限额50名，低保、残疾人家庭子女优先。",
                "三、内容：作业辅导、阅读、书法、科普、防溺水安全教育，全程免费，"
                "午餐可在老年助餐点按15元标准自愿订餐。",
                f"四、报名：{_md(d)}至7月5日，家长带孩子户口簿到社区儿童之家报名"
                f"（{PHONE[HEALTH]}）。",
            ),
            publish=d,
            take_down=dt.date(y, 8, 16),
            handler=CULTURE,
        )
        d = _latest(self.anchor, 10, 9)
        y = d.year
        self.add(
            "flu-vaccine",
            uid=f"flu-vaccine-{y}",
            category="services",
            kind="immediate",
            title=f"{y}—{y + 1}年度流感疫苗接种服务安排",
            body=_body(
                f"{y}—{y + 1}年度流感疫苗已到货，社区卫生服务站现开放接种预约：",
                "一、接种对象：6月龄以上无接种禁忌的居民均可自愿接种，重点推荐60周岁以上"
                "老人、慢性病患者、儿童和孕妇。",
                "二、费用：本市户籍60周岁以上老人免费接种，其他居民按物价部门核定价格自费。",
                "三、预约：拨打0571-86527130或到卫生服务站预约，接种时请带身份证和医保卡，"
                "接种后留观30分钟。",
                "行动不便的高龄老人可联系家庭医生团队安排集中接种。",
            ),
            publish=d,
            take_down=d + 60 * DAY,
            handler=HEALTH,
        )

    # -----------------------------------------------------------------------------------------
    # Satisfaction surveys (民主测评) and their published results
    # -----------------------------------------------------------------------------------------

    def surveys(self) -> list[Row]:
        """The latest annual survey (Dec-Jan) and half-year survey (Jun-Jul) already closed."""
        a = self.anchor
        end = dt.date(a.year, 1, 12)
        if end >= a:
            end = dt.date(a.year - 1, 1, 12)
        half_end = dt.date(a.year, 7, 12)
        if half_end >= a:
            half_end = dt.date(a.year - 1, 7, 12)
        n_annual = self.rng("survey", end.year - 1).randint(150, 180)
        n_half = self.rng("survey-h1", half_end.year).randint(70, 100)
        plans = [
            (f"{end.year - 1}年度居务公开满意度测评", f"annual-{end.year - 1}",
             dt.date(end.year - 1, 12, 8), end, n_annual),
            (f"{half_end.year}年上半年居务公开满意度测评", f"h1-{half_end.year}",
             dt.date(half_end.year, 6, 18), half_end, n_half),
        ]
        rows: list[Row] = []
        for survey, slug, start, stop, n in sorted(plans, key=lambda p: p[2]):
            rows.extend(self._survey(survey, slug, start, stop, n))
        return rows

    def _survey(
        self, survey: str, slug: str, start: dt.date, stop: dt.date, n: int
    ) -> list[Row]:
        r = self.rng("survey", slug)
        dissatisfied = round(n * r.uniform(0.02, 0.06))
        basic = round(n * r.uniform(0.08, 0.14))
        ratings = ["dissatisfied"] * dissatisfied + ["basic"] * basic
        ratings += ["satisfied"] * (n - len(ratings))
        r.shuffle(ratings)
        comments = {
            "satisfied": [
                "公开栏内容更新及时，一看就明白", "触摸屏查询很方便，孙子教了一次我就会用了",
                "财务公开很细，连买办公用品都写清楚了", "社区干部态度好，办事不用跑第二趟",
                "老旧小区改造后环境好多了，谢谢社区", "助餐点饭菜可口，价格实惠",
                "希望继续保持", "低保评议公开公平，大家都服气", "电子屏通知停水停电很及时",
            ],
            "basic": [
                "公开栏字有点小，希望再放大一些", "希望财务公开多写写大额支出的用途",
                "电子屏滚动太快，看不全", "下班回来社区已经关门了，希望有延时服务",
                "希望多开展年轻人能参加的活动", "公示时间能不能再长一点",
            ],
            "dissatisfied": [
                "反映的楼道堆物问题过了很久才处理", "停车难问题一直没有解决",
                "电动车充电口还是不够用", "意见箱留言后没有人打电话回复我",
            ],
        }
        # About a third answer at the residents' representatives' review meeting, the rest
        # at the kiosk during office hours.
        meeting = _weekday_forward(start + r.randint(6, 10) * DAY)
        days = [start + i * DAY for i in range((stop - start).days + 1)]
        open_days = [d for d in days if d.weekday() < 6]
        rows: list[Row] = []
        for i, rating in enumerate(ratings):
            if r.random() < 0.3:
                at = dt.datetime.combine(meeting, dt.time(14, 30)) + dt.timedelta(
                    minutes=r.randint(0, 110), seconds=r.randint(0, 59)
                )
            else:
                day = r.choice(open_days)
                first, last = (540, 690) if day.weekday() == 5 else (510, 1050)
                at = dt.datetime.combine(day, dt.time()) + dt.timedelta(
                    minutes=r.randint(first, last), seconds=r.randint(0, 59)
                )
            row: Row = {"key": f"survey-{slug}-{i + 1:04d}", "survey": survey, "rating": rating}
            chance = {"satisfied": 0.15, "basic": 0.5, "dissatisfied": 0.8}[rating]
            if r.random() < chance:
                row["comment"] = r.choice(comments[rating])
            row["submitted_at"] = at
            rows.append(row)
        rows.sort(key=lambda x: x["submitted_at"])
        self._survey_result(survey, slug, start, stop, rows)
        return rows

    def _survey_result(
        self, survey: str, slug: str, start: dt.date, stop: dt.date, rows: list[Row]
    ) -> None:
        count = {k: sum(1 for x in rows if x["rating"] == k)
                 for k in ("satisfied", "basic", "dissatisfied")}
        total = len(rows)
        rate = (count["satisfied"] + count["basic"]) * 1000 // total
        asked = sorted({x["comment"] for x in rows
                        if x["rating"] != "satisfied" and "comment" in x})[:3]
        publish = stop + 26 * DAY
        self.add(
            "survey-result",
            uid=f"survey-result-{slug}",
            category="affairs",
            kind="immediate",
            title=f"{survey}结果公示",
            body=_body(
                f"{survey}已于{cn_date(stop)}结束，测评通过服务大厅触摸屏和居民代表评议会进行，"
                f"共收回有效测评{total}份。",
                f"测评结果：满意{count['satisfied']}份，基本满意{count['basic']}份，"
                f"不满意{count['dissatisfied']}份，"
                f"满意率（含基本满意）为{rate // 10}.{rate % 10}%，"
                "达到不低于90%的要求。",
                "居民提出的主要意见建议：" + "；".join(asked) + "。社区已逐条研究，"
                "明确责任人和完成时限，整改情况将在月度事务公开中报告。" if asked else "",
                f"感谢居民朋友的支持和监督。对测评结果如有疑问，请联系社区民主监督小组"
                f"（{SUPERVISION_PHONE}）。",
            ),
            publish=publish,
            take_down=publish + 30 * DAY,
            period=(start, stop),
            handler=CULTURE,
        )

    # -----------------------------------------------------------------------------------------
    # LED-board announcements: the week starting at the anchor
    # -----------------------------------------------------------------------------------------

    def announcements(self) -> list[Row]:
        a = self.anchor
        r = self.rng("announcements", a)
        start = dt.datetime.combine(a, dt.time())
        week_end = start + dt.timedelta(days=7)

        def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(hour, minute))

        def ann(uid: str, text: str, valid_from: dt.datetime, valid_until: dt.datetime,
                *, priority: int = 0, boards: Sequence[str] = (), rrule: str | None = None,
                minutes: int | None = None, emergency: bool = False) -> Row:
            row: Row = {"uid": f"{uid}-{a:%Y%m%d}", "text": text, "valid_from": valid_from,
                        "valid_until": valid_until}
            if rrule is not None:
                row["rrule"] = rrule
                row["duration_minutes"] = minutes
            row.update(priority=priority, boards=list(boards), emergency=emergency)
            return row

        days = [a + i * DAY for i in range(7)]
        weekdays = [d for d in days[1:] if d.weekday() < 5]
        clinic = r.choice([d for d in weekdays if d.weekday() in (1, 3)] or weekdays)
        outage = r.choice([d for d in weekdays[1:] if d != clinic] or weekdays)
        saturday = next(d for d in days if d.weekday() == 5)
        month = a.month
        if month in (6, 7, 8, 9):
            season = "高温天气请减少午间外出，独居老人如需帮助请拨打" + OFFICE_PHONE
        elif month in (12, 1, 2):
            season = "寒潮天气注意保暖，使用燃气热水器、取暖器时请保持通风，谨防一氧化碳中毒"
        elif month in (3, 4, 5):
            season = "春季天干物燥，请勿在楼道堆放杂物，进山祭扫严禁烟火"
        else:
            season = "秋冬季节火灾高发，请定期检查家中燃气软管和电线插座"
        monthly = self.latest("monthly")
        finance = self.latest("finance")
        rows = [
            ann("hall-open", "社区服务大厅8:30开门办公，12:00-13:30午间暂停受理，请合理安排",
                start, week_end, priority=1, boards=["hall"],
                rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=0", minutes=60),
            ann("waste", "垃圾分类定时投放：每日7:00-9:00、18:00-20:00，易腐垃圾请破袋投放",
                start, week_end, priority=1, boards=["gate"],
                rrule="FREQ=DAILY;BYHOUR=6,17;BYMINUTE=30", minutes=150),
            ann("ebike", "电动自行车请勿进楼入户、飞线充电，请到小区充电棚充电",
                start, week_end, priority=1, boards=["gate"],
                rrule="FREQ=DAILY;BYHOUR=18;BYMINUTE=0", minutes=240),
            ann("bp-check", "每周六上午社区卫生服务站免费测血压、血糖，请带好医保卡",
                start, week_end, boards=["hall"],
                rrule="FREQ=WEEKLY;BYDAY=SA;BYHOUR=8;BYMINUTE=0", minutes=210),
            ann("calligraphy", "老年大学书法班每周三下午2点在党群服务中心三楼上课",
                start, week_end, boards=["hall"],
                rrule="FREQ=WEEKLY;BYDAY=WE;BYHOUR=13;BYMINUTE=0", minutes=120),
            ann("clinic", f"{_md(clinic)}上午9点在社区多功能厅开展义诊，眼科、骨科医生坐诊，"
                "欢迎居民参加", start, at(clinic, 11, 30), priority=2),
            ann("water-notice", f"因供水管网维修，{_md(outage)}9:00-15:00桂香苑1-8幢停水，"
                "请提前储水", start, at(outage, 9), priority=3),
            ann("water-cut", "桂香苑1-8幢正在停水抢修，预计15:00恢复供水，恢复初期水质浑浊"
                "请放水片刻", at(outage, 8, 50), at(outage, 15, 30), priority=9,
                emergency=True),
            ann("anti-fraud", "警惕冒充客服、“高息理财”诈骗：不听不信不转账，可疑情况请拨打96110",
                start, week_end, priority=1),
            ann("feedback", "有意见建议可在大厅触摸屏“意见箱”留言，社区10个工作日内答复",
                start, week_end, boards=["hall"]),
            ann("movie", f"{_md(saturday)}（周六）晚7点社区多功能厅放映红色经典电影，免费入场",
                start, at(saturday, 19), boards=["gate", "hall"]),
            ann("season", season, start, week_end),
        ]
        if monthly is not None:
            y, m = monthly.info["year"], monthly.info["month"]
            rows.append(ann("affairs-published", f"{y}年{m}月社区事务公开已发布，"
                            "欢迎到公开栏或大厅触摸屏查阅监督", start, week_end))
        if finance is not None:
            quarter: _Quarter = finance.info["quarter"]
            rows.append(ann("finance-published", f"{quarter.year}年第{quarter.q}季度社区"
                            "财务收支已公开，欢迎居民查阅监督", start, week_end,
                            boards=["hall"]))
        r.shuffle(rows)
        return sorted(rows, key=lambda x: (-x["priority"], x["valid_from"]))

    # -----------------------------------------------------------------------------------------
    # Residents' feedback (居务公开意见箱): the last three months
    # -----------------------------------------------------------------------------------------

    def feedback(self) -> list[Row]:
        a = self.anchor
        r = self.rng("feedback", a)
        templates = [
            self._fb_elderly_allowance, self._fb_hazard, self._fb_finance_repair,
            self._fb_finance_detail, self._fb_dibao, self._fb_lift, self._fb_ramp,
            self._fb_medical, self._fb_care_subsidy, self._fb_student_aid, self._fb_hot_issue,
            self._fb_activity, self._fb_font, self._fb_canteen, self._fb_led, self._fb_bench,
            self._fb_residence, self._fb_young, self._fb_waste, self._fb_aid,
            self._fb_checkup, self._fb_shelter, self._fb_one_child, self._fb_chargers,
            self._fb_pension_check, self._fb_dogs, self._fb_certificate, self._fb_lamp,
            self._fb_after_school,
        ]
        r.shuffle(templates)
        # The two named complaints always come, at random places among the dates.
        templates.insert(r.randrange(0, 6), self._fb_clutter)
        templates.insert(r.randrange(8, 14), self._fb_fumes)
        n_open = r.randint(4, 6)
        n_done = r.randint(14, 17)
        # Answers take at most 8 days; the last 12 days' submissions are still open, none
        # of them overdue (10 working days are at least 12 calendar days).
        dates = sorted(
            [a - r.randint(13, 92) * DAY for _ in range(n_done)]
            + [a - r.randint(1, 12) * DAY for _ in range(n_open)]
        )
        drafts: list[tuple[dt.datetime, _Fb, dt.datetime | None]] = []
        for d in dates:
            if d.weekday() == 6:  # the hall is closed on Sundays
                d -= DAY
            for make in templates:
                fb = make(d, r)
                if fb is not None:
                    templates.remove(make)
                    break
            else:
                continue
            drafts.append((self._submitted(d, r), fb, None))
        asked_about = [i for i in self.items if i.kind == "finance" and "asked" in i.info
                       and a - 150 * DAY <= i.info["asked"] < a]
        if asked_about:
            correction = max(asked_about, key=lambda i: i.publish_on)
            fb, asked = self._fb_correction(correction)
            drafts.append((asked, fb, dt.datetime.combine(
                correction.info["answered"], dt.time(r.randint(9, 16), r.randint(0, 59))
            )))
        drafts.sort(key=lambda x: x[0])

        rows: list[Row] = []
        per_day: dict[dt.date, int] = {}
        for submitted, fb, fixed_reply in drafts:
            day = submitted.date()
            per_day[day] = per_day.get(day, 0) + 1
            row: Row = {
                "ticket": f"Q{day:%Y%m%d}-{per_day[day]:03d}",
                "kind": fb.kind,
                "topic": fb.topic,
                "text": fb.text,
                "submitted_at": submitted,
            }
            if fb.disclosure is not None:
                row["disclosure"] = fb.disclosure
            if fb.name is not None:
                row["contact_name"] = fb.name
            if fb.name is not None or r.random() < 0.35:
                row["contact_phone"] = (
                    f"1{r.choice('3589')}{r.randint(0, 9)}{r.randint(0, 99_999_999):08d}"
                )
            if (a - day).days >= 13:
                replied = fixed_reply or self._reply_time(submitted, r)
                row["reply_text"] = fb.reply.format(done=_md(replied.date()))
                row["replied_at"] = replied
                row["replied_by"] = fb.by
            rows.append(row)
        return rows

    def _submitted(self, d: dt.date, r: random.Random) -> dt.datetime:
        first, last = (540, 690) if d.weekday() == 5 else (520, 1040)
        return dt.datetime.combine(d, dt.time()) + dt.timedelta(
            minutes=r.randint(first, last), seconds=r.randint(0, 59)
        )

    def _reply_time(self, submitted: dt.datetime, r: random.Random) -> dt.datetime:
        """A written answer within a few working days (at most 8 calendar days)."""
        day = _weekday_forward(submitted.date() + r.randint(1, 6) * DAY)
        return dt.datetime.combine(day, dt.time(r.randint(9, 16), r.randint(0, 59)))

    def _current(self, kind: str, on: dt.date, within_days: int = 60) -> _Published | None:
        item = self.latest(kind, before=on - DAY)
        if item is None or (on - item.publish_on).days > within_days:
            return None
        return item

    def _fb_correction(self, original: _Published) -> tuple[_Fb, dt.datetime]:
        quarter: _Quarter = original.info["quarter"]
        info = original.info
        r = self.rng("correction-question", original.row["uid"])
        fb = _Fb(
            "question", "财务公开数据核对",
            f"{quarter.year}年第{quarter.q}季度财务公开中{_q(info['item'])}"
            f"{yuan(info['wrong_fen'])}元，我在服务中心看到的缴费单上是"
            f"{yuan(info['right_fen'])}元，是不是录错了？请核实。",
            f"您好！感谢您的监督。经居务理财小组核对原始票据，{_q(info['item'])}实际金额为"
            f"{yuan(info['right_fen'])}元，公开时录入有误；复核中还发现{_q(info['care_item'])}"
            "科目归类错误。更正后的财务公开表经民主监督小组审核后重新公开，"
            "原公开内容保留存档备查。",
            ACCOUNTANT,
            disclosure=original.row["uid"],
        )
        return fb, self._submitted(_weekday_back(info["asked"]), r)

    def _fb_elderly_allowance(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("monthly", on)
        if item is None:
            return None
        return _Fb(
            "question", "高龄津贴申请",
            f"看到{item.info['month']}月事务公开里说协助发放高龄津贴，我母亲下个月满80周岁，"
            "是要本人来社区申请，还是会自动发放？",
            "您好！高龄津贴需要首次申请，老人年满80周岁当月即可办理。请携带老人身份证、"
            "户口簿和老人本人名下的银行卡到服务大厅3号窗口办理；老人行动不便的，可电话预约"
            f"（{PHONE[CIVIL]}），我们上门受理。审核通过后次月起按月发放到卡。",
            CIVIL, disclosure=item.row["uid"],
        )

    def _fb_hazard(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("monthly", on)
        if item is None or "safety" not in item.info["sections"]:
            return None
        place = r.choice(self.PLACES[:12])
        return _Fb(
            "question", "飞线充电隐患",
            f"{item.info['month']}月事务公开说整改了{item.info['hazards']}处飞线充电等隐患，"
            f"可{place}楼下还有一根电线从三楼窗户拉下来给电动车充电，能不能来看看？",
            f"您好！网格员已会同物业到{place}现场查看，劝导该住户拆除了飞线，"
            "并告知就近使用5幢北侧充电棚。我们一周内会复查，"
            f"如再发现请直接拨打{PHONE[DEPUTY]}。",
            DEPUTY, disclosure=item.row["uid"],
        )

    def _fb_finance_repair(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("finance", on)
        if item is None:
            return None
        quarter: _Quarter = item.info["quarter"]
        line = max((x for x in item.row["finance"]["lines"]
                    if x["category"] in ("维修费", "公益项目")),
                   key=lambda x: x["amount_fen"], default=None)
        if line is None:
            return None
        company = line["note"].split("；")[0].removeprefix("承接单位：")
        return _Fb(
            "question", "财务公开·维修支出",
            f"{quarter.year}年第{quarter.q}季度财务公开里{_q(line['item'])}"
            f"{yuan(line['amount_fen'])}元，请问是哪家单位做的？有没有比价？",
            f"您好！该项目经社区两委会议研究，比选三家报价后由{company}承接，完工后由居务"
            f"理财小组组长{FINANCE_LEAD}和居民代表现场验收。合同、报价单和发票均已存档，"
            "您可在工作日到社区服务大厅查阅。",
            ACCOUNTANT, disclosure=item.row["uid"],
        )

    def _fb_finance_detail(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("finance", on)
        if item is None:
            return None
        return _Fb(
            "suggestion", "财务公开写得更细",
            "财务公开里的“活动经费”能不能写细一点？比如每次活动花了多少钱、多少人参加，"
            "这样大家看得更明白。",
            "感谢您的建议！自下季度起，财务公开表中的活动经费将逐项列明活动名称和参加人数，"
            "活动照片和签到表可在服务大厅查阅。",
            ACCOUNTANT, disclosure=item.row["uid"],
        )

    def _fb_dibao(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("dibao-review", on, 30)
        if item is None:
            return None
        if item.info["rejected"]:
            return _Fb(
                "question", "低保评议标准",
                "低保评议结果公示里有一户“不同意上报”，请问评议是按什么标准？"
                "这户人家以后还能再申请吗？",
                "您好！民主评议依据申请家庭的收入、财产和实际生活状况，对照低保审核确认办法"
                "进行。该户因拥有机动车辆不符合现行条件。家庭情况发生变化后可以随时重新申请，"
                "不受本次评议结果影响。涉及个人隐私的详细情况不便公开，敬请理解。",
                CIVIL, disclosure=item.row["uid"],
            )
        return _Fb(
            "question", "低保申请材料",
            "看到低保评议公示，想问一下申请低保要准备哪些材料？我家老人退休金很低。",
            "您好！申请低保需携带家庭成员身份证、户口簿、收入证明（如退休金发放明细），"
            "到社区民政窗口填写申请表并签署家庭经济状况核对授权书。社区受理后入户调查，"
            f"民主评议并公示后报街道审核。可先电话咨询{PHONE[CIVIL]}。",
            CIVIL, disclosure=item.row["uid"],
        )

    def _fb_lift(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("renovation-progress", on, 90) or self._current(
            "renovation-plan", on, 90)
        if item is None:
            return None
        return _Fb(
            "question", "加装电梯条件",
            f"改造公示里说加装电梯，我们{item.info['lift']}2单元也想装，需要满足什么条件？"
            "费用怎么分摊？",
            "您好！加装电梯需由本单元专有部分面积和人数均占三分之二以上的业主参与表决，"
            "并经参与表决业主中面积和人数均占四分之三以上同意。政府对每台电梯给予定额补助，"
            "其余费用由本单元业主按楼层协商分摊。社区可协助召开单元协调会，"
            f"请联系{DEPUTY}（{PHONE[DEPUTY]}）。",
            DEPUTY, disclosure=item.row["uid"],
        )

    def _fb_ramp(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("renovation-done", on, 60)
        if item is None:
            return None
        return _Fb(
            "suggestion", "无障碍坡道",
            f"改造后{item.info['ramp']}门口新修的无障碍坡道有点陡，推轮椅上去很吃力，"
            "能不能再改一改？",
            "您好！社区已联系施工单位和监理到现场测量，坡道坡度确实偏大，已列入保修整改"
            "清单。施工单位承诺两周内加长坡道、加装扶手，完工后我们会请您一起验收。",
            DEPUTY, disclosure=item.row["uid"],
        )

    def _fb_medical(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self.latest("medical-insurance", before=on - DAY)
        if item is None or on >= item.row["take_down_on"]:
            return None
        return _Fb(
            "question", "医保缴费",
            f"{item.info['year']}年度医保缴费，孩子在外地上大学，是在学校交还是在家里交？",
            "您好！在校大学生一般在学校所在地参加城乡居民医保；如学校未统一组织，"
            "也可在户籍地按学生标准缴费。请先向学校确认，避免重复缴费。"
            "需要协助可到服务大厅2号窗口办理。",
            ACCOUNTANT, disclosure=item.row["uid"],
        )

    def _fb_care_subsidy(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("elderly-subsidy", on, 90)
        if item is None:
            return None
        return _Fb(
            "question", "居家养老服务补贴",
            "居家养老服务补贴是发钱还是发服务？我父亲82岁，一个人住，能申请吗？",
            "您好！补贴以服务券形式发放，可用于助餐、助洁、助浴等服务，不兑换现金。"
            "80周岁以上独居老人符合申请条件，请带老人身份证、户口簿到社区民政窗口申请，"
            "社区初审后公示7天再报街道审核。",
            CIVIL, disclosure=item.row["uid"],
        )

    def _fb_student_aid(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("student-aid", on, 90)
        if item is None:
            return None
        return _Fb(
            "question", "助学金申请",
            "助学金公示里的资助标准是怎么定的？我家孩子明年上大学，家里是低保边缘户，"
            "能申请吗？",
            "您好！资助标准由街道慈善分会统一确定。低保、低保边缘家庭及因病致困家庭的在读"
            "学生都可以申请，每年9月集中受理，大学新生需提供录取通知书和户口簿。"
            "受理前社区会在公开栏和电子屏发布通知。",
            CIVIL, disclosure=item.row["uid"],
        )

    def _fb_hot_issue(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("hot-issue", on, 30)
        if item is None:
            return None
        return _Fb(
            "question", "问题反映渠道",
            f"看到《{item.row['title']}》，想问一下以后再有类似问题，是直接找物业还是找社区？",
            "您好！日常报修请直接联系物业服务中心；物业处理不及时或需要多方协调的，可以找"
            "网格员或在触摸屏意见箱留言，社区会在10个工作日内答复并跟进到底。",
            DEPUTY, disclosure=item.row["uid"],
        )

    def _fb_activity(self, on: dt.date, r: random.Random) -> _Fb | None:
        item = self._current("monthly", on)
        if item is None:
            return None
        name = item.info["recurring"]
        reply = dict(RECURRING_ACTIVITIES)[name]
        return _Fb(
            "question", "活动报名",
            f"{item.info['month']}月事务公开里提到{name}，下次什么时候办？需要报名吗？",
            reply, CULTURE, disclosure=item.row["uid"],
        )

    def _fb_font(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "公开栏字号",
            "公开栏里的财务表格字太小，老年人站着看很吃力，建议放大字号，"
            "触摸屏上最好也能把字调大。",
            "感谢您的建议！公开栏财务表格已改用A3纸张、大号字打印；服务大厅触摸屏右上角"
            "有“大字”按钮，可放大显示，工作人员也可现场协助查询。",
            DIRECTOR,
        )

    def _fb_canteen(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "助餐点周末开放",
            "幸福里小区助餐点周末不开门，独居老人周末吃饭不方便，建议周六也供应午餐。",
            "您好！经与助餐点运营方协商，自下月第一个周六起试行周六午餐供应"
            "（11:00-12:30），需提前一天预订（0571-86523120）。试行一个月后根据就餐人数"
            "决定是否长期开放。",
            CIVIL,
        )

    def _fb_led(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "电子屏显示",
            "社区门口电子屏滚动太快，一句话没看完就过去了，建议放慢一点。",
            "感谢您的建议！已将门口电子屏的滚动速度调慢，每条通知停留时间延长，"
            "停水停电等重要通知增加播放次数。",
            CULTURE,
        )

    def _fb_bench(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "增设休息座椅",
            "明湖佳苑南门到公交站这一段没有座椅，老人走走停停很累，建议增设几张休息椅。",
            "您好！该建议已列入社区民生微实事项目，计划在南门人行道旁设置休息座椅4张，"
            "预计一个月内完成安装，届时在月度事务公开中报告。",
            DIRECTOR,
        )

    def _fb_residence(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "question", "居住证办理",
            "我是外地来的，在桂香苑租房，办居住证需要什么材料？多久能拿到？",
            "您好！请携带本人身份证、租房合同到服务大厅4号窗口办理居住登记，居住满半年后"
            "可申领居住证，一般15个工作日内制证完成，社区短信通知领取。"
            f"咨询电话{PHONE[HEALTH]}。",
            HEALTH,
        )

    def _fb_young(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "增加亲子和青年活动",
            "社区活动大多面向老年人，建议周末晚上组织一些亲子或年轻人的活动，比如羽毛球、"
            "读书会。",
            "谢谢建议！下月起每月第二个周六晚上在多功能厅举办“邻里夜读会”，每月最后一个"
            f"周日上午组织亲子运动会，报名请联系{CULTURE}（{PHONE[CULTURE]}）。",
            CULTURE,
        )

    def _fb_waste(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "question", "垃圾误时投放",
            "易腐垃圾桶晚上八点以后就收走了，下班晚的居民怎么办？",
            "您好！明湖佳苑北门设有24小时误时投放点，桂香苑、幸福里小区居民也可以使用。"
            "请注意破袋投放，包装袋投入其他垃圾桶。",
            DEPUTY,
        )

    def _fb_aid(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "question", "临时救助申请",
            "老伴突发住院，医保报销后自己付的部分还很多，家里能申请临时救助吗？",
            "您好！可以申请。请携带住院发票、费用清单、出院小结和家庭成员身份证、户口簿"
            "到社区民政窗口申请，社区受理后入户核实，报街道审批。"
            f"具体可电话咨询{PHONE[CIVIL]}（{CIVIL}）。",
            CIVIL,
        )

    def _fb_clutter(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "complaint", "楼道堆物",
            "幸福里小区9幢2单元三楼到四楼楼道长期堆放旧家具和纸箱，和邻居沟通多次没有结果，"
            "有消防隐患，请社区处理。",
            "钱女士您好！接到投诉后，网格员次日会同物业上门核查，与堆物住户沟通后已于"
            "{done}清理完毕，并在单元门口张贴消防安全提示。物业每周巡查一次，"
            f"如再发现堆物请直接联系{DEPUTY}（{PHONE[DEPUTY]}）。",
            DEPUTY, name="钱美玲",
        )

    def _fb_fumes(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "complaint", "餐饮油烟扰民",
            "幸福里商业街一家面馆油烟直排，桂香苑5幢低层住户窗户都不敢开，请协调解决。",
            "孙先生您好！社区已会同街道综合行政执法中队现场检查，该店油烟净化设施未正常"
            "使用，已责令整改。店主已于{done}清洗并更换净化器，社区将在一个月内回访，"
            "请您继续监督。",
            DEPUTY, name="孙立平",
        )

    def _fb_checkup(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "question", "老年人免费体检",
            "65岁以上老人免费体检今年什么时候开始？需要空腹吗？",
            "您好！社区卫生服务站每年4月至10月开展65周岁以上老人免费体检，工作日上午"
            "7:30-9:30，需空腹，请带身份证和医保卡，可提前电话预约0571-86527120。",
            HEALTH,
        )

    def _fb_shelter(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "公开栏遮雨棚",
            "社区大门旁的居务公开栏没有遮雨棚，下雨天没法看，纸也容易被淋湿，建议加个棚。",
            "感谢您的建议！已安排在公开栏上方加装透明雨棚，公开内容同步在大厅触摸屏和"
            "电子显示屏发布，雨天也可以在大厅查阅。",
            DIRECTOR,
        )

    def _fb_one_child(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "question", "独生子女父母奖励扶助",
            "我今年满60周岁，独生子女父母奖励扶助金怎么申请？",
            "您好！符合条件的独生子女父母年满60周岁当年即可申请。请携带夫妻双方身份证、"
            "户口簿和独生子女父母光荣证到服务大厅4号窗口填写申请表，社区初审公示后报街道"
            f"审核，通过后按年发放。咨询电话{PHONE[HEALTH]}。",
            HEALTH,
        )

    def _fb_chargers(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "充电口不够用",
            "明湖佳苑北门充电棚晚上经常满，下班回来充不上电，建议再增加一些充电口。",
            "感谢您的建议！已与物业商定在明湖佳苑北门充电棚增设充电口20个，预计下月完成"
            "安装。安装前晚间可使用南门充电棚，那里空位较多。",
            DEPUTY,
        )

    def _fb_pension_check(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "question", "养老金资格认证",
            "我父亲住在外地儿子家，养老金领取资格认证能不能不回来办？",
            "您好！可以不回来。老人可通过手机社保App刷脸自助认证；不会操作的，家属可联系"
            f"社保窗口（{PHONE[ACCOUNTANT]}），由工作人员视频协助完成认证。",
            ACCOUNTANT,
        )

    def _fb_dogs(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "文明养犬",
            "小区里有人遛狗不牵绳，孩子很害怕，希望社区加强管理。",
            "感谢反映！社区已联合物业在各小区入口张贴文明养犬提示，并在早晚遛狗高峰时段"
            "安排志愿者劝导；对屡劝不改的，将联系派出所依法处理。",
            DEPUTY,
        )

    def _fb_certificate(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "question", "居住证明开具",
            "孩子办入学要开居住证明，社区能开吗？需要带什么材料？",
            "您好！可以开具。请携带户口簿、房产证或租房合同和本人身份证到服务大厅1号窗口"
            "办理，材料齐全的当场开具。",
            HEALTH,
        )

    def _fb_lamp(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "suggestion", "路灯维修",
            "桂香苑6幢到7幢之间的路灯坏了好几天，晚上走路看不清，请尽快修一下。",
            "您好！已通知物业，路灯已于{done}更换灯具并恢复照明。小区路灯损坏也可直接拨打"
            "桂香苑物业服务中心电话0571-86526502报修。",
            DEPUTY,
        )

    def _fb_after_school(self, on: dt.date, r: random.Random) -> _Fb | None:
        return _Fb(
            "question", "四点半课堂报名",
            "四点半课堂现在还能报名吗？孩子上二年级。",
            "您好！本学期还有少量名额，请家长带孩子户口簿到党群服务中心一楼儿童之家登记。"
            "四点半课堂上学日16:00-18:00开放，由大学生志愿者辅导作业，全程免费。",
            HEALTH,
        )


@dataclass
class _Fb:
    kind: str
    topic: str
    text: str
    reply: str
    by: str
    disclosure: str | None = None
    name: str | None = None


# ---------------------------------------------------------------------------------------------
# Services and convenience information (服务公开、便民信息)
# ---------------------------------------------------------------------------------------------

_WEEKDAYS = "周一至周五 8:30-12:00 13:30-17:30"

# (uid, name, kind, address, phone, hours, notes)
SERVICES: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    # 文化体育
    ("culture-station", "幸福里社区文化活动站", "culture", "幸福里路88号党群服务中心二楼",
     PHONE[CULTURE], "周二至周日 8:30-11:30 13:30-20:30",
     "图书阅览、书画、排练、棋牌，免费开放；周一闭馆"),
    ("library", "邻里书房（社区图书室）", "culture", "党群服务中心二楼201室", PHONE[CULTURE],
     "周二至周日 9:00-20:00", "藏书1.2万册，凭市民卡借阅，每次限借3册，可通借通还"),
    ("senior-university", "老年大学幸福里教学点", "culture", "党群服务中心三楼",
     PHONE[CULTURE], "春季班3月开课，秋季班9月开课",
     "书法、声乐、太极、智能手机等课程，每门每学期50元，低保老人免费"),
    ("fitness-square", "全民健身广场", "culture", "明湖佳苑南门东侧", "",
     "6:00-21:00", "健身器材22件；21:00后请勿使用音响设备"),
    ("after-school", "四点半课堂", "culture", "党群服务中心一楼儿童之家", PHONE[HEALTH],
     "上学日 16:00-18:00", "大学生志愿者辅导作业，免费，学期初报名"),
    ("hall-booking", "社区多功能厅预约", "culture", "党群服务中心三楼", OFFICE_PHONE,
     "工作时间预约", "居民团队排练、议事会可免费使用，请提前3个工作日登记"),
    # 医疗卫生
    ("health-station", "明湖街道社区卫生服务中心幸福里服务站", "health", "幸福里路90号",
     "0571-86527120", "周一至周六 8:00-11:30 13:30-17:00",
     "全科门诊、慢病配药、家庭医生签约；周六上午免费测血压血糖"),
    ("family-doctor", "家庭医生团队（戴海燕团队）", "health", "幸福里服务站二楼",
     "0571-86527121", "工作日 8:00-17:00",
     "签约居民可预约上门随访；65周岁以上老人每年免费体检一次"),
    ("vaccination", "预防接种门诊", "health", "明湖街道社区卫生服务中心（明湖路168号）",
     "0571-86527130", "周一、三、五 8:00-11:00", "儿童计划免疫、成人流感疫苗接种，需预约"),
    ("pharmacy-kangning", "康宁大药房幸福里店", "health", "幸福里商业街8号", "0571-86524120",
     "8:00-22:00", "医保定点药店，可刷医保卡；免费测血压"),
    ("pharmacy-jian", "济安堂药店", "health", "明湖路155号", "0571-86524389", "24小时营业",
     "夜间购药请按门铃；医保定点"),
    ("dental", "明湖口腔诊所", "health", "明湖路176号二楼", "0571-86524517",
     "9:00-18:00（周三休息）", "医保定点，需预约"),
    ("counselling", "心灵驿站心理咨询室", "health", "党群服务中心二楼", PHONE[HEALTH],
     "每周四 14:00-17:00", "专业社工提供心理疏导，免费，电话预约"),
    # 养老助餐
    ("canteen-xingfuli", "幸福里老年助餐点", "elderly", "幸福里小区4幢底层", "0571-86523120",
     "周一至周五 11:00-12:30", "每餐15元，80周岁以上补贴5元；送餐上门每次加收2元"),
    ("canteen-minghu", "明湖佳苑长者食堂", "elderly", "明湖佳苑会所一楼", "0571-86523121",
     "每日 10:45-12:30 16:45-18:00", "面向全体居民，60周岁以上老人九折"),
    ("day-care", "居家养老服务照料中心", "elderly", "党群服务中心一楼东侧", "0571-86523122",
     "周一至周六 8:00-17:00", "日间托养每天30元（含午餐），康复理疗、助浴可用服务券"),
    ("emergency-call", "独居老人“一键通”呼叫服务", "elderly", "居家养老服务照料中心",
     "0571-86523123", "24小时", "为80周岁以上独居老人免费安装呼叫器，紧急情况一键呼叫"),
    ("elderly-association", "社区老年协会", "elderly", "党群服务中心二楼", PHONE[CULTURE],
     "工作日上午", "组织老年文体活动、结对探访独居老人"),
    ("aids-lending", "康复辅具借用点", "elderly", "居家养老服务照料中心", "0571-86523122",
     "周一至周六 8:00-17:00", "轮椅、助行器、坐便椅免费借用，押金200元"),
    # 政务代办
    ("service-hall", "社区一站式服务大厅", "government", "幸福里路88号一楼", OFFICE_PHONE,
     OFFICE_HOURS, "社保医保、民政、计生、居住证、证明开具等事项"),
    ("social-insurance", "社保医保代办窗口（2号窗口）", "government", "社区服务大厅",
     PHONE[ACCOUNTANT], _WEEKDAYS, "灵活就业参保登记、城乡居民医保缴费、退休资格认证"),
    ("civil-affairs", "民政救助窗口（3号窗口）", "government", "社区服务大厅", PHONE[CIVIL],
     _WEEKDAYS, "低保、临时救助、高龄津贴、残疾人两项补贴申请"),
    ("residence", "流动人口服务窗口（4号窗口）", "government", "社区服务大厅", PHONE[HEALTH],
     _WEEKDAYS, "居住登记、居住证申领、出租房屋登记"),
    ("veterans", "退役军人服务站（5号窗口）", "government", "社区服务大厅",
     PHONE[PARTY_CLERK], _WEEKDAYS, "优抚对象服务、征兵报名确认"),
    ("street-center", "明湖街道便民服务中心", "government", "明湖路200号", "0571-86528800",
     "周一至周五 8:30-17:00", "街道层面政务服务事项集中办理"),
    ("police-registry", "明湖派出所户籍窗口", "government", "明湖路210号", "0571-86528110",
     "周一至周五 9:00-12:00 13:30-17:00，周六上午", "户口迁移、身份证办理"),
    ("legal-aid", "社区法律顾问咨询", "government", "党群服务中心二楼调解室", PHONE[DEPUTY],
     "每周二 14:00-17:00", "律师免费提供法律咨询"),
    ("mediation", "社区人民调解委员会", "government", "党群服务中心二楼调解室",
     PHONE[DEPUTY], _WEEKDAYS, "邻里、家庭、物业纠纷调解，免费"),
    # 便民商店
    ("supermarket", "惠民生鲜超市（幸福里店）", "shop", "幸福里商业街2号", "0571-86524466",
     "7:00-22:00", "蔬菜、肉蛋、粮油，满58元小区内免费送货"),
    ("convenience-store", "好邻居便利店", "shop", "桂香苑东门", "0571-86524588", "24小时营业",
     "可代缴水电燃气费"),
    ("market", "明湖农贸市场", "shop", "明湖路158号", "", "5:30-18:30", "设公平秤"),
    ("breakfast", "幸福里早餐店", "shop", "幸福里商业街6号", "0571-86524603", "5:30-10:00",
     "包子、豆浆、馄饨，老年人凭优待证九折"),
    ("grain-oil", "青禾粮油店", "shop", "幸福里商业街10号", "13857101236", "7:00-19:00",
     "大米、食用油可送货上楼"),
    ("fruit", "鲜果时光水果店", "shop", "明湖佳苑南门商铺3号", "0571-86524712",
     "8:00-22:00", ""),
    ("barber", "便民理发店", "shop", "幸福里商业街15号", "13957102458", "8:30-20:00",
     "60周岁以上老人理发10元；行动不便可预约上门"),
    ("print-shop", "快印图文店", "shop", "幸福里商业街18号", "0571-86524835", "8:00-20:00",
     "打印复印、证件照"),
    ("post-office", "明湖邮政所", "shop", "明湖路162号", "0571-86524900",
     "周一至周六 8:30-17:00", "邮寄、养老金领取、报刊订阅"),
    ("bakery", "麦香坊面包店", "shop", "桂香苑西门商铺1号", "0571-86524951", "7:00-21:00",
     "每晚20:00后面包八折"),
    # 家政服务
    ("housekeeping-qiaoshou", "巧手家政服务部", "housekeeping", "幸福里商业街21号",
     "0571-86525588", "8:00-20:00", "保洁、钟点工每小时45元起；已在街道备案"),
    ("nanny", "安心母婴护理服务中心", "housekeeping", "明湖路180号三楼", "0571-86525610",
     "9:00-18:00", "月嫂、育婴员，持证上岗"),
    ("home-nursing", "暖阳居家护理服务站", "housekeeping", "居家养老服务照料中心内",
     "0571-86525633", "8:00-18:00", "老人陪护、助浴、陪诊，可使用养老服务券"),
    ("appliance-cleaning", "洁净家电清洗", "housekeeping", "桂香苑8幢底层车库",
     "13867103369", "8:00-19:00", "空调、油烟机、洗衣机清洗，明码标价"),
    ("movers", "顺心搬家服务", "housekeeping", "明湖路190号", "0571-86525672", "7:00-19:00",
     "小区内搬家按车次计费，提前一天预约"),
    # 维修服务
    ("repair-volunteers", "便民维修志愿服务队", "repair", "社区广场", PHONE[CULTURE],
     "每月第二个周六 9:00-11:00", "修小家电、磨刀、配钥匙，免收工时费"),
    ("plumbing", "明达水电维修", "repair", "幸福里商业街23号", "13757104472", "7:30-20:00",
     "水管、电路、灯具维修，上门费20元"),
    ("appliances", "快修家电维修部", "repair", "明湖路172号", "0571-86526018", "8:30-19:30",
     "电视、冰箱、洗衣机、空调维修，保修三个月"),
    ("locksmith", "安居开锁服务（公安备案）", "repair", "明湖路186号", "0571-86526110",
     "24小时", "开锁须出示身份证并登记"),
    ("drain", "通达管道疏通", "repair", "明湖路194号", "13605716688", "24小时",
     "下水道、马桶疏通，明码标价"),
    ("gas-appliance", "燃气灶具维修点", "repair", "桂香苑东门商铺2号", "0571-86526245",
     "8:00-18:00", "灶具、热水器维修；燃气管道问题请打燃气抢修电话"),
    ("shoes-keys", "修鞋配钥匙", "repair", "明湖农贸市场东侧", "", "7:00-18:00", ""),
    ("phone-repair", "手机电脑维修", "repair", "幸福里商业街26号", "0571-86526379",
     "9:30-21:00", "换屏、换电池，可帮老人设置手机大字体"),
    # 服务热线
    ("hotline-12345", "政务服务便民热线", "hotline", "", "12345", "24小时",
     "政策咨询、投诉建议、求助"),
    ("hotline-emergency", "报警 / 火警 / 急救", "hotline", "", "110 / 119 / 120", "24小时",
     "紧急情况请直接拨打"),
    ("hotline-gas", "燃气抢修", "hotline", "", "0571-86529119", "24小时",
     "闻到燃气味请立即关阀、开窗，到室外拨打，勿开关电器"),
    ("hotline-power", "供电服务热线", "hotline", "", "95598", "24小时", "停电报修、用电咨询"),
    ("hotline-water", "供水抢修", "hotline", "", "0571-86529696", "24小时",
     "爆管、停水、水质问题"),
    ("hotline-police", "明湖派出所", "hotline", "明湖路210号", "0571-86528110", "24小时", ""),
    ("hotline-anti-fraud", "反诈咨询专线", "hotline", "", "96110", "24小时",
     "接到可疑电话、转账前可先拨打咨询"),
    ("property-xingfuli", "幸福里小区物业服务中心", "hotline", "幸福里小区4幢东侧",
     "0571-86526501", "8:00-17:30，夜间值班", "报修、停车、门禁"),
    ("property-guixiang", "桂香苑物业服务中心", "hotline", "桂香苑1幢底层", "0571-86526502",
     "8:00-17:30，夜间值班", "报修、停车、门禁"),
    ("property-minghu", "明湖佳苑物业服务中心", "hotline", "明湖佳苑会所二楼",
     "0571-86526503", "8:00-18:00，24小时值班", "报修、停车、门禁"),
    ("community-duty", "社区夜间值班电话", "hotline", "", "13805710088",
     "工作日 17:30-次日8:30，节假日全天", "紧急事务联系社区值班人员"),
    # 其他
    ("parcel-station", "邻里快递驿站", "other", "桂香苑东门商铺5号", "0571-86526620",
     "8:00-21:00", "快递代收代寄，高龄老人可预约送件上门"),
    ("charging-sheds", "非机动车充电棚", "other", "幸福里小区5幢北侧、9幢西侧",
     "0571-86526501", "24小时", "每度电0.8元（含服务费），扫码充电"),
    ("tool-box", "共享工具箱", "other", "社区服务大厅", OFFICE_PHONE, OFFICE_HOURS,
     "电钻、梯子、扳手等免费借用，凭身份证登记"),
    ("clothes-recycling", "旧衣物回收箱", "other", "三个小区各主出入口", "", "24小时",
     "旧衣物捐赠困难家庭或环保回收"),
)


# Map links (高德地图 markers, the kiosk shows them as a second QR code) for the places a
# resident walks to. Short on purpose: a longer link makes a denser code, harder to scan.
MAP_POSITIONS = {
    "culture-station": (120.21826, 30.25012),
    "health-station": (120.21874, 30.24987),
    "vaccination": (120.22391, 30.25306),
    "canteen-xingfuli": (120.21702, 30.24893),
    "hotline-police": (120.22518, 30.25417),
}


def map_url(position: tuple[float, float]) -> str:
    lon, lat = position
    return f"https://uri.amap.com/marker?position={lon:.5f},{lat:.5f}"


def _services() -> list[Row]:
    rows: list[Row] = []
    for uid, name, kind, address, phone, hours, notes in SERVICES:
        row: Row = {"uid": f"svc-{uid}", "name": name, "kind": kind}
        position = MAP_POSITIONS.get(uid)
        optional = {"address": address, "phone": phone, "hours": hours, "notes": notes,
                    "map_url": map_url(position) if position else ""}
        row.update((k, v) for k, v in optional.items() if v)  # absent rather than empty
        rows.append(row)
    return rows


def _community() -> Row:
    return {
        "name": NAME,
        "code": CODE,
        "address": ADDRESS,
        "phone": OFFICE_PHONE,
        "office_hours": OFFICE_HOURS,
        "description": (
            f"{NAME}隶属{STREET}，辖幸福里小区、桂香苑、明湖佳苑三个住宅小区和幸福里商业街，"
            "现有住户3,200余户、常住人口8,400余人，其中60周岁以上老年人2,000余人。"
            "社区党委下设5个党支部，党群服务中心设有一站式服务大厅、文化活动站、"
            "卫生服务站和居家养老服务照料中心。"
        ),
    }


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def build_demo(anchor: dt.date, seed: int = 2026) -> dict[str, Any]:
    """The demo community as of `anchor`, in the mapping form of docs/content-format.md.

    Disclosures are those published on or before `anchor` (about a year of them); the
    announcements cover the week starting at `anchor`; feedback and survey answers were
    submitted before it. The same (anchor, seed) always gives an equal mapping.
    """
    demo = _Demo(anchor, seed)
    demo.fixed_items()
    demo.monthly_reports()
    demo.finance_statements()
    demo.party_dues()
    demo.government_items()
    demo.party_items()
    demo.affairs_items()
    demo.renovations()
    demo.service_items()
    survey_rows = demo.surveys()
    feedback = demo.feedback()
    announcements = demo.announcements()
    disclosures = sorted(
        (item.row for item in demo.items), key=lambda row: (row["publish_on"], row["uid"])
    )
    return {
        "community": _community(),
        "disclosure": disclosures,
        "service": _services(),
        "announcement": announcements,
        "feedback": feedback,
        "survey_response": survey_rows,
    }
