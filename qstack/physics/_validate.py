"""Constructor-time argument checks, kept out of the hot per-pair methods."""

from collections.abc import Sequence

PROBABILITY_SUM_TOLERANCE = 1e-9


def check_probability(name: str, value: float) -> float:
    """Reject values outside [0, 1] so bad configuration fails early and by name."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def check_positive(name: str, value: float) -> float:
    """Reject non-positive (or NaN) time constants and rates."""
    if not value > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def check_non_negative(name: str, value: float) -> float:
    """Reject negative (or NaN) durations and lengths."""
    if not value >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def check_index(name: str, value: int) -> int:
    """Bell and Pauli indices share the 2-bit encoding x + 2 z."""
    if value not in (0, 1, 2, 3):
        raise ValueError(f"{name} must be one of 0, 1, 2, 3, got {value!r}")
    return value


def check_distribution(name: str, values: Sequence[float]) -> tuple[float, float, float, float]:
    """Four non-negative weights summing to one (within rounding)."""
    if len(values) != 4:
        raise ValueError(f"{name} must have 4 entries, got {len(values)}")
    p = tuple(float(v) for v in values)
    if any(not v >= 0.0 for v in p):
        raise ValueError(f"{name} must be non-negative, got {p!r}")
    if abs(sum(p) - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise ValueError(f"{name} must sum to 1, got {p!r} (sum {sum(p)!r})")
    return p[0], p[1], p[2], p[3]
