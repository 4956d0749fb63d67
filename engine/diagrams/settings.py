"""A user task's settings as its diagram states them (`spiffworkflow:properties`), and their defaults."""

DEFAULT_ACTIONS = "approve,return,reject,transfer,delegate,countersign"
