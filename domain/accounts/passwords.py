"""Password hashing with argon2."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

_HASHING = {"hasher": PasswordHasher()}  # replaced by configure_hashing; argon2-cffi's defaults until then


def configure_hashing(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2 cost of new hashes; verifying reads the cost stored in each hash."""
    _HASHING["hasher"] = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hash_password(password: str) -> str:
    """Return the argon2 hash of a password."""
    return _HASHING["hasher"].hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether a password matches its stored hash."""
    try:
        return _HASHING["hasher"].verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
