"""Large libvirt domains of many shapes, for the read and fix benchmarks.

Each shape grows one part of a domain `n` times: realistic devices, the
parts hvtune reads (<hyperv> children, attributes, timers, <cpu> features,
<kvm> hints, several <features>/<hyperv>/<clock>) and the parts it passes
over (metadata, namespaces, deep nesting, long text, comments). The Hyper-V
setup around them needs fixing (synthetic timers without what they need),
so that ``fix`` has work to do in every shape.
"""

from __future__ import annotations

from collections.abc import Callable

from domains import domain_xmls

_SIMPLE = ("relaxed", "vapic", "vpindex", "runtime", "reset", "frequencies", "ipi")
_HYPERV = "<relaxed state='on'/><stimer state='on'/>"


def domain(
    features: str = f"<hyperv>{_HYPERV}</hyperv>",
    clock: str = "",
    devices: str = "",
    cpu: str = "<cpu mode='host-passthrough'/>",
    extra: str = "",
    attributes: str = "",
) -> str:
    return (
        f"<domain type='kvm'{attributes}>\n  <name>big</name>\n{extra}  <memory unit='KiB'>4194304</memory>\n"
        "  <os>\n    <type arch='x86_64' machine='pc-q35-8.2'>hvm</type>\n  </os>\n"
        f"  <features>\n    <acpi/>\n    {features}\n  </features>\n  {cpu}\n"
        f"  <clock offset='utc'>{clock}</clock>\n"
        f"  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n{devices}  </devices>\n</domain>\n"
    )


def _realistic(n: int) -> str:
    """A generated Windows domain whose devices are repeated."""
    text = domain_xmls(1)[0].decode().replace('<vpindex state="on"/>', "")
    head, rest = text.split("<devices>")
    devices, tail = rest.split("</devices>")
    return head + "<devices>" + devices * max(1, n // 20) + "</devices>" + tail


def _varied(n: int) -> str:
    """`n` <hyperv> children of the simple kinds in turn, a third of them off."""
    return "".join(f"<{_SIMPLE[i % len(_SIMPLE)]} state='{'on' if i % 3 else 'off'}'/>" for i in range(n))


def _blocks(n: int) -> str:
    """Three copies of a block of varied <hyperv> children, the last one
    differing at its end: repeats that are almost a group."""
    block = _varied(max(3, n // 3))
    return domain("<hyperv>" + block * 2 + block[:-2] + " />" + _HYPERV + "</hyperv>")


def _attributes(n: int, prefix: str = "a") -> str:
    return "".join(f" {prefix}{index}='{index}'" for index in range(n))


def _attributes_everywhere(n: int) -> str:
    each = _attributes(n // 8)
    return domain(
        features=f"<hyperv{each}><relaxed state='on'{each}/><stimer state='on'/></hyperv>",
        clock=f"<timer name='hypervclock' present='no'{each}/>",
        devices=f"    <panic model='hyperv'{each}/>\n",
        cpu=f"<cpu mode='custom'{each}><model{each}>qemu64</model><feature policy='require' name='vmx'{each}/></cpu>",
        attributes=each,
    ).replace("<os>", f"<os{each}>")


# shapes that grow a single element (an attribute list, a text), which
# libxml2 refuses beyond 10 MB
ONE_ELEMENT = frozenset({"hyperv child attributes", "attributes everywhere", "long text"})

SHAPES: dict[str, Callable[[int], str]] = {
    "realistic devices": _realistic,
    "hyperv child attributes": lambda n: domain(f"<hyperv><relaxed state='on'{_attributes(n)}/>{_HYPERV}</hyperv>"),
    "hyperv children repeated": lambda n: domain("<hyperv>" + "<relaxed state='on'/>" * n + _HYPERV + "</hyperv>"),
    "hyperv children varied": lambda n: domain("<hyperv>" + _varied(n) + _HYPERV + "</hyperv>"),
    "hyperv children in blocks": _blocks,
    "hyperv children distinct": lambda n: domain(
        "<hyperv>"
        + "".join(f"<{_SIMPLE[i % len(_SIMPLE)]} state='on' n='{i}'/>" for i in range(n))
        + _HYPERV
        + "</hyperv>"
    ),
    "hyperv children valued": lambda n: domain(
        "<hyperv>"
        + "<spinlocks state='on' retries='8191'/><vendor_id state='on' value='KVMKVMKVM'/>" * (n // 2)
        + _HYPERV
        + "</hyperv>"
    ),
    "hyperv children nested": lambda n: domain(
        "<hyperv>" + "<stimer state='on'><direct state='on'/></stimer>" * (n // 2) + "<relaxed state='on'/></hyperv>"
    ),
    "hyperv children misspelt": lambda n: domain(
        "<hyperv>"
        + "<relaxd state='on'/><stimr state='on'><direct state='on'/></stimr>" * (n // 3)
        + _HYPERV
        + "</hyperv>"
    ),
    "hyperv children unknown": lambda n: domain(
        "<hyperv>" + "".join(f"<x{i} state='on'/>" for i in range(n)) + _HYPERV + "</hyperv>"
    ),
    "stimer children": lambda n: domain(
        "<hyperv><stimer state='on'>" + "<direct state='on'/>" * n + "</stimer><relaxed state='on'/></hyperv>"
    ),
    "hyperv elements": lambda n: domain("<hyperv><relaxed state='on'/></hyperv>" * n + f"<hyperv>{_HYPERV}</hyperv>"),
    "hyperv elements distinct": lambda n: domain(
        "".join(f"<hyperv><relaxed state='on' n='{i}'/></hyperv>" for i in range(n)) + f"<hyperv>{_HYPERV}</hyperv>"
    ),
    "features elements": lambda n: domain(f"<hyperv>{_HYPERV}</hyperv></features><features><apic/>" * n),
    "kvm hints": lambda n: domain(f"<hyperv>{_HYPERV}</hyperv><kvm>" + "<hidden state='on'/>" * n + "</kvm>"),
    "timers": lambda n: domain(
        clock="".join(
            (
                "<timer name='rtc' tickpolicy='catchup'/>",
                "<timer name='kvmclock' present='yes'/>",
                "<timer name='pit'/>",
            )[i % 3]
            for i in range(n)
        )
    ),
    "clocks": lambda n: domain(clock="</clock><clock offset='utc'><timer name='kvmclock' present='no'/>" * n),
    "cpu features": lambda n: domain(
        cpu="<cpu mode='custom'><model>qemu64</model>"
        + "".join(f"<feature policy='require' name='f{i}'/>" for i in range(n))
        + "</cpu>"
    ),
    "panic devices": lambda n: domain(devices="    <panic model='isa'/>\n" * n),
    "attributes everywhere": _attributes_everywhere,
    "metadata": lambda n: domain(
        extra="  <metadata>\n"
        + "".join(
            f"    <app:item xmlns:app='https://example.com/{i}' id='{i}'>value {i}</app:item>\n" for i in range(n)
        )
        + "  </metadata>\n"
    ),
    "deep nesting": lambda n: domain(
        extra="  <metadata>" + ("<x>" * 250 + "</x>" * 250) * max(1, n // 250) + "</metadata>\n"
    ),
    "long text": lambda n: domain(extra=f"  <description>{'a long description ' * n}</description>\n"),
    "comments": lambda n: domain(devices="    <!-- <panic model='hyperv'/> -->\n" * n),
}
