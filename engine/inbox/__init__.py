"""Inbox reads: indexed lists over the task projection, saved filters, diagrams and history for pages."""
