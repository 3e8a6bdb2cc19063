"""<hyperv> children written many ways, for tests that read them copied
many times, and what libvirt passes on of children read in turn."""

from __future__ import annotations

from collections.abc import Sequence

from hvtune.documents.libvirt import HypervChild, HypervSettings, hyperv_settings

# Copies of a few names, each written in several ways: known ones with and
# without a value, text or children (up to 20), misspelt ones (read as the
# name they mean while every copy can be), unknown ones.
FAMILIES = (
    ("<relaxed state='on'/>", "<relaxed state='off'/>", "<relaxed state='on' n='1'/>"),
    (
        "<spinlocks state='on' retries='8191'/>",
        "<spinlocks state='on' retries='4096'/>",
        "<spinlocks state='off' retries='4096'/>",
        "<spinlocks state='on'/>",
        "<spinlocks state='off'/>",
    ),
    ("<vendor_id state='on' value='KVMKVMKVM'/>", "<vendor_id state='on' value='Hv'/>", "<vendor_id state='off'/>"),
    (
        "<stimer state='on'/>",
        "<stimer state='on'><direct state='on'/></stimer>",
        "<stimer state='on'><direct state='off'/></stimer>",
        "<stimer state='off'><direct state='on'/></stimer>",
        "<stimer state='on'>" + "<direct state='on'/>" * 20 + "</stimer>",
        "<stimer state='on'>" + "<direct state='on'/>" * 19 + "<direct state='off'/></stimer>",
    ),
    (
        "<tlbflush state='on'><direct state='on'/><extended state='off'/></tlbflush>",
        "<tlbflush state='on'><direct state='on'/>text<extended state='on'/></tlbflush>",
        "<tlbflush state='off'/>",
    ),
    ("<relaxd state='on'/>", "<relaxd state='on' x='1'/>", "<relaxd state='sometimes'/>"),
    (
        "<stimr state='on'><direct state='on'/></stimr>",
        "<stimr state='on'><relaxed state='on'/></stimr>",
        "<stimr state='on'><x state='on'/></stimr>",
    ),
    ("<spinlock state='on' retries='8191'/>", "<spinlock state='on' retries='many'/>"),
    ("<x1 state='on'/>", "<x1 state='on'><x2/></x1>", "<x2/>"),
)
# Copies libvirt refuses.
INVALID = ("<relaxed state='maybe'/>", "<stimer state='on'><direct state='yes'/></stimer>", "<vapic/>")
MODES = ("", " mode='passthrough'")


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
