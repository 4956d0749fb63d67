"""Task commands and who may do what: start, decide, return, hand over, countersign, copy, urge."""
