"""handlers layer of CE Flow (see ARCHITECTURE.md)."""
