"""Layer contracts as Hypothesis state machines, and :func:`run_contract`.

Each machine builds a harness, then issues random service requests
(CREATE with 1-5 pairs or continuous, min_fidelity, max_time, keep/measure,
priority, either end as origin; CANCEL; release of held qubits; time
advances) and checks the clauses after every step; at the end it frees
everything, cancels what is open, waits, and checks again (the final
clauses: every request answered, all memory back).

:func:`run_contract` runs one machine per clause, so each clause gets its own
verdict and its own shrunk counter-example (steps and message trace).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any, ClassVar, Literal, Protocol

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.reporting import with_reporter
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from qstack.conformance.checks import Violation, describe
from qstack.conformance.clauses import Clause, Layer, select
from qstack.conformance.harness import NODES, LinkHarness, LinkParams
from qstack.conformance.network_harness import NetworkHarness, chain_scenario
from qstack.conformance.report import ClauseResult, ConformanceReport, CounterExample
from qstack.conformance.strategies import (
    ChainParams,
    RequestDraw,
    chain_params,
    link_params,
    link_requests,
    net_requests,
    time_steps,
)
from qstack.layers.link.service import LinkLayerFactory
from qstack.layers.network.messages import NetCreate
from qstack.layers.network.service import NetworkLayerFactory
from qstack.sim.trace import MemoryTracer, TraceRecord

#: Trace lines kept in a counter-example.
TRACE_EXCERPT = 30

# -- failures -------------------------------------------------------------


class ContractFailure(AssertionError):
    """Some clause was violated; carries the run that showed it."""

    def __init__(self, violations: list[Violation], steps: list[str], trace: list[str]) -> None:
        super().__init__("\n".join(str(v) for v in violations[:5]))
        self.violations = violations
        self.steps = steps
        self.trace = trace


class ImplementationCrash(Exception):
    """The implementation raised instead of answering."""

    def __init__(self, error: str, steps: list[str], trace: list[str]) -> None:
        super().__init__(error.strip().splitlines()[-1] if error.strip() else "crash")
        self.error = error
        self.steps = steps
        self.trace = trace


def _excerpt(records: list[TraceRecord], until_ps: int | None) -> list[str]:
    chosen = [r for r in records if until_ps is None or r.time_ps <= until_ps]
    return [describe(r) for r in chosen[-TRACE_EXCERPT:]]


class _Driven(Protocol):
    """What the machines need of a harness: move time, end the run, and
    show its trace and the verdict of the clauses."""

    @property
    def now(self) -> int: ...

    def advance(self, dt_ps: int) -> None: ...

    def finish(self) -> None: ...

    @property
    def tracer(self) -> MemoryTracer: ...

    def check(self, clauses: tuple[Clause, ...]) -> list[Violation]: ...


class _Machine(RuleBasedStateMachine):
    """What both layer machines share: steps, checks, failure reporting."""

    clauses: ClassVar[tuple[Clause, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[str] = []
        self._broken = False

    def _records(self) -> list[TraceRecord]:
        driver = self._driver
        return [] if driver is None else driver.tracer.records

    def _check(self) -> list[Violation]:
        driver = self._driver
        return [] if driver is None else driver.check(self.clauses)

    def _do(self, label: str, action: Callable[[], object]) -> object:
        self.steps.append(label)
        try:
            return action()
        except Exception:
            self._broken = True
            raise ImplementationCrash(
                traceback.format_exc(), list(self.steps), _excerpt(self._records(), None)
            ) from None

    @property
    def _driver(self) -> _Driven | None:
        """The harness being driven (None before ``build``)."""
        raise NotImplementedError

    #: What the machine's teardown does, for the step list.
    ending: ClassVar[str] = "end"

    @rule(dt=time_steps())
    def advance(self, dt: int) -> None:
        driver = self._driver
        assert driver is not None
        self._do(f"t={driver.now}: advance {dt} ps", lambda: driver.advance(dt))

    @invariant()
    def clauses_hold(self) -> None:
        if not self._broken:
            self._verify()

    def teardown(self) -> None:
        driver = self._driver
        if driver is None or self._broken:
            return
        self._do(f"t={driver.now}: {self.ending}", driver.finish)
        self._verify()

    def _verify(self) -> None:
        violations = self._check()
        if violations:
            self._broken = True
            first = min(v.time_ps for v in violations)
            raise ContractFailure(violations, list(self.steps), _excerpt(self._records(), first))


class LinkContract(_Machine):
    """The link-layer contract over :class:`LinkHarness`."""

    factory: ClassVar[Any] = None

    def __init__(self) -> None:
        super().__init__()
        self.harness: LinkHarness | None = None

    ending = "end (release all, CANCEL open requests, wait)"

    @property
    def h(self) -> LinkHarness:
        assert self.harness is not None
        return self.harness

    @property
    def _driver(self) -> _Driven | None:
        return self.harness

    @initialize(params=link_params(), seed=st.integers(0, 2**16))
    def build(self, params: LinkParams, seed: int) -> None:
        factory = type(self).factory

        def make() -> None:
            self.harness = LinkHarness(factory, params, seed)

        self._do(f"build link {params} seed={seed}", make)

    @rule(origin=st.sampled_from(NODES), request=link_requests())
    def create(self, origin: str, request: RequestDraw) -> None:
        h = self.h

        def issue() -> str:
            create_id = h.create(
                origin,
                number=request.number,
                min_fidelity=request.min_fidelity,
                max_time_ps=request.max_time_ps,
                type=request.type,
                priority=request.priority,
                window=request.window,
                batched=request.batched,
            )
            return str(create_id)

        self._do(f"t={h.now}: CREATE at {origin} ({request})", issue)

    @precondition(lambda self: self.harness is not None and bool(self.harness.open_requests()))
    @rule(index=st.integers(0, 20))
    def cancel(self, index: int) -> None:
        h = self.h
        open_requests = h.open_requests()
        origin, create_id = open_requests[index % len(open_requests)]
        self._do(
            f"t={h.now}: CANCEL at {origin} of create_id {create_id}",
            lambda: h.cancel(origin, create_id),
        )

    @precondition(lambda self: self.harness is not None and any(self.harness.user_held.values()))
    @rule(node=st.sampled_from(NODES), index=st.integers(0, 20))
    def release(self, node: str, index: int) -> None:
        h = self.h
        held = h.user_held[node] or h.user_held[NODES[1 - NODES.index(node)]]
        node = node if h.user_held[node] else NODES[1 - NODES.index(node)]
        qubit = held[index % len(held)]
        self._do(f"t={h.now}: release qubit {qubit} at {node}", lambda: h.release(node, qubit))


class NetworkContract(_Machine):
    """The network-layer contract over :class:`NetworkHarness` on a chain."""

    factory: ClassVar[Any] = None

    def __init__(self) -> None:
        super().__init__()
        self.harness: NetworkHarness | None = None
        self.names: list[str] = []
        self.links: list[tuple[str, str]] = []

    ending = "end (run past every deadline until idle)"

    @property
    def h(self) -> NetworkHarness:
        assert self.harness is not None
        return self.harness

    @property
    def _driver(self) -> _Driven | None:
        return self.harness

    @initialize(params=chain_params(), seed=st.integers(0, 2**16))
    def build(self, params: ChainParams, seed: int) -> None:
        factory = type(self).factory
        scenario = chain_scenario(
            hops=params.hops,
            length_km=params.length_km,
            success_probability=params.success_probability,
            fidelity=params.fidelity,
            qubits=params.qubits,
            memory_t_s=params.memory_t_s,
            seed=seed,
            ring=params.ring,
        )
        self.names = [n.name for n in scenario.nodes]
        self.links = [(link.a, link.b) for link in scenario.links]

        def make() -> None:
            self.harness = NetworkHarness(scenario, factory, seed)

        self._do(f"build chain {params} seed={seed}", make)

    @rule(
        ends=st.tuples(st.integers(0, 3), st.integers(0, 3)),
        fields=net_requests(),
        copies=st.sampled_from([1, 1, 2, 3]),
    )
    def create(self, ends: tuple[int, int], fields: dict[str, Any], copies: int) -> None:
        """NET_CREATE; sometimes several at once, so that circuits compete
        for the same repeaters' memory."""
        h = self.h
        count = len(self.names)
        src = self.names[ends[0] % count]
        dst = self.names[(ends[0] + 1 + ends[1] % (count - 1)) % count]
        request = NetCreate(remote=dst, **fields)
        shown = ", ".join(f"{k}={v}" for k, v in fields.items())

        def issue() -> None:
            for _ in range(copies):
                h.create(src, request)

        self._do(f"t={h.now}: {copies} x NET_CREATE at {src} to {dst} ({shown})", issue)

    # A fault at a random time (one rule in three), checked like any other step.

    @precondition(lambda self: self.harness is not None)
    @rule(
        kind=st.sampled_from(["node", "link", "loss"]),
        index=st.integers(0, 7),
        probability=st.sampled_from([0.0, 0.1, 0.3]),
    )
    def fault(self, kind: str, index: int, probability: float) -> None:
        h = self.h
        if kind == "node":
            node = self.names[index % len(self.names)]
            self._do(f"t={h.now}: fail or recover {node}", lambda: h.toggle_node(node))
            return
        a, b = self.links[index % len(self.links)]
        if kind == "link":
            self._do(f"t={h.now}: cut or repair {a}-{b}", lambda: h.toggle_link(a, b))
            return
        self._do(
            f"t={h.now}: classical loss {probability} on {a}-{b}",
            lambda: h.classical_loss(a, b, probability),
        )


# -- running --------------------------------------------------------------


def _label(factory: object) -> str:
    module = getattr(factory, "__module__", None)
    name = getattr(factory, "__qualname__", None) or repr(factory)
    return f"{module}:{name}" if module else str(name)


def run_contract(
    layer: Layer,
    factory: LinkLayerFactory | NetworkLayerFactory | type[Any] | None = None,
    max_examples: int = 30,
    seed: int = 0,
    only: str | None = None,
    steps: int | None = None,
) -> ConformanceReport:
    """Check ``factory`` (None: the built-in) against the ``layer`` contract.

    Each selected clause (``only``: a glob or id prefix) gets its own
    Hypothesis run of ``max_examples`` random step sequences, seeded by
    ``seed``; a failing clause carries its shrunk counter-example.
    """
    if factory is None:
        from qstack.layers.link.egp import LinkLayer
        from qstack.layers.network.qnp import NetworkLayer

        factory = LinkLayer if layer == "link" else NetworkLayer
    base: type[_Machine] = LinkContract if layer == "link" else NetworkContract
    step_count = steps or (20 if layer == "link" else 8)
    report = ConformanceReport(layer, _label(factory), seed, max_examples)
    for item in select(layer, only):
        machine = type(
            f"{base.__name__}_{item.id.replace('/', '_').replace('.', '_')}",
            (base,),
            {"factory": factory, "clauses": (item,)},
        )
        report.results.append(_run_clause(item, machine, max_examples, seed, step_count))
    return report


def _run_clause(
    item: Clause, machine: type[_Machine], max_examples: int, seed: int, steps: int
) -> ClauseResult:
    config = settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=False,
        report_multiple_bugs=False,
        print_blob=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )

    seeded = hypothesis_seed(seed)(machine)
    status: Literal["pass", "fail", "crash"] = "pass"
    example: CounterExample | None = None
    try:
        with with_reporter(lambda _: None):
            run_state_machine_as_test(seeded, settings=config)
    except ContractFailure as failure:
        status = "fail"
        mine = [v for v in failure.violations if v.clause == item.id]
        example = CounterExample(failure.steps, mine or failure.violations, failure.trace)
    except ImplementationCrash as crash:
        status = "crash"
        example = CounterExample(crash.steps, [], crash.trace, crash.error)
    except Exception as error:  # Hypothesis itself gave up (flaky, unsatisfiable)
        status = "crash"
        example = CounterExample([], [], [], f"{type(error).__name__}: {error}")
    return ClauseResult(item, status, max_examples, example)
