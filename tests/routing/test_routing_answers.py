"""A routing strategy's answer is checked: a bad one ends the request with
one clear error naming the strategy and what was wrong (never a KeyError
deep in the network layer), and a strategy sees what its node knows: the
request (name, priority, pairs, type), its own random stream and its load."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

import qstack
from qstack.layers.network.routing import (
    Route,
    RouteRefusal,
    RouteRequest,
    ShortestHops,
)
from qstack.layers.network.view import NetworkView

CHAIN: dict[str, Any] = {
    "seed": 2,
    "topology": {
        "kind": "chain",
        "nodes": 4,
        "spacing_km": 5.0,
        "node": {"qubits": 4},
        "link": {
            "model": "abstract",
            "success_probability": 0.5,
            "attempt_duration_s": 1e-5,
            "fidelity": 0.97,
        },
    },
    "network": {"routing": "bad"},
    "requests": [{"app": "pairs", "src": "n0", "dst": "n2", "pairs": 5}],
}


def _bad(answer: Any) -> type:
    class Bad:
        name = "bad"

        def route(self, view: NetworkView, request: RouteRequest) -> Any:
            if isinstance(answer, Exception):
                raise answer
            return answer

    return Bad


BAD_ANSWERS = {
    "path elsewhere": (
        Route(("n3", "n2"), 0.9, 1.0),
        "does not start at the source 'n0'",
    ),
    "unlinked hop": (Route(("n0", "n2"), 0.9, 1.0), "no usable link between 'n0' and 'n2'"),
    "unknown node": (
        Route(("n0", "n9", "n2"), 0.9, 1.0),
        "'n9' is not a node of the network",
    ),
    "loop": (Route(("n0", "n1", "n0", "n1", "n2"), 0.9, 1.0), "visits a node twice"),
    "nothing": (None, "answered None: expected a Route or a RouteRefusal"),
    "unknown reason": (
        RouteRefusal("busy", "too much traffic"),  # type: ignore[arg-type]
        "refused with reason 'busy'; allowed: no_path, fidelity_unreachable, resource_shortage",
    ),
    "raises": (KeyError("n5"), "failed: KeyError: 'n5'"),
    "bad estimate": (Route(("n0", "n1", "n2"), 1.5, 1.0), "expected_fidelity = 1.5"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_a_bad_answer_ends_the_request_with_a_clear_error(case: str) -> None:
    answer, expected = BAD_ANSWERS[case]
    report = qstack.run(CHAIN, plugins=[_bad(answer)])
    request = report.requests[0]
    assert request.status == "error"
    assert request.error is not None
    assert request.error.startswith("invalid: routing strategy 'bad'"), request.error
    assert expected in request.error, request.error


def test_a_refusal_with_a_known_reason_is_the_request_error() -> None:
    refusal = RouteRefusal("resource_shortage", "every path is busy")
    report = qstack.run(CHAIN, plugins=[_bad(refusal)])
    assert report.requests[0].error == "resource_shortage: every path is busy"


class Recording(ShortestHops):
    """Shortest hops, keeping what each call saw."""

    name = "recording"
    seen: ClassVar[list[tuple[RouteRequest, NetworkView, float]]] = []

    def route(self, view: NetworkView, request: RouteRequest) -> Route | RouteRefusal:
        Recording.seen.append((request, view, float(view.rng.random())))
        return super().route(view, request)


def test_a_strategy_sees_the_request_its_random_stream_and_its_load() -> None:
    Recording.seen = []
    scenario = {
        **CHAIN,
        "network": {"routing": "recording"},
        "requests": [
            {"app": "pairs", "name": "first", "src": "n0", "dst": "n3", "pairs": 400},
            {
                "app": "qkd",
                "name": "second",
                "src": "n0",
                "dst": "n2",
                "pairs": 7,
                "priority": 2,
                "start_s": 1e-3,
            },
        ],
    }
    qstack.run(scenario, plugins=[Recording])
    (first, first_view, draw_1), (second, second_view, draw_2) = Recording.seen
    assert (first.name, first.pairs, first.priority, first.type) == ("first", 400, 0, "keep")
    assert (second.name, second.pairs, second.priority, second.type) == ("second", 7, 2, "measure")
    assert first.request_id == "n0#0" and second.request_id == "n0#1"
    assert first_view.local == second_view.local == "n0"
    assert first_view.load.circuits == ()
    # the first circuit is still being served when the second is routed
    assert second_view.load.circuits == (("n0", "n1", "n2", "n3"),)
    assert second_view.load.link_use("n1", "n2") == 1
    assert second_view.load.link_use("n2", "n3") == 1
    assert second_view.load.qubits == 4 and second_view.load.qubits_free < 4
    assert draw_1 != draw_2  # one stream per node, not reseeded per call
    Recording.seen = []
    qstack.run(scenario, plugins=[Recording])
    assert [draw for *_, draw in Recording.seen] == [draw_1, draw_2]  # seeded per run
