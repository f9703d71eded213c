"""Per-run random streams: one root seed, one independent generator per name.

Streams are keyed by name rather than spawned in creation order, so adding
an entity to a network leaves every other entity's draws unchanged.
"""

from __future__ import annotations

import hashlib
from array import array

import numpy as np
import numpy.typing as npt


def _name_key(name: str) -> int:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class RandomStreams:
    """Factory of seeded ``numpy.random.Generator`` objects for one run."""

    __slots__ = ("_streams", "seed")

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed = {seed}: must be >= 0")
        self.seed = seed
        self._streams: dict[str, np.random.Generator] = {}

    def stream(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same object on every call in a run."""
        generator = self._streams.get(name)
        if generator is None:
            sequence = np.random.SeedSequence(entropy=self.seed, spawn_key=(_name_key(name),))
            generator = np.random.Generator(np.random.PCG64(sequence))
            self._streams[name] = generator
        return generator


#: A block size for a buffer that is its generator's only user: its draws
#: are the same whatever the block size (``Generator.random(a)`` then
#: ``random(b)`` gives ``random(a + b)``), so it may keep less in memory.
OWN_STREAM_BLOCK = 256


class UniformBuffer:
    """Uniform draws from a generator, fetched in blocks: a scalar draw
    through numpy costs as much as a thousand drawn at once. Hot paths draw
    from one of these instead of calling the generator per event. The block
    is kept as packed doubles (8 bytes a draw, not a float object's 32): a
    network holds a few of these per node."""

    __slots__ = ("_block", "_buffer", "_position", "_rng")

    def __init__(self, rng: np.random.Generator, block: int = 4096) -> None:
        self._rng = rng
        self._block = block
        self._buffer: array[float] = array("d")
        self._position = 0

    def random(self) -> float:
        """A draw in [0, 1), like ``Generator.random()``."""
        position = self._position
        if position == len(self._buffer):
            self._buffer = array("d", self._rng.random(self._block).tobytes())
            position = 0
        self._position = position + 1
        return self._buffer[position]

    def open_unit(self) -> float:
        """A draw in (0, 1] (safe to take the logarithm of)."""
        return 1.0 - self.random()

    def array(self, n: int) -> npt.NDArray[np.float64]:
        """``n`` draws in [0, 1) at once, straight from the generator (a
        batch path's draws; the buffered ones stay for the scalar draws)."""
        return self._rng.random(n)
