"""Findings of the outside probe (item 5): security headers, cookie flags, the language switch."""

import re

import pytest

from tests.web.conftest import csrf_token
from webapp.app import create_app

CSP = re.compile(r"\s*;\s*")
TEMPLATES_AND_SCRIPTS = ("webapp/templates", "webapp/static")


def policy(response) -> dict[str, str]:
    """Parse a Content-Security-Policy header into its directives."""
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split(None, 1) for part in CSP.split(header) if part)
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


@pytest.mark.parametrize(
    "path",
    ["/login", "/static/ceflow.css", "/static/diagram.js", "/api/v1/tasks", "/no-such-page"],
)
def test_every_response_carries_the_security_headers(client, path):
    """Finding: no Content-Security-Policy, X-Frame-Options, nosniff or Referrer-Policy on any response."""
    response = client.get(path)
    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # the app's own scripts, no inline ones
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_templates_and_scripts_hold_no_inline_script_style_or_handler():
    """Finding: inline style= and onchange= attributes, which the CSP (without 'unsafe-inline') refuses."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    inline = re.compile(r"<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", re.I)
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for folder in TEMPLATES_AND_SCRIPTS
        for path in sorted((root / folder).glob("*.*"))
        if path.suffix in (".html", ".js")
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_the_session_cookie_is_same_site_lax_and_http_only(client):
    """Finding: the session cookie had no SameSite attribute."""
    cookie = session_cookie(client.get("/login"))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    assert "Secure" not in cookie  # plain HTTP by default, or no browser would send it back


def test_the_session_cookie_is_secure_when_configured_for_https(app, monkeypatch):
    """Finding: no way to mark the session cookie Secure behind HTTPS; CEFLOW_SECURE_COOKIES turns it on."""
    monkeypatch.setenv("CEFLOW_SECURE_COOKIES", "true")
    https = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "SEED_BPMN": False})
    cookie = session_cookie(https.test_client().get("/login", base_url="https://localhost"))
    assert "Secure" in cookie and "SameSite=Lax" in cookie
    assert https.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    "referrer",
    [
        "https://evil.example/phish",
        "http://localhost",  # this site, but no path
        "http://localhost//evil.example/x",  # this site, a scheme-relative path
        None,
    ],
)
def test_the_language_switch_never_answers_location_none(client, referrer):
    """Finding: POST /lang/<code> with an off-site or odd Referer answered `Location: None`."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    headers = {"Referer": referrer} if referrer else {}
    response = client.post("/lang/en", data={"csrf_token": token}, headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_language_switch_goes_back_to_the_same_site_page(client):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/lang/en", data={"csrf_token": token}, headers={"Referer": "http://localhost/persons?q=x"}
    )
    assert response.headers["Location"] == "/persons?q=x"
