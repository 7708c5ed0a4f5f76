"""The domain's closed vocabularies: categories, kinds, roles, states, with their labels.

What the regulations in shared/seeds/ name (summed up in shared/domain.md). They are plain
enums, apart from the ORM models (content.models stores them), so that code which only
names them — the kiosk's first screen above all — need not import the database layer.
"""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    """The four headings of 居务公开, with community affairs split in its three kinds."""

    PARTY = "party"            # 党务公开
    GOVERNMENT = "government"  # 居务公开·政务
    AFFAIRS = "affairs"        # 居务公开·事务
    FINANCE = "finance"        # 居务公开·财务
    SERVICES = "services"      # 服务公开

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.PARTY: "党务公开",
    Category.GOVERNMENT: "政务公开",
    Category.AFFAIRS: "事务公开",
    Category.FINANCE: "财务公开",
    Category.SERVICES: "服务公开",
}


class Kind(enum.StrEnum):
    """Cadence of an item: fixed stays up; periodic/stage per period; immediate at once."""

    FIXED = "fixed"          # 固定公开
    PERIODIC = "periodic"    # 定期公开
    STAGE = "stage"          # 阶段性工作逐段公开
    IMMEDIATE = "immediate"  # 随时/即时公开

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    Kind.FIXED: "固定公开",
    Kind.PERIODIC: "定期公开",
    Kind.STAGE: "阶段公开",
    Kind.IMMEDIATE: "即时公开",
}


class SignOffRole(enum.StrEnum):
    """Who signs a disclosure (编制: secretary, director, handler; 审核: supervision group)."""

    HANDLER = "handler"          # 经办人
    DIRECTOR = "director"        # 居委会主任
    SECRETARY = "secretary"      # 党组织书记
    SUPERVISION = "supervision"  # 民主监督小组

    @property
    def label(self) -> str:
        return {
            SignOffRole.HANDLER: "经办人",
            SignOffRole.DIRECTOR: "居委会主任",
            SignOffRole.SECRETARY: "党组织书记",
            SignOffRole.SUPERVISION: "民主监督小组",
        }[self]


class Direction(enum.StrEnum):
    INCOME = "income"
    EXPENSE = "expense"


class ServiceKind(enum.StrEnum):
    CULTURE = "culture"            # 文化活动站
    HEALTH = "health"              # 卫生服务站
    ELDERLY = "elderly"            # 养老助餐
    GOVERNMENT = "government"      # 政务代办
    SHOP = "shop"                  # 便民商店
    HOUSEKEEPING = "housekeeping"  # 家政
    REPAIR = "repair"              # 维修
    HOTLINE = "hotline"            # 服务热线
    OTHER = "other"

    @property
    def label(self) -> str:
        return SERVICE_KIND_LABELS[self]


SERVICE_KIND_LABELS = {
    ServiceKind.CULTURE: "文化体育",
    ServiceKind.HEALTH: "医疗卫生",
    ServiceKind.ELDERLY: "养老助餐",
    ServiceKind.GOVERNMENT: "政务代办",
    ServiceKind.SHOP: "便民商店",
    ServiceKind.HOUSEKEEPING: "家政服务",
    ServiceKind.REPAIR: "维修服务",
    ServiceKind.HOTLINE: "服务热线",
    ServiceKind.OTHER: "其他",
}


class FeedbackKind(enum.StrEnum):
    QUESTION = "question"      # 询问/质询
    SUGGESTION = "suggestion"  # 意见建议
    COMPLAINT = "complaint"    # 署名投诉 (result within 15 days)


class OutboxState(enum.StrEnum):
    """Where a resident's submission is on its way to the hub (sent by the sync issue)."""

    PENDING = "pending"
    ACKED = "acked"
    PARKED = "parked"


class SurveyRating(enum.StrEnum):
    SATISFIED = "satisfied"        # 满意
    BASIC = "basic"                # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
