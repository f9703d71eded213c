"""``Message.trusted`` (the per-pair hot paths' unvalidated construction)
builds exactly what validation would: along real runs, every message built
trusted is also built validated from the same fields, and the two must be
equal, dump to the same JSON, have the same fields set and the same type
for every value (so nothing a report or trace derives from them can move).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import qstack
from qstack.messages import Message

ROOT = Path(__file__).resolve().parents[2]
#: Examples that between them take every trusted path: link pairs kept and
#: measured, swaps and forwarded swap records, cutoffs, faults, the
#: density-matrix path, a multi-qubit state, flow-control credits.
SCENARIOS = (
    "chain_5.toml",
    "qkd.toml",
    "faults.toml",
    "teleport.toml",
    "ghz.toml",
    "chsh.toml",
    "reservation.toml",
)


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_trusted_messages_equal_validated_ones(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    trusted = Message.trusted.__func__  # type: ignore[attr-defined]
    built: dict[str, int] = {}

    def checked(cls: type[Message], **fields: Any) -> Message:
        fast = trusted(cls, **fields)
        slow = cls(**fields)
        assert fast == slow
        assert fast.model_dump_json() == slow.model_dump_json()
        assert fast.model_fields_set == slow.model_fields_set
        assert list(fast.__dict__) == list(slow.__dict__)
        for key, value in slow.__dict__.items():
            assert type(fast.__dict__[key]) is type(value), (cls.__name__, key)
        built[cls.__name__] = built.get(cls.__name__, 0) + 1
        return fast

    monkeypatch.setattr(Message, "trusted", classmethod(checked))
    qstack.run(ROOT / "examples" / name)
    assert built, "the run built no message on a trusted path"


@pytest.mark.slow
def test_every_trusted_path_is_covered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scenarios above reach each message kind built trusted."""
    trusted = Message.trusted.__func__  # type: ignore[attr-defined]
    kinds: set[str] = set()

    def noting(cls: type[Message], **fields: Any) -> Message:
        kinds.add(cls.__name__)
        return trusted(cls, **fields)  # type: ignore[no-any-return]

    monkeypatch.setattr(Message, "trusted", classmethod(noting))
    for name in SCENARIOS:
        qstack.run(ROOT / "examples" / name)
    assert kinds >= {"LinkOk", "NetOk", "SwapRecord", "PathInstall", "QueueCredit"}
