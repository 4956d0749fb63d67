"""A supervision notice as documents: plain text, the mail that carries it, and the .xlsx workbook."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from domain.calendar.deadlines import china_day
from infra.mail import Attachment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ("地区", "单位名称", "单位类型", "状态", "应注册人数", "已注册人数", "差额")
KIND_LABELS = {
    "hrss": "人社部门",
    "authority": "行业主管部门",
    "employer": "法人单位",
    "institution": "施教机构",
}
STATUS_LABELS = {"pending": "待审核", "returned": "退回修改", "active": "已注册"}


def _cells(region: dict, org: dict) -> list:
    """Return one late organisation as the cells under HEADER."""
    kind = KIND_LABELS.get(org["kind"], org["kind"])
    status = STATUS_LABELS.get(org["status"], org["status"])
    return [region["name"], org["name"], kind, status, org["expected"], org["registered"], org["shortfall"]]


TOTAL_FIELDS = ("expected", "registered", "shortfall")


def issue_label(period: str) -> str:
    """Return a notice's issue as it is numbered on the document: "2025-W45" -> "2025年第45期"."""
    year, _, week = period.partition("-W")
    return f"{year}年第{int(week)}期" if week.isdigit() else period


def as_of(notice) -> str | None:
    """Return the day (ISO) the notice's figures stand at; notices stored before it was kept have none."""
    return notice.details.get("as_of")


def issued_on(notice) -> str:
    """Return the day (ISO, Beijing) the notice was issued."""
    return china_day(notice.created_at).isoformat()


def notice_totals(notice) -> dict:
    """Return the late organisations counted and their persons summed, per region code and overall ("")."""
    totals = {"": dict.fromkeys(("organisations", *TOTAL_FIELDS), 0)}
    for region in notice.details["regions"]:
        sums = totals.setdefault(region["code"], dict.fromkeys(("organisations", *TOTAL_FIELDS), 0))
        for org in region["organisations"]:
            for target in (sums, totals[""]):
                target["organisations"] += 1
                for name in TOTAL_FIELDS:
                    target[name] += org.get(name, 0)
    return totals


def workbook_name(notice, office: str) -> str:
    """Return the file name a person saves the workbook under: the office, the document, the issue."""
    return f"{office}督导通报（{issue_label(notice.period)}）.xlsx"


def notice_text(notice) -> str:
    """Return the notice as plain text: the summary, then the late organisations by region."""
    lines = [notice.summary, ""]
    for region in notice.details["regions"]:
        lines.append(f"{region['name']}（{region['code']}）")
        for org in region["organisations"]:
            _, name, kind, status, expected, registered, shortfall = _cells(region, org)
            lines.append(
                f"  {name}（{kind}，{status}）：应注册{expected}人，已注册{registered}人，差额{shortfall}人"
            )
    return "\n".join(lines)


def notice_mail(notice) -> tuple[str, str, list[Attachment]]:
    """Return the subject, body and the workbook attachment of a notice's mail."""
    filename = f"督导通报-{notice.period}-{notice.hrss_id}.xlsx"
    return notice.title, notice_text(notice), [(filename, supervision_workbook(notice), XLSX)]


def supervision_workbook(notice, office: str | None = None) -> bytes:
    """Return the notice as an .xlsx: title, issue and dates, header, a row per late organisation, totals."""
    book = Workbook()
    sheet = book.active
    sheet.title = "督导通报"
    sheet.append([notice.title])
    facts = [f"发文单位：{office}"] if office else []
    facts += [f"期号：{issue_label(notice.period)}", f"发布日期：{issued_on(notice)}"]
    if as_of(notice):
        facts.append(f"数据截至：{as_of(notice)}")
    sheet.append(["　".join(facts)])
    sheet.append(list(HEADER))
    for row in (1, 2):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(HEADER))
    for region in notice.details["regions"]:
        for org in region["organisations"]:
            sheet.append(_cells(region, org))
    total = notice_totals(notice)[""]
    sheet.append(
        ["合计", f"{total['organisations']}家单位", None, None, *(total[name] for name in TOTAL_FIELDS)]
    )
    for cell in (*sheet[1], *sheet[3], *sheet[sheet.max_row]):
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFG", (14, 36, 14, 10, 12, 12, 8), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A4"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
