"""The in-app notice centre: notices to users and groups, and which of them were read."""
