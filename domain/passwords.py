"""Password hashing with argon2."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2 hash of a password."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether a password matches its stored hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
