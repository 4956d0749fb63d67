"""The OpenAPI 3 description of the JSON API under /api, built from one table of routes."""

from engine.tasks.permissions import ACTIONS as PERMISSION_ACTIONS
from engine.tasks.permissions import REASON_CODES
from forms.ids import MAX_ID

LIST_PARAMS = {
    "view": ("string", "mine (default), queue, done, started or cc"),
    "sort": ("string", "due (default), created or priority; done: completed; started: created; cc: copied"),
    "process": ("string", "process key"),
    "region": ("string", "six-digit region code; a city or province code takes the regions under it"),
    "organisation": ("integer", "organisation id: its registration's tasks"),
    "applicant": ("string", "the start of the applicant's name"),
    "overdue": ("boolean", "only tasks past their due date"),
    "due_within": ("integer", "only tasks due from now to this many days ahead"),
    "created_from": ("string", "YYYY-MM-DD, Beijing time"),
    "created_to": ("string", "YYYY-MM-DD, Beijing time, inclusive"),
    "cursor": ("string", "next_cursor of the previous page"),
    "limit": ("integer", "items per page, 1 to 100 (default 20)"),
}
DIRECTORY_PARAMS = {
    name: ("string", name)
    for name in ("q", "kind", "region", "status", "employer_id", "title_level", "after")
}
BODIES = {
    "action": {
        "opinion": "string",
        "data": "object",
        "to_user_id": "integer",
        "position": "string",
        "note": "string",
    },
    "bulk": {"action": "string", "task_ids": "array", "opinion": "string"},
    "cc": {"user_ids": "array", "note": "string"},
    "filter": {"name": "string", "query": "object"},
    "results": {"results": "array"},
}
BEARER = ("/api/courses/{course_id}/results",)  # the training platform's token, not a session
ROUTES = (  # method, path, summary, query parameters, request body
    ("get", "/api/openapi.json", "This description of the API", None, None),
    ("get", "/api/inbox/csrf", "A CSRF token to send as the X-CSRFToken header of every POST", None, None),
    ("get", "/api/inbox/tasks", "One page of an inbox list, filtered and sorted", LIST_PARAMS, None),
    ("get", "/api/inbox/counts", "Badge counts of every list; a count above `cap` means more", None, None),
    (
        "get",
        "/api/inbox/tasks/{task_id}",
        "A task you may see, with its data and `actions`: what you may do with it now, as the engine"
        " decides (`allowed`, `refused` action -> reason code, `opinion_required`, `return_steps`)",
        None,
        None,
    ),
    (
        "post",
        "/api/inbox/tasks/{task_id}/{action}",
        "Claim, unclaim, complete, return, reject; transfer, delegate, countersign (to_user_id, position"
        " before|after), reassign and terminate (administrators), urge (once a day per task: 429 after)",
        None,
        "action",
    ),
    (
        "post",
        "/api/inbox/tasks/{task_id}/cc",
        "Copy a task you work to 1 to 20 users for information (抄送), with a note; a user who has a copy"
        " is not sent another (listed under `already`)",
        None,
        "cc",
    ),
    ("post", "/api/inbox/bulk", "Approve or return tasks, each in its own transaction", None, "bulk"),
    ("get", "/api/inbox/filters", "Your saved filters", None, None),
    (
        "post",
        "/api/inbox/filters",
        "Save a list query under a name (a name saved again is replaced)",
        None,
        "filter",
    ),
    ("get", "/api/inbox/filters/{filter_id}", "One of your saved filters", None, None),
    ("delete", "/api/inbox/filters/{filter_id}", "Delete one of your saved filters", None, None),
    ("post", "/api/inbox/cc/{cc_id}/read", "Mark a copy sent to you read", None, None),
    ("get", "/api/organisations", "Organisations within your jurisdiction", DIRECTORY_PARAMS, None),
    ("get", "/api/organisations/{org_id}", "One organisation within your jurisdiction", None, None),
    ("get", "/api/persons", "Professionals within your jurisdiction", DIRECTORY_PARAMS, None),
    ("get", "/api/persons/{person_id}", "One professional within your jurisdiction", None, None),
    (
        "post",
        "/api/courses/{course_id}/results",
        "An institution's online-exam results of its course, to the HRSS for review (Bearer token); "
        "each result: result_id, id_number, name, score, passed, hours, completed_on (YYYY-MM-DD); "
        "a result_id sent again is not taken twice",
        None,
        "results",
    ),
)


def openapi_document(actions: list[str]) -> dict:
    """Return the OpenAPI 3 description of every route under /api, built from ROUTES."""
    paths: dict = {}
    for method, path, summary, params, body in ROUTES:
        paths.setdefault(path, {})[method] = _operation(method, path, summary, params, body, actions)
    reason = {"type": "string", "description": "why an action was refused: " + ", ".join(REASON_CODES)}
    error = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "reason": reason},
    }
    actions_schema = {
        "type": "object",
        "properties": {
            "allowed": {"type": "array", "items": {"type": "string", "enum": list(PERMISSION_ACTIONS)}},
            "refused": {"type": "object", "additionalProperties": {"type": "string", "enum": REASON_CODES}},
            "opinion_required": {"type": "array", "items": {"type": "string"}},
            "return_steps": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"bpmn_id": {"type": "string"}, "name": {"type": "string"}},
                },
            },
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "CE Flow API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Error": error, "TaskActions": actions_schema},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _operation(
    method: str, path: str, summary: str, params: dict | None, body: str | None, actions: list[str]
) -> dict:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    parameters = [
        _parameter(name, "path", "string" if name == "action" else "integer", actions=actions)
        for name in names
    ]
    parameters += [_parameter(name, "query", kind, text) for name, (kind, text) in (params or {}).items()]
    failing = {"400": "bad request", "401": "not signed in", "404": "not found or not yours to see"}
    if method != "get":
        failing |= {"403": "not allowed", "409": "already handled by someone", "422": "refused"}
    if "{action}" in path:
        failing["429"] = "urge: the task was already urged today"
    if path in BEARER:
        failing = {"400": "bad request", "401": "no or unknown token", "404": "not a course of yours"}
        failing |= {"409": "sent twice at once"}
        failing["422"] = "refused as a whole; `problems` names each result (row), field and reason"
    created = "201" if path.endswith("/filters") and method == "post" else "200"
    responses = {"202" if path in BEARER else created: {"description": "done"}}
    if path == "/api/inbox/tasks/{task_id}" and method == "get":
        task = {"type": "object", "properties": {"actions": {"$ref": "#/components/schemas/TaskActions"}}}
        responses["200"]["content"] = {"application/json": {"schema": task}}
    responses |= {code: _error_response(text) for code, text in failing.items()}
    found = {"summary": summary, "parameters": parameters, "responses": responses}
    if path in BEARER:
        found["security"] = [{"bearer": []}]
    elif method != "get":
        found["security"] = [{"session": [], "csrf": []}]
    elif path != "/api/openapi.json":
        found["security"] = [{"session": []}]
    if body:
        properties = {name: {"type": kind} for name, kind in BODIES[body].items()}
        schema = {"type": "object", "properties": properties}
        found["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    return found


def _parameter(name: str, where: str, kind: str, text: str = "", actions: list[str] | None = None) -> dict:
    found = {"name": name, "in": where, "required": where == "path", "schema": {"type": kind}}
    if name == "action" and actions:
        found["schema"]["enum"] = actions
    elif where == "path":  # a record id: anything outside the database's range matches no route (404)
        found["schema"] |= {"minimum": 1, "maximum": MAX_ID}
    return found | ({"description": text} if text else {})


def _error_response(text: str) -> dict:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": text, "content": {"application/json": {"schema": schema}}}
