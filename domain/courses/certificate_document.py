"""The pass certificate's PDF (合格证明): one A4 landscape page with its verification code and QR code.

The certificate is an official Chinese document: its wording is fixed Chinese whatever language the
reader's pages are shown in. Chinese must render in any viewer, so the fonts are embedded (as subsets)
from files the set-up command installs (`make browser`: fonts-arphic-uming for the body, Ming style
like the 宋体 of official papers, and fonts-wqy-zenhei for the heading). Noto CJK, installed too, has
PostScript outlines, which reportlab cannot embed; no text uses the 14 standard PDF fonts, which a
viewer substitutes. Rendering is invariant: the same certificate gives
the same bytes, on any node.
"""

import functools
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import segno
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.pagesizes import landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

BODY_FONT = ("CeflowMing", Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0)  # AR PL UMing CN
HEADING_FONT = ("CeflowHei", Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0)  # WenQuanYi Zen Hei
SUBJECT_NAMES = {"public": "公需科目", "professional": "专业科目"}
RED = HexColor("#9b1c1c")
INK = HexColor("#1f1f1f")
GREY = HexColor("#5a5a5a")
VALUE_WIDTH = 128 * mm  # from the value column to the QR code


class CertificateFontMissing(RuntimeError):
    """A font the certificate embeds is not installed; the set-up command installs it."""

    def __init__(self, path: Path):
        super().__init__(
            f"The pass certificate embeds the font {path}, which is not installed. Run `make browser`"
            " (it installs fonts-arphic-uming and fonts-wqy-zenhei) on every web node."
        )


@dataclass(frozen=True)
class CertificateContent:
    """Everything the certificate shows, and nothing more: the verify page shows exactly this."""

    code: str
    person_name: str
    id_number_masked: str
    course_title: str
    subject: str
    hours: int
    year: int
    institution: str
    completed_on: date
    filing_number: str


def grouped_code(code: str) -> str:
    """Return a verification code in groups of four, as printed: ABCD-EFGH-JKLM-NPQR."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def subject_name(subject: str) -> str:
    return SUBJECT_NAMES.get(subject, subject)


@functools.cache
def _fonts() -> tuple[str, str]:
    """Register the two embedded fonts once per process (not at import: a test may run without them)."""
    for name, path, index in (BODY_FONT, HEADING_FONT):
        if not path.exists():
            raise CertificateFontMissing(path)
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
    return BODY_FONT[0], HEADING_FONT[0]


def render_certificate(content: CertificateContent, verify_url: str) -> bytes:
    """Draw the certificate; `verify_url` is the public page its QR code opens."""
    body, heading = _fonts()
    out = io.BytesIO()
    width, height = landscape(A4)
    pdf = Canvas(out, pagesize=(width, height), invariant=1, pageCompression=1, initialFontName=body)
    pdf.setTitle(f"合格证明 {content.person_name} {content.course_title}")
    pdf.setAuthor(content.institution)
    _frame(pdf, width, height)
    pdf.setFillColor(RED)
    pdf.setFont(heading, 38)
    pdf.drawCentredString(width / 2, height - 46 * mm, "合 格 证 明")
    pdf.setFont(body, 13)
    pdf.setFillColor(GREY)
    pdf.drawCentredString(width / 2, height - 56 * mm, f"专业技术人员继续教育 · {content.year}年度")
    pdf.setFillColor(INK)
    pdf.setFont(body, 15)
    pdf.drawString(
        36 * mm, height - 72 * mm, "兹证明下列专业技术人员参加经人力资源社会保障部门备案的继续教育课程，"
    )
    pdf.drawString(36 * mm, height - 80 * mm, "经考核合格，特发此证明。")
    rows = (
        ("姓　　名", content.person_name),
        ("身份证号", content.id_number_masked),
        ("课程名称", content.course_title),
        ("科目类别", subject_name(content.subject)),
        ("学　　时", f"{content.hours} 学时"),
        ("年　　度", f"{content.year}年"),
        ("培训机构", content.institution),
        ("完成日期", chinese_date(content.completed_on)),
        ("课程备案号", content.filing_number),
    )
    top = height - 94 * mm
    for n, (label, value) in enumerate(rows):
        y = top - n * 8.6 * mm
        pdf.setFont(body, 12)
        pdf.setFillColor(GREY)
        pdf.drawString(46 * mm, y, label)
        pdf.setFont(body, _fitting(value, body, 14, VALUE_WIDTH))
        pdf.setFillColor(INK)
        pdf.drawString(78 * mm, y, value)
        pdf.setStrokeColor(HexColor("#d8c9a8"))
        pdf.setLineWidth(0.4)
        pdf.line(76 * mm, y - 2.2 * mm, 180 * mm, y - 2.2 * mm)
    _verification(pdf, content, verify_url, width, body)
    pdf.setFont(body, 14)
    pdf.setFillColor(INK)
    pdf.drawCentredString(width - 62 * mm, 40 * mm, content.institution)
    pdf.drawCentredString(width - 62 * mm, 32 * mm, chinese_date(content.completed_on))
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _fitting(text: str, font: str, size: float, width: float) -> float:
    """Return the font size at which the text fits the width: a long course title is set smaller."""
    return min(size, size * width / max(pdfmetrics.stringWidth(text, font, size), 1))


def _frame(pdf: Canvas, width: float, height: float) -> None:
    """A double border in seal red, as on printed certificates."""
    pdf.setStrokeColor(RED)
    pdf.setLineWidth(3)
    pdf.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)
    pdf.setLineWidth(0.8)
    pdf.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)


def _verification(pdf: Canvas, content: CertificateContent, verify_url: str, width: float, font: str) -> None:
    """The QR code of the public verify page, with the code and the address printed under it."""
    image = io.BytesIO()
    segno.make(verify_url, error="m").save(image, kind="png", scale=8, border=2)
    image.seek(0)
    size = 44 * mm
    left, bottom = width - 84 * mm, 84 * mm
    pdf.drawImage(ImageReader(image), left, bottom, size, size)
    pdf.setFillColor(INK)
    pdf.setFont(font, 10)
    pdf.drawCentredString(left + size / 2, bottom - 5 * mm, "验证码")
    pdf.setFont(font, 12)
    pdf.drawCentredString(left + size / 2, bottom - 10 * mm, grouped_code(content.code))
    pdf.setFont(font, 8)
    pdf.setFillColor(GREY)
    pdf.drawCentredString(left + size / 2, bottom - 15 * mm, "扫码或访问以下地址核验真伪")
    pdf.setFont(font, 7)
    pdf.drawCentredString(left + size / 2, bottom - 19 * mm, verify_url)
