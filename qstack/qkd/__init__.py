"""QKD classical post-processing: sifting, Cascade, verification, privacy
amplification, Wegman-Carter authentication, and the ``distill`` pipeline.

Everything works on 1-D numpy uint8 arrays of 0/1 and takes randomness only
from a ``numpy.random.Generator`` argument, so runs are reproducible.
"""

from qstack.qkd._bits import Bits, binary_entropy
from qstack.qkd.auth import Authenticator, KeyPool, KeyPoolExhausted, Tag, poly_hash
from qstack.qkd.cascade import CascadeResult, ParityOracle, ParitySource, cascade, reconcile
from qstack.qkd.pipeline import DistillResult, distill
from qstack.qkd.privacy import ToeplitzHash, amplify, secret_key_length, toeplitz_hash
from qstack.qkd.sifting import (
    QberEstimate,
    QberStats,
    SiftedKey,
    estimate_qber,
    sift,
    statistical_deviation,
)
from qstack.qkd.verify import VerifyResult, verify_keys

__all__ = [
    "Authenticator",
    "Bits",
    "CascadeResult",
    "DistillResult",
    "KeyPool",
    "KeyPoolExhausted",
    "ParityOracle",
    "ParitySource",
    "QberEstimate",
    "QberStats",
    "SiftedKey",
    "Tag",
    "ToeplitzHash",
    "VerifyResult",
    "amplify",
    "binary_entropy",
    "cascade",
    "distill",
    "estimate_qber",
    "poly_hash",
    "reconcile",
    "secret_key_length",
    "sift",
    "statistical_deviation",
    "toeplitz_hash",
    "verify_keys",
]
