"""The shape of a refused command: a code naming the rule, and the values that fill its message."""


class Refusal(ValueError):
    """A command refused for a reason; `code` and `params` say why, in either language.

    A subclass names its English templates in MESSAGES_EN (used for ``str(error)``); pages fill the
    Chinese template of the same code with ``params``.
    """

    MESSAGES_EN: dict[str, str] = {}

    def __init__(self, code: str, /, **params):  # positional only: a message may fill a "code" of its own
        self.code = code
        self.params = params
        super().__init__(self.MESSAGES_EN[code] % params)
