"""Business records and rules of CE Flow, one package per bounded context; imports only infra."""
