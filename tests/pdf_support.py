"""Real PDF files for the kiosk's tests: Pillow writes them; an encrypted one is written by
hand (Pillow cannot encrypt), with a password nobody knows."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

# Each page is filled with one colour, so a test can tell the pages apart by their pixels.
COLOURS = [(220, 30, 30), (30, 160, 60), (40, 70, 200), (230, 180, 20), (120, 40, 160)]
A4_PT = (595, 842)


def pdf_bytes(pages: int, size: tuple[int, int] = A4_PT) -> bytes:
    """A PDF of `pages` pages, page i filled with COLOURS[i % 5] (72 dpi: 1 px = 1 pt)."""
    import io

    images = [Image.new("RGB", size, COLOURS[i % len(COLOURS)]) for i in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=72.0)
    return out.getvalue()


def write_pdf(path: Path, pages: int, size: tuple[int, int] = A4_PT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf_bytes(pages, size))
    return path


def encrypted_pdf_bytes() -> bytes:
    """One page behind the standard security handler; the empty password does not open it."""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        f"<< /Filter /Standard /V 1 /R 2 /O <{'11' * 32}> /U <{'22' * 32}> /P -4 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    file_id = "33" * 16
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Encrypt 4 0 R "
            f"/ID [<{file_id}> <{file_id}>] >>\nstartxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


GARBAGE_PDF = b"%PDF-1.7\n" + b"\x00\xffnot really a pdf\n" * 64
