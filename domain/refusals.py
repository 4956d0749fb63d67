"""The shape of every refusal the domain and the engine raise: a code naming the rule, and its values.

Neither layer writes a sentence in any language: the pages, the API and the CLI turn ``code`` and
``params`` into words from the Babel catalogs (``webapp.messages.explain``). ``str(error)`` is the
code and the values, for logs and tracebacks only.
"""


class CodedError(Exception):
    """An error that names the rule it applies by `code`, with the `params` that fill its message."""

    def __init__(self, code: str, /, **params):  # positional only: a message may fill a "code" of its own
        self.code = code
        self.params = params
        super().__init__(code)

    def __str__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"{self.code}({values})" if values else self.code


class Refusal(CodedError, ValueError):
    """A domain command refused for a reason; `code` and `params` say why."""
