"""What libvirt passes on of <hyperv> children read in turn."""

from __future__ import annotations

from collections.abc import Sequence

from hvtune.documents.libvirt import HypervChild, HypervSettings, hyperv_settings


def passed_on(records: Sequence[HypervChild]) -> tuple[HypervSettings, HypervSettings]:
    """The settings of `records`, as libvirt releases before and after
    nested_of_off_until read them, with a value only of a name that ends on
    (a copy that is off keeps the value an earlier one set, unused)."""
    meanings = []
    for nested_of_off in (False, True):
        settings = hyperv_settings(list(records), nested_of_off=nested_of_off)
        values = {name: value for name, value in settings.values.items() if settings.states[name] == "on"}
        meanings.append(settings._replace(values=values))
    return meanings[0], meanings[1]
