"""What libvirt reports a host supports for Hyper-V: the ``<hyperv>`` part of
``virsh domcapabilities`` (libvirt 9.0 and later; ``<defaults>`` from 11.9).
libvirt expands ``<hyperv mode='host-model'>`` from exactly this."""

from __future__ import annotations

from dataclasses import dataclass

from hvtune.errors import InputError


@dataclass(frozen=True)
class HypervCapabilities:
    """The enlightenments libvirt may enable on a host, by libvirt name, and
    the defaults it fills in for host-model."""

    features: frozenset[str]
    spinlocks: int | None = None
    stimer_direct: bool = False
    tlbflush_direct: bool = False
    tlbflush_extended: bool = False
    vendor_id: str | None = None


def _flag(text: str | None) -> bool:
    return (text or "").strip() == "on"


def parse_domcaps(text: str, *, source: str) -> HypervCapabilities | None:
    """The Hyper-V capabilities in a domcapabilities document, or None when
    it reports none (libvirt before 9.0, or no Hyper-V on the host)."""
    from hvtune.formats.xmlsafe import parse_xml  # lxml only when there is XML to read

    root = parse_xml(text, source=source)
    if root.tag != "domainCapabilities":
        raise InputError(
            source, f"line {root.sourceline}", f"the root element is <{root.tag}>, not <domainCapabilities>"
        )
    hyperv = root.find("features/hyperv")
    if hyperv is None or hyperv.get("supported") != "yes":
        return None
    features = frozenset((value.text or "").strip() for value in hyperv.findall("enum[@name='features']/value"))
    defaults = hyperv.find("defaults")
    if defaults is None:
        return HypervCapabilities(features)
    spinlocks = (defaults.findtext("spinlocks") or "").strip()
    return HypervCapabilities(
        features=features,
        spinlocks=int(spinlocks) if spinlocks.isdigit() else None,
        stimer_direct=_flag(defaults.findtext("stimer_direct")),
        tlbflush_direct=_flag(defaults.findtext("tlbflush_direct")),
        tlbflush_extended=_flag(defaults.findtext("tlbflush_extended")),
        vendor_id=(defaults.findtext("vendor_id") or "").strip() or None,
    )
