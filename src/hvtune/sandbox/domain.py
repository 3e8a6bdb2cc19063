"""A libvirt domain made runnable in the sandbox: what decides its Hyper-V
enlightenments kept as written, what ties it to its own host left out.

The sandbox's libvirt starts the domain for real (paused), so its disks,
networks, firmware files and memory size would fail there for reasons
that are not the enlightenments'. Kept: the domain type, its vCPUs, the
<os> <type> (architecture, machine type), <features>, <cpu>, <clock>
and its panic devices (a Hyper-V one sets hv-crash). Left out: every
other device, the firmware and boot settings, the name and UUID (one
name serves the whole batch, run one after another). A named CPU model
gives way to host-passthrough, its features kept: the sandbox's CPU is
TCG's AMD `max`, which an Intel model (most of them) would not fit, and
the model decides no enlightenment."""

from __future__ import annotations

from lxml import etree

from hvtune.formats.xmlsafe import parse_xml

NAME = "hvtune-verify"
MEMORY_MIB = 64
KEPT = (
    "its domain type, vCPUs, machine type, <features>, <cpu> (a CPU model replaced by host-passthrough), <clock> "
    "and panic devices; no disks or firmware"
)
PASSTHROUGH_MODES = ("host-passthrough", "maximum", "host-model")


def _copy(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element, with_tail=False))


def _fit_cpu(cpu: etree._Element) -> None:
    """The domain's <cpu> as the sandbox can give it: no NUMA cells (they
    name memory the sandbox's domain does not have), no named model."""
    for numa in cpu.findall("numa"):
        cpu.remove(numa)
    if cpu.get("mode", "custom") in PASSTHROUGH_MODES:
        return
    for named in (*cpu.findall("model"), *cpu.findall("vendor")):
        cpu.remove(named)
    for attribute in ("match", "check"):
        cpu.attrib.pop(attribute, None)
    cpu.set("mode", "host-passthrough")


def runnable_domain(text: str, *, source: str, name: str = NAME, fit_cpu: bool = True) -> str:
    """The domain in `text` reduced to what the sandbox can run, named
    `name` (a runnable domain renamed is reduced again, unchanged). Without
    `fit_cpu` the <cpu> stays as written: enough for libvirt's translation
    (domxml-to-native), which starts nothing."""
    original = parse_xml(text, source=source)
    domain = etree.Element("domain", type=original.get("type", "kvm"))
    etree.SubElement(domain, "name").text = name
    etree.SubElement(domain, "memory", unit="MiB").text = str(MEMORY_MIB)
    for element in original:
        tag = element.tag
        if tag == "os" and domain.find("os") is None:  # libvirt reads the first <os> and the first <cpu> only
            os_type = element.find("type")
            kept = etree.SubElement(domain, "os")
            etree.SubElement(kept, "type", dict(os_type.attrib) if os_type is not None else {}).text = (
                (os_type.text or "hvm") if os_type is not None else "hvm"
            )
        elif tag == "cpu" and domain.find("cpu") is None:
            copied = _copy(element)
            if fit_cpu:
                _fit_cpu(copied)
            domain.append(copied)
        elif tag in ("vcpu", "features", "clock"):  # every <features> and <clock> counts
            domain.append(_copy(element))
    panics = original.findall("devices/panic")  # those of every <devices>
    if panics:
        devices = etree.SubElement(domain, "devices")
        for panic in panics:
            devices.append(_copy(panic))
    etree.cleanup_namespaces(domain)
    return str(etree.tostring(domain, pretty_print=True, encoding="unicode"))
