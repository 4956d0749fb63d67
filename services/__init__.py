"""Use cases: one function per intention of a user or the scheduler, each one unit of work."""
