"""The load test's virtual users (a locustfile, run by bench/load.py): what reviewers, HR and applicants do.

Two phases: the ramp, while users start and sign in (argon2 makes a sign-in cost far more than a
page), then LOAD_MEASURE seconds of steady work. The ramp's figures are written to LOAD_RAMP_FILE
and the statistics reset when every user has started and signed in, so the steady figures are not
a morning's sign-in rush; bench/load.py reports both, failures of either phase included.

Each signed-in virtual user takes an account of its own from the file LOAD_ACCOUNTS names (see
bench/load_data.py), so decisions never collide: a reviewer approves only tasks claimed by it, an HR
account is its employer's only one. A decision the app refuses anyway (the task was already decided,
say) is reported as a "refused" row, apart from the failures; anything else unexpected is a failure.
"""

import json
import os
import random
import re
import time
from pathlib import Path

import gevent
from locust import HttpUser
from locust import between
from locust import events
from locust import task

from seed.population import id_number
from seed.population import person_name

ADDRESSES = iter(range(1, 2**24))  # each virtual user's own client address: 10.x.y.z


def own_address(user) -> None:
    """Send a client address of the user's own, as the reverse proxy in front of the app would.

    The server trusts one proxy (bench/load.py), so its per-address rate limits and sign-in
    throttle see a hundred people at their own computers, not one machine hammering the forms.
    """
    n = next(ADDRESSES)
    user.client.headers["X-Forwarded-For"] = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8"))
PASSWORD = ACCOUNTS["password"]
APPLICANT_SERIALS = ACCOUNTS["applicant_serials"]
THINK = tuple(float(s) for s in os.environ.get("LOAD_THINK", "1,3").split(","))
FREE = {"reviewers": list(reversed(ACCOUNTS["reviewers"])), "hr": list(reversed(ACCOUNTS["hr"]))}
TASK_LINK = re.compile(r'href="/tasks/(\d+)"')
NEXT_LINK = re.compile(r'<a class="more" href="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
NOTICE_LINK = re.compile(r'href="/supervision/(\d+)\.xlsx"')
EMPLOYER_OPTION = re.compile(r'<option value="(\d+)"')
MEASURE = float(os.environ.get("LOAD_MEASURE", "60"))
SIGNING_IN = {"now": 0}
PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
RUN = {}


@events.init.add_listener
def remember(environment, **_kwargs) -> None:
    RUN["environment"] = environment


@events.spawning_complete.add_listener
def measure_after_the_ramp(user_count: int, **_kwargs) -> None:
    """Once every user has signed in: keep the ramp's figures, reset, and stop after MEASURE seconds."""
    gevent.spawn(_ramp_then_measure, RUN["environment"])


def _ramp_then_measure(environment) -> None:
    gevent.sleep(0.5)  # the last users spawned start signing in
    while SIGNING_IN["now"]:
        gevent.sleep(0.1)
    stats = environment.stats
    ramp = {
        "seconds": round(time.time() - stats.total.start_time, 1),
        "routes": [_figures(entry) for entry in [*stats.entries.values(), stats.total]],
        "errors": [f"{e.method} {e.name}: {e.error} x{e.occurrences}" for e in stats.errors.values()],
    }
    Path(os.environ["LOAD_RAMP_FILE"]).write_text(json.dumps(ramp, ensure_ascii=False), encoding="utf-8")
    stats.reset_all()
    gevent.sleep(MEASURE)
    environment.runner.quit()


def _figures(entry) -> dict:
    figures = {p: int(entry.get_response_time_percentile(q) or 0) for p, q in PERCENTILES.items()}
    name = f"REFUSED {entry.name}" if entry.method == "REFUSED" else entry.name
    return {"route": name, "requests": entry.num_requests, "failures": entry.num_failures, **figures}


def csrf_token(html: str) -> str | None:
    found = CSRF.search(html)
    return (found.group(1) or found.group(2)) if found else None


class SignedIn(HttpUser):
    """A staff member with an account of their own: signs in once, then works the inbox."""

    abstract = True
    pool = ""
    work = ("", "")  # the list the user's own work is in: its query and its row in the figures
    wait_time = between(*THINK)

    def on_start(self) -> None:
        own_address(self)
        if not FREE[self.pool]:
            raise RuntimeError(f"more {self.pool} virtual users than accounts: build more (--accounts)")
        self.username = FREE[self.pool].pop()
        SIGNING_IN["now"] += 1
        try:
            self.sign_in()
        finally:
            SIGNING_IN["now"] -= 1

    def sign_in(self) -> None:
        page = self.client.get("/login", name="/login")
        with self.client.post(
            "/login",
            data={"csrf_token": csrf_token(page.text), "username": self.username, "password": PASSWORD},
            name="POST /login",
            allow_redirects=False,
            catch_response=True,
        ) as signed:
            if signed.status_code != 302 or "/login" in signed.headers.get("Location", ""):
                signed.failure(f"{self.username} could not sign in ({signed.status_code})")

    def on_stop(self) -> None:
        FREE[self.pool].append(self.username)  # a later run in this process may take it again

    def inbox(self, args: str, name: str) -> list[int]:
        """Open an inbox list; return the ids of its tasks (and now and then follow its next page)."""
        page = self.client.get(f"/tasks?{args}", name=name)
        ids = [int(i) for i in TASK_LINK.findall(page.text)]
        more = NEXT_LINK.search(page.text)
        if more and random.random() < 0.3:
            self.client.get(more.group(1).replace("&amp;", "&"), name="/tasks (next page)")
        return ids

    def open_one(self) -> None:
        """Open the list of one's work and one task of it."""
        ids = self.inbox(*self.work)
        if ids:
            self.client.get(f"/tasks/{random.choice(ids)}", name="/tasks/[id]")

    def approve_one(self) -> None:
        """Open the list of one's work and decide one task of it."""
        ids = self.inbox(*self.work)
        if ids:
            self.decide(random.choice(ids))

    def decide(self, task_id: int) -> None:
        """Open the task, claim it if it is queued, and approve it with an opinion."""
        page = self.client.get(f"/tasks/{task_id}", name="/tasks/[id]")
        if f'action="/tasks/{task_id}/claim"' in page.text:
            if self._post(f"/tasks/{task_id}/claim", {"csrf_token": csrf_token(page.text)}) is None:
                return
            page = self.client.get(f"/tasks/{task_id}", name="/tasks/[id]")  # where the claim sent us
        if f'action="/tasks/{task_id}/complete"' not in page.text:
            self.refused("approve (not offered)")
            return
        form = {"csrf_token": csrf_token(page.text), "opinion": "同意", "action": "approve"}
        went = self._post(f"/tasks/{task_id}/complete", form)
        if went is not None and went != "/tasks":  # back on the task page, with the reason
            self.refused("approve")

    def _post(self, path: str, form: dict) -> str | None:
        """POST a task action; return the page it redirects to, or None after a failure."""
        name = "POST /tasks/[id]/" + path.rsplit("/", 1)[1]
        with self.client.post(
            path, data=form, name=name, allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"HTTP {answer.status_code}")
                return None
            return answer.headers["Location"].split("?")[0]

    def refused(self, what: str) -> None:
        refused(self.environment, what)


def refused(environment, what: str) -> None:
    """Count a clean refusal in a row of its own: expected under load, and not an error."""
    environment.events.request.fire(
        request_type="REFUSED", name=what, response_time=0, response_length=0, exception=None, context={}
    )


class Reviewer(SignedIn):
    """A county HRSS reviewer: their claimed tasks, the county queue, a filter, now and then a notice."""

    pool = "reviewers"
    work = ("view=mine", "/tasks (mine)")
    weight = 6

    @task(4)
    def mine(self) -> None:
        self.inbox("view=mine", "/tasks (mine)")

    @task(3)
    def queue(self) -> None:
        self.inbox("view=queue", "/tasks (queue)")

    @task(2)
    def filtered(self) -> None:
        self.inbox(random.choice(("view=queue&sort=created", "view=queue&due_within=7")), "/tasks (filtered)")

    @task(3)
    def open_task(self) -> None:
        self.open_one()

    @task(1)
    def approve(self) -> None:
        self.approve_one()

    @task(1)
    def supervision_notice(self) -> None:
        page = self.client.get("/supervision/", name="/supervision/")
        notices = NOTICE_LINK.findall(page.text)
        if notices:
            self.client.get(f"/supervision/{random.choice(notices)}.xlsx", name="/supervision/[id].xlsx")


class EmployerHR(SignedIn):
    """The HR staff of an employer: the registrations waiting in its queue, approved one by one."""

    pool = "hr"
    work = ("view=queue", "/tasks (queue)")
    weight = 3

    @task(3)
    def queue(self) -> None:
        self.inbox("view=queue", "/tasks (queue)")

    @task(2)
    def open_task(self) -> None:
        self.open_one()

    @task(1)
    def approve(self) -> None:
        self.approve_one()


class Applicant(HttpUser):
    """A professional registering with one of the HR accounts' employers (the public form, no sign-in)."""

    weight = 1
    wait_time = between(THINK[0] * 5, THINK[1] * 5)  # filling in the form takes a while

    @task
    def register(self) -> None:
        own_address(self)  # each registration is another person, at a computer of their own
        employer_id, county = random.choice(ACCOUNTS["employers"])
        page = self.client.get(f"/register/person?region={county}", name="/register/person")
        if str(employer_id) not in EMPLOYER_OPTION.findall(page.text):
            return
        serial = APPLICANT_SERIALS + random.randrange(13_000_000)
        form = {
            "csrf_token": csrf_token(page.text),
            "employer_id": str(employer_id),
            "id_number": id_number(county, serial),
            "name": person_name(random),
            "title_level": "intermediate",
            "title_series": "工程技术",
            "certificate_year": "0",
            "certificate_number": "",
            "password": PASSWORD,
            "confirm": PASSWORD,
        }
        with self.client.post(
            f"/register/person?region={county}",
            data=form,
            name="POST /register/person",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code == 200:  # the form again, with the refusal (an ID number taken, say)
                refused(self.environment, "register")
            elif answer.status_code != 302:
                answer.failure(f"register: HTTP {answer.status_code}")
