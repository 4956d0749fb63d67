"""Business records and rules of CE Flow; imports nothing else of the project."""
