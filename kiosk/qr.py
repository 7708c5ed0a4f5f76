"""QR codes for services: a phone number as a ``tel:`` link the resident's phone can dial.

The matrix comes from `qrcode` (pinned in pyproject.toml); :mod:`kiosk.widgets` draws it as
a texture, one texel per module, scaled up without smoothing.
"""

from __future__ import annotations

import functools
import re

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def tel_payload(phone: str) -> str:
    """``tel:`` plus the digits of `phone` (and a leading +); "" when it has no digits.

    "010-6512 3456" → "tel:01065123456"; "138 0013 8000 (24小时)" → "tel:13800138000".
    """
    first = re.split(r"[、,，;；/或]", re.sub(r"[（(].*?[）)]", "", phone), maxsplit=1)[0]
    digits = re.sub(r"[^\d+]", "", first)
    digits = digits[:1] + digits[1:].replace("+", "")
    return f"tel:{digits}" if any(c.isdigit() for c in digits) else ""


def qr_matrix(payload: str, border: int = QUIET_ZONE) -> list[list[bool]]:
    """The QR code of `payload` as rows of modules (True = dark), quiet zone included."""
    return [list(row) for row in _encoded(payload, border)]


@functools.lru_cache(maxsize=512)
def _encoded(payload: str, border: int) -> tuple[tuple[bool, ...], ...]:
    # Encoding takes a few milliseconds of pure Python; a list of services scrolled through
    # a RecycleView asks for the same few codes again and again. Imported here, not at the
    # top: the kiosk's start-up does not need it (kiosk/backend.py).
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    code.add_data(payload)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def luminance_bytes(matrix: list[list[bool]]) -> bytes:
    """One byte per module, bottom row first (OpenGL's texture origin): 0 dark, 255 light."""
    return b"".join(bytes(0 if dark else 255 for dark in row) for row in reversed(matrix))


__all__ = ["luminance_bytes", "qr_matrix", "tel_payload"]
