"""A supervision notice as documents: plain text, the mail that carries it, and the .xlsx workbook."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

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


def supervision_workbook(notice) -> bytes:
    """Return the notice as an .xlsx: a title row, a header row, one row per late organisation."""
    book = Workbook()
    sheet = book.active
    sheet.title = "督导通报"
    sheet.append([notice.title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(list(HEADER))
    for cell in (*sheet[1], *sheet[2]):
        cell.font = Font(bold=True)
    for region in notice.details["regions"]:
        for org in region["organisations"]:
            sheet.append(_cells(region, org))
    for column, width in zip("ABCDEFG", (14, 36, 14, 10, 12, 12, 8), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
