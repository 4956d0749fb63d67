"""Supervision notices (督导通报, R4): producing them, their documents, and reading them by jurisdiction."""
