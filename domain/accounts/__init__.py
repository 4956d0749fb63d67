"""Accounts and sign-in: users, roles and principals, passwords, opening accounts, unit admins (R3)."""
