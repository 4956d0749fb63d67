"""No route serves or changes anything for a stranger: every one but the public few asks for a sign-in.

The list of routes comes from the app itself, so a route added later without `login_required`
(or the API's own sign-in check) fails here, whatever its blueprint.
"""

import re

# reachable without an account: signing in, the language switch, self-registration, assets, the API spec,
# the load balancer's health and readiness checks, and the pass certificates' verify page
PUBLIC = {
    "auth.login",
    "auth.set_language",
    "registration.organisation",
    "registration.person",
    "registration.employers",  # the person form's employer picker: active employers' names, as the form shows
    "static",
    "inbox_api.openapi",
    "health.healthz",
    "health.readyz",
    "verify.lookup",
    "verify.certificate",
}
SAMPLE_VALUES = {"code": "en", "key": "demo_approval", "action": "approve", "filename": "ceflow.css"}


def _routes(app) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, _sample_url(rule)))
    return sorted(found)


def _sample_url(rule) -> str:
    def fill(match: re.Match) -> str:
        converter, name = match.group(1) or "", match.group(2)
        if converter in ("int", "id"):
            return "1"
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip(" )")
        return SAMPLE_VALUES.get(name, "x")

    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", fill, rule.rule)


def test_a_stranger_is_sent_to_sign_in_or_refused_on_every_route(app, monkeypatch):
    routes = _routes(app)
    assert len(routes) > 40  # the app's own map, not a hand-kept list
    # with CSRF off, the sign-in check is what must stop each request (the CSRF tests are elsewhere)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    client = app.test_client()
    let_through = []
    for endpoint, method, url in routes:
        try:
            response = client.open(url, method=method)
        except Exception as error:  # a view that ran for a stranger and then failed on them
            let_through.append((endpoint, method, url, repr(error)))
            continue
        if url.startswith("/api/"):
            refused = response.status_code == 401 and response.get_json()["error"] == "unauthorized"
        else:
            refused = response.status_code == 302 and response.headers["Location"].startswith("/login")
        if not refused:
            let_through.append((endpoint, method, url, response.status_code))
    assert let_through == []
