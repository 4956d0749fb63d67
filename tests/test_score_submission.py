"""Score submission (R8): checked row by row, refused whole, reviewed by the approving HRSS, credited once."""

import csv
import io
from datetime import UTC
from datetime import datetime

import pytest
from openpyxl import Workbook
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select
from stdnum.cn import ric

from domain.accounts.users import actor_for
from domain.calendar.policy import seed_policy_2015
from domain.courses import score_files
from domain.courses.enrolment import Enrolment
from domain.courses.score_files import HEADERS
from domain.courses.score_files import MAX_BYTES
from domain.courses.score_files import RowsRefused
from domain.courses.score_files import ScoreFileRefused
from domain.courses.scores import ScoreRefused
from domain.courses.scores import ScoreRow
from domain.courses.scores import ScoreSubmission
from domain.files import DatabaseFileStore
from domain.refusals import CodedError
from engine.errors import TaskNotFound
from engine.tasks.commands import complete_task
from engine.tasks.commands import reject_task
from engine.tasks.commands import return_task
from engine.timers.sweep import sweep_timers
from seed.courses import enrolled_course
from services import scores
from tests.engine_helpers import instance
from tests.engine_helpers import only_open_task

STORE = DatabaseFileStore()
GOOD_DAY = "2025-06-30"


@pytest.fixture
def explain(explain_in):
    return lambda code, params: explain_in(CodedError(code, **params))


@pytest.fixture
def make_scene(session_factory, clock, world):
    """Return a maker: a county CE base's approved 2025 course (12 hours), n persons enrolled; in December."""
    clock.now = datetime(2025, 12, 10, 1, 0, tzinfo=UTC)  # after the 11-30 online training deadline

    def make(persons: int = 5, region: str = "410422", name: str = "叶县继续教育基地"):
        with session_factory() as s, s.begin():
            seed_policy_2015(s, clock())
            return enrolled_course(s, region_code=region, persons=persons, now=clock(), institution=name)

    return make


@pytest.fixture
def scene(make_scene):
    return make_scene()


@pytest.fixture
def who(session_factory, world):
    def get(user_id_or_name):
        with session_factory() as s:
            return actor_for(s, world.get(user_id_or_name, user_id_or_name))

    return get


def rows_for(persons, hours=12, day=GOOD_DAY, passed="是"):
    return [[number, name, "86", passed, hours, day] for _pid, number, name in persons]


def csv_file(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_file(rows, headers=HEADERS, shape=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    if shape:
        shape(sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def submit(rt, who, scene, data, name="成绩.xlsx", explain=None):
    return scores.submit_score_file(
        rt, who(scene.admin_user_id), scene.course_id, name, data, STORE, explain or (lambda c, p: c)
    )


def credited(session_factory, scene) -> list:
    with session_factory() as s:
        return s.scalars(
            select(Enrolment.hours_credited).where(
                Enrolment.course_id == scene.course_id, Enrolment.credited_at.is_not(None)
            )
        ).all()


def count(session_factory, model) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def report_rows(session_factory, submission_id) -> list[tuple]:
    with session_factory() as s:
        key = s.get(ScoreSubmission, submission_id).report_key
        data = STORE.read(s, key)
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_a_clean_10000_row_file_is_accepted_reviewed_and_credited(rt, make_scene, who, session_factory):
    scene = make_scene(10_000)
    rows = rows_for(scene.persons)
    for row in rows[::10]:
        row[3], row[2] = "不合格", "52"
    accepted = submit(rt, who, scene, xlsx_file(rows))
    assert (accepted.rows, accepted.skipped, accepted.status) == (10_000, 0, "pending")
    assert count(session_factory, ScoreRow) == 10_000 and credited(session_factory, scene) == []
    review = only_open_task(session_factory, accepted.instance_id)
    assert review.spec_name == "review" and review.due_at is not None
    for outsider in ("410423-reviewer", "410422-reviewer"):  # another county; the base's county files nothing
        with pytest.raises(TaskNotFound):
            complete_task(rt, who(outsider), review.id, {}, "同意")
    complete_task(rt, who("410400-reviewer"), review.id, {}, "同意")  # the city approved the filing
    hours = credited(session_factory, scene)
    assert len(hours) == 9_000 and set(hours) == {12}
    with session_factory() as s:
        failed = s.execute(
            select(Enrolment.score, Enrolment.passed, Enrolment.hours_credited).where(
                Enrolment.person_id == scene.persons[0][0]
            )
        ).one()
        submission = s.get(ScoreSubmission, accepted.submission_id)
    assert tuple(failed) == ("52", False, None)
    assert (submission.status, submission.credited) == ("credited", 10_000)
    assert instance(session_factory, accepted.instance_id).status == "completed"


def _other_course_person(make_scene):
    other = make_scene(1, region="410423", name="鲁山县继续教育基地")
    return other.persons[0]


def _bad_checksum(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


UNKNOWN = "41042219900101123" + ric.calc_check_digit("41042219900101123" + "0")


@pytest.mark.parametrize(
    ("kind", "column", "code"),
    [
        ("bad checksum", "身份证号", "checksum"),
        ("unknown person", "身份证号", "score_unknown_person"),
        ("not enrolled", "身份证号", "score_not_enrolled"),
        ("name mismatch", "姓名", "score_name_mismatch"),
        ("hours too high", "学时", "score_hours_high"),
        ("date after the cut-off", "完成日期", "score_date_cut_off"),
        ("date in another year", "完成日期", "score_date_year"),
        ("duplicate row", "身份证号", "score_duplicate_row"),
        ("not a pass mark", "是否合格", "score_passed"),
    ],
)
def test_a_file_with_one_bad_row_is_refused_whole_with_its_reason(
    rt, make_scene, who, session_factory, explain, kind, column, code
):
    scene = make_scene()
    rows = rows_for(scene.persons)
    bad = rows[2]
    if kind == "bad checksum":
        bad[0] = _bad_checksum(bad[0])
    elif kind == "unknown person":
        bad[0] = UNKNOWN
    elif kind == "not enrolled":
        _pid, bad[0], bad[1] = _other_course_person(make_scene)
    elif kind == "name mismatch":
        bad[1] = "王五"
    elif kind == "hours too high":
        bad[4] = 13
    elif kind == "date after the cut-off":
        bad[5] = "2025-12-01"
    elif kind == "date in another year":
        bad[5] = "2024-12-01"
    elif kind == "duplicate row":
        rows.append(list(rows[1]))
    elif kind == "not a pass mark":
        bad[3] = "通过了"
    with pytest.raises(RowsRefused) as refused:
        submit(rt, who, scene, csv_file(rows), "成绩.csv", explain)
    [problem] = refused.value.problems
    assert (problem.column, problem.code) == (column, code)
    report = report_rows(session_factory, refused.value.params["submission"])
    assert report[0] == ("行号", "列", "原因")
    expected_row = 7 if kind == "duplicate row" else 4  # the header is row 1
    assert report[1] == (expected_row, column, explain(problem.code, problem.params))
    assert credited(session_factory, scene) == [] and count(session_factory, ScoreRow) == 0
    with session_factory() as s:
        [refusal] = s.scalars(select(ScoreSubmission)).all()
    assert (refusal.status, refusal.problems) == ("refused", 1)


def test_the_reasons_are_chinese_and_name_the_cut_off(rt, scene, who, session_factory, explain):
    rows = rows_for(scene.persons)
    rows[0][5] = "2025-12-01"
    rows[1][4] = 40
    with pytest.raises(RowsRefused) as refused:
        submit(rt, who, scene, csv_file(rows), explain=explain)
    report = report_rows(session_factory, refused.value.params["submission"])
    assert report[1] == (2, "完成日期", "完成日期 2025-12-01 晚于本年度网络培训截止日期（2025-11-30）。")
    assert report[2] == (3, "学时", "学时 40 超过课程学时（12）。")


def test_formulas_and_merged_cells_are_refused_naming_the_cells(rt, scene, who, session_factory, explain):
    def shape(sheet):
        sheet["E2"] = "=6+6"
        sheet.merge_cells("F3:F4")

    with pytest.raises(RowsRefused) as refused:
        submit(rt, who, scene, xlsx_file(rows_for(scene.persons), shape=shape), explain=explain)
    found = {(p.row, p.code, p.params.get("cell") or p.params["cells"]) for p in refused.value.problems}
    assert found == {
        (2, "score_formula", "E2"),
        (3, "score_merged", "F3:F4"),
        (4, "score_merged", "F3:F4"),
    }
    report = report_rows(session_factory, refused.value.params["submission"])
    assert report[1][:2] == (2, "E") and "E2" in report[1][2] and "公式" in report[1][2]
    assert "F3:F4" in report[2][2] and "合并" in report[2][2]
    assert credited(session_factory, scene) == []


def test_a_gbk_csv_is_read_as_well_as_utf8_with_a_bom(rt, make_scene, who):
    gbk = make_scene(3)
    assert submit(rt, who, gbk, csv_file(rows_for(gbk.persons), encoding="gbk"), "成绩.csv").rows == 3
    bom = make_scene(2, region="410423", name="鲁山县继续教育基地")
    assert submit(rt, who, bom, csv_file(rows_for(bom.persons), encoding="utf-8-sig"), "成绩.csv").rows == 2


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "score_file_empty"),
        (csv_file([]), "score_file_empty"),
        (b"x" * (MAX_BYTES + 1), "score_file_too_large"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "score_file_not_spreadsheet"),
        (b"PK\x03\x04 this is not a zip", "score_file_not_spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "score_file_old_excel"),
        ("身份证号,姓名\n".encode("utf-16"), "score_file_not_spreadsheet"),
    ],
)
def test_a_file_that_is_not_a_score_sheet_is_refused_with_its_reason(
    rt, scene, who, session_factory, data, code
):
    with pytest.raises(ScoreFileRefused) as refused:
        submit(rt, who, scene, data)
    assert refused.value.code == code
    assert count(session_factory, ScoreSubmission) == 0


def test_wrong_or_missing_headers_are_named_in_one_error(rt, scene, who, explain_in):
    headers = ("身份证号", "名字", "成绩", "是否合格", "学时")
    with pytest.raises(ScoreFileRefused) as refused:
        submit(rt, who, scene, csv_file([], headers=headers))
    assert refused.value.code == "score_headers"
    assert refused.value.params["missing"] == "姓名、完成日期"
    assert refused.value.params["unexpected"] == "名字"
    assert "缺少：姓名、完成日期" in explain_in(refused.value)


def test_the_same_file_or_the_same_rows_credit_once(rt, scene, who, session_factory):
    data = xlsx_file(rows_for(scene.persons))
    first = submit(rt, who, scene, data)
    with pytest.raises(ScoreRefused) as again:
        submit(rt, who, scene, data)
    assert again.value.code == "score_file_duplicate"
    complete_task(
        rt, who("410400-reviewer"), only_open_task(session_factory, first.instance_id).id, {}, "同意"
    )
    with pytest.raises(ScoreRefused) as same_rows:  # the same rows in another file: all credited already
        submit(rt, who, scene, csv_file(rows_for(scene.persons)), "成绩.csv")
    assert (same_rows.value.code, same_rows.value.params["skipped"]) == ("score_nothing_new", 5)
    assert len(credited(session_factory, scene)) == 5


def test_rows_in_two_pending_files_are_credited_by_the_first_approved(rt, make_scene, who, session_factory):
    scene = make_scene(4)
    first = submit(rt, who, scene, csv_file(rows_for(scene.persons[:3])), "a.csv")
    second = submit(rt, who, scene, csv_file(rows_for(scene.persons[1:], hours=10)), "b.csv")
    for accepted in (first, second):
        task = only_open_task(session_factory, accepted.instance_id)
        complete_task(rt, who("410400-reviewer"), task.id, {}, "同意")
    assert sorted(credited(session_factory, scene)) == [10, 12, 12, 12]  # persons 1 and 2 kept their first
    with session_factory() as s:
        assert s.get(ScoreSubmission, second.submission_id).credited == 1


def test_a_returned_submission_is_answered_with_a_corrected_file(rt, scene, who, session_factory):
    admin = who(scene.admin_user_id)
    first = submit(rt, who, scene, csv_file(rows_for(scene.persons[:4])))
    review = only_open_task(session_factory, first.instance_id)
    return_task(rt, who("410400-reviewer"), review.id, "少报了一人")
    back = only_open_task(session_factory, first.instance_id)
    assert back.spec_name == "submit"
    again = scores.resubmit_score_file(
        rt, admin, back.id, "更正.csv", csv_file(rows_for(scene.persons)), STORE, lambda c, p: c
    )
    assert (again.instance_id, again.rows) == (first.instance_id, 5)
    with session_factory() as s:
        assert s.get(ScoreSubmission, first.submission_id).status == "superseded"
    review = only_open_task(session_factory, first.instance_id)
    assert review.spec_name == "review"
    complete_task(rt, who("410400-reviewer"), review.id, {}, "同意")
    assert len(credited(session_factory, scene)) == 5


def test_a_rejected_submission_credits_nothing(rt, scene, who, session_factory):
    accepted = submit(rt, who, scene, csv_file(rows_for(scene.persons)))
    reject_task(
        rt, who("410400-reviewer"), only_open_task(session_factory, accepted.instance_id).id, "成绩不实"
    )
    with session_factory() as s:
        assert s.get(ScoreSubmission, accepted.submission_id).status == "rejected"
    assert credited(session_factory, scene) == []
    again = submit(rt, who, scene, csv_file(rows_for(scene.persons)))  # a rejected file may come again
    assert again.rows == 5


def test_an_overdue_review_is_escalated_to_the_province(rt, scene, who, session_factory, clock):
    accepted = submit(rt, who, scene, csv_file(rows_for(scene.persons)))
    clock.advance(days=30)
    sweep_timers(rt)
    review = only_open_task(session_factory, accepted.instance_id)
    assert review.escalation_level == 1
    complete_task(rt, who("410000-reviewer"), review.id, {}, "同意")
    assert len(credited(session_factory, scene)) == 5


def test_only_the_filing_institutions_admin_submits(rt, make_scene, who):
    scene = make_scene()
    other = make_scene(1, region="410423", name="鲁山县继续教育基地")
    with pytest.raises(ScoreRefused) as refused:
        scores.submit_score_file(
            rt,
            who(other.admin_user_id),
            scene.course_id,
            "x.csv",
            csv_file(rows_for(scene.persons)),
            STORE,
            None,
        )
    assert refused.value.code == "score_course_not_found"


def api_results(persons, prefix="r"):
    return [
        {
            "result_id": f"{prefix}{n}",
            "id_number": number,
            "name": name,
            "score": 90,
            "passed": True,
            "hours": 12,
            "completed_on": GOOD_DAY,
        }
        for n, (_pid, number, name) in enumerate(persons)
    ]


def test_the_api_takes_the_same_result_id_once(rt, scene, who, session_factory):
    results = api_results(scene.persons)
    first = scores.submit_results(rt, scene.institution_id, scene.course_id, results)
    again = scores.submit_results(rt, scene.institution_id, scene.course_id, results)
    assert again == first and count(session_factory, ScoreSubmission) == 1
    complete_task(
        rt, who("410400-reviewer"), only_open_task(session_factory, first.instance_id).id, {}, "同意"
    )
    after = scores.submit_results(rt, scene.institution_id, scene.course_id, results[:1] * 1)
    assert after.submission_id == first.submission_id and after.status == "credited"
    assert len(credited(session_factory, scene)) == 5


def test_the_api_refuses_bad_results_whole(rt, scene, session_factory):
    results = api_results(scene.persons)
    results[1]["hours"] = 99
    results[3]["result_id"] = "r0"
    with pytest.raises(RowsRefused) as refused:
        scores.submit_results(rt, scene.institution_id, scene.course_id, results)
    assert sorted((p.row, p.code) for p in refused.value.problems) == [
        (2, "score_hours_high"),
        (4, "score_duplicate_result"),
    ]
    assert count(session_factory, ScoreSubmission) == 0 and count(session_factory, ScoreRow) == 0


def test_an_api_token_names_its_institution_and_only_its_hash_is_kept(rt, scene, session_factory):
    token = scores.issue_token(rt, scene.institution_id, "admin")
    assert scores.institution_of_token(rt, token) == scene.institution_id
    assert scores.institution_of_token(rt, token + "x") is None
    with pytest.raises(ScoreRefused):
        scores.issue_token(rt, scene.employer_id, "admin")


def test_a_file_over_the_row_limit_is_refused(rt, scene, who, monkeypatch):
    monkeypatch.setattr(score_files, "MAX_ROWS", 3)  # the same check as at 100 000, on a small file
    with pytest.raises(ScoreFileRefused) as refused:
        submit(rt, who, scene, csv_file(rows_for(scene.persons)))
    assert refused.value.code == "score_file_too_many_rows"
