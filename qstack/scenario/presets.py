"""``preset = "NAME"`` on a ``[[nodes]]`` or ``[[links]]`` entry.

A preset (``qstack.physics.presets``) holds a platform's published
parameters under scenario key names, each with its source. Naming one on an
entry fills in its keys before the entry is validated; every key the entry
gives itself wins. Keys of the preset that cannot apply next to the entry's
own choice are left out rather than reported: a memory model the entry
chose (``memory_t_s`` or ``t1_s`` / ``t2_s``), a dark-count form it chose
(``dark_count_probability`` or ``dark_count_rate_hz`` with
``detection_window_s``), and the other link model's keys when the entry
gives its own ``model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qstack.physics.presets import get_preset
from qstack.scenario.fields import ERR_VALUE, problem, raise_problems

#: Keys the entry may choose between; choosing one side drops the preset's other side.
_NODE_CHOICES = (({"memory_t_s"}, {"t1_s", "t2_s"}),)
_LINK_CHOICES = (({"dark_count_probability"}, {"dark_count_rate_hz", "detection_window_s"}),)


Choices = tuple[tuple[set[str], set[str]], ...]


def _merge(entry: Mapping[str, Any], preset: Mapping[str, Any], choices: Choices) -> dict[str, Any]:
    given = set(entry)
    fill = dict(preset)
    for one, other in choices:
        if given & one:
            for key in other:
                fill.pop(key, None)
        if given & other:
            for key in one:
                fill.pop(key, None)
    return {**fill, **entry}


def _lookup(model: str, entry: Mapping[str, Any]) -> Any:
    name = entry["preset"]
    try:
        return get_preset(name) if isinstance(name, str) else None
    except ValueError as error:
        raise_problems(model, [problem(ERR_VALUE, ("preset",), name, str(error))])
    return None


def with_node_preset(model: str, data: Any) -> Any:
    """A ``[[nodes]]`` entry with its preset's node keys filled in."""
    if not isinstance(data, Mapping) or data.get("preset") is None:
        return data
    preset = _lookup(model, data)
    if preset is None:
        return data  # not a string: the field's own validation reports it
    return _merge(data, preset.node.scenario_fields(), _NODE_CHOICES)


def with_link_preset(model: str, data: Any) -> Any:
    """A ``[[links]]`` entry with its preset's link keys filled in."""
    if not isinstance(data, Mapping) or data.get("preset") is None:
        return data
    preset = _lookup(model, data)
    if preset is None:
        return data
    fields = preset.link.scenario_fields()
    own_model = data.get("model")
    if own_model is not None and own_model != fields["model"]:
        from qstack.scenario.entries import ABSTRACT_FIELDS, PHYSICAL_FIELDS

        applies = {"length_km", *(ABSTRACT_FIELDS if own_model == "abstract" else PHYSICAL_FIELDS)}
        if own_model != "single-click":
            applies.discard("bright_state_alpha")
        fields = {k: v for k, v in fields.items() if k in applies}
    return _merge(data, fields, _LINK_CHOICES)
