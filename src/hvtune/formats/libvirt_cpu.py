"""The -cpu value libvirt builds for a domain (qemuBuildCpuCommandLine).

In libvirt's order: the model and the ``<cpu>`` features; the clock timers
in ``<clock>`` order (``kvmclock``, ``hv-time``, ``tsc-frequency``);
``kvm-pv-eoi``, ``kvm-pv-unhalt``; ``hv-passthrough=on``, then the ``<hyperv>``
children in libvirt's element order as ``hv-<name>=on`` (a bare ``hv-<name>``
before 7.9), spinlocks as ``0x%x``, the vendor id raw, direct-mode timers
after ``hv-stimer``, direct and extended TLB flush after ``hv-tlbflush``;
``hv-crash`` once (``=on`` from 12.8);
``kvm=off`` and the other ``<kvm>`` hints (of the last ``<kvm>``, or from 11.3
of them all); ``pmu``; cache; physical address bits. Without a model, QEMU's
default for the machine, which libvirt fills in: ``qemu64`` (``qemu32`` for
i686).

Written twice, a timer gives its flag twice and a ``<hyperv>`` child counts
as libvirt keeps it (see formats/libvirt.py). It follows the libvirt release
given: the ``mode`` attribute is not read before 8.0, the children of a
passthrough ``<hyperv>`` count before 11.0,
``<tlbflush>`` children from 11.0, ``mode='host-model'`` is expanded (11.9)
from the host's capabilities, with the domain's own choices kept from 12.1.
It renders a domain libvirt accepts; what libvirt would refuse is for the
checks to say.

For ``<cpu mode='host-model'>`` libvirt substitutes the host's CPU model,
which only the host knows; hvtune writes ``host`` in its place.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from hvtune.catalog import load_catalog
from hvtune.documents.libvirt import HypervChild, LibvirtDomain, Timer, hyperv_settings
from hvtune.errors import InputError
from hvtune.formats.domcaps import HypervCapabilities
from hvtune.forms.libvirt import TimerAttributeForm, TimerForm, value_attribute
from hvtune.releases import Release, parse_release
from hvtune.valuetypes import Value

# What each <cpu><feature> policy writes after the feature's -cpu name
# (optional: nothing; libvirt leaves the feature to the model)
FEATURE_SWITCHES = {"force": "=on", "require": "=on", "disable": "=off", "forbid": "=off"}

_STATES = ("on", "off")


def _passthrough_since() -> Release:
    since = load_catalog().property("hv-passthrough").since.libvirt
    return parse_release(since)


def libvirt_version(version: str | None) -> Release:
    """A libvirt release; the newest the catalog describes when None or newer."""
    newest = parse_release(load_catalog().libvirt.newest)
    return min(parse_release(version), newest) if version else newest


def beyond_known(version: str | None) -> str | None:
    """The one warning for a libvirt release newer than the newest the
    catalog knows, which is judged as that one (None: a known release)."""
    newest = parse_release(load_catalog().libvirt.newest)
    if not version or parse_release(version) <= newest:
        return None
    return (
        f"libvirt {version} is newer than the newest release hvtune knows ({newest}); it is judged as {newest}, "
        "and may differ where it changed since"
    )


def switched_on(name: str, version: Release) -> str:
    """How libvirt `version` writes a flag it switches on: ``name=on``, or
    the bare name before it wrote values (catalog: renders_on_values)."""
    return f"{name}=on" if version >= parse_release(load_catalog().libvirt.renders_on_values) else name


def _model_tokens(domain: LibvirtDomain) -> list[str]:
    cpu = domain.cpu
    if cpu is None or (cpu.mode == "custom" and not cpu.model):
        # libvirt fills in QEMU's default model for the machine (qemuDomainDefSetDefaultCPU)
        return ["qemu32" if domain.arch == "i686" else "qemu64"]
    if cpu.mode in ("host-passthrough", "maximum"):
        tokens = ["max" if cpu.mode == "maximum" else "host"]
        # libvirt fills in migratable=on for host-passthrough (qemuDomainDefCPUPostParse)
        migratable = cpu.migratable or ("on" if cpu.mode == "host-passthrough" else None)
        if migratable in _STATES:
            tokens.append(f"migratable={migratable}")
    elif cpu.mode == "host-model":
        tokens = ["host"]
    else:
        tokens = [cpu.model or ""]
    if cpu.vendor_id:
        tokens.append(f"vendor={cpu.vendor_id}")
    names = load_catalog().libvirt.cpu_feature_names
    for policy, name in cpu.features:
        if policy in FEATURE_SWITCHES:
            tokens.append(names.get(name, name) + FEATURE_SWITCHES[policy])
    return tokens


@cache
def _timer_forms() -> dict[str, tuple[str, TimerForm | TimerAttributeForm]]:
    """Each timer a catalog form names, with its property."""
    return {
        entry.libvirt.timer: (entry.name, entry.libvirt)
        for entry in load_catalog().entries
        if isinstance(entry.libvirt, TimerForm | TimerAttributeForm)
    }


def _timer_flags(timers: tuple[Timer, ...], version: Release) -> list[str]:
    """One flag per timer, repeats included: libvirt passes each on
    (kvmclock, KVM's own clock, and the catalog's timer forms)."""
    forms = _timer_forms()
    flags = []
    for timer in timers:
        token = None
        if timer.name == "kvmclock" and timer.present in ("yes", "no"):
            token = f"kvmclock={'on' if timer.present == 'yes' else 'off'}"
        elif timer.name in forms:
            name, form = forms[timer.name]
            token = form.cpu_token(name, timer)
            token = switched_on(name, version) if token == f"{name}=on" else token
        flags += [token] * timer.repeat if token else []
    return flags


def _hyperv_flags(children: tuple[HypervChild, ...], version: Release) -> list[str]:
    """The flags in libvirt's order. A nested flag (hv-stimer-direct) goes
    with its parent's place even when a later copy of the parent is off:
    libvirt keeps what the copies that were on said."""
    catalog = load_catalog()
    by_libvirt = catalog.by_libvirt()
    settings = hyperv_settings(children, nested_of_off=version < parse_release(catalog.libvirt.nested_of_off_until))
    flags = []
    for key in catalog.libvirt.hyperv_order:
        prop = by_libvirt[key]
        if version < parse_release(prop.since.libvirt):
            continue
        if "." in key:
            if settings.nested.get(key) == "on":
                flags.append(switched_on(prop.name, version))
            continue
        if settings.states.get(key) != "on":
            continue
        attribute = value_attribute(prop.libvirt)
        value = settings.values.get(key)
        if attribute is None:
            flags.append(switched_on(prop.name, version))
        elif prop.notation == "hex":
            flags.append(f"{prop.name}=0x{value if isinstance(value, int) else prop.default:x}")
        elif value is not None:
            flags.append(f"{prop.name}={value}")
    return flags


def _child(name: str, value: Value | None = None, children: tuple[HypervChild, ...] = ()) -> HypervChild:
    return HypervChild(name, "on", value, children, 0)


def expand_host_model(
    domain: LibvirtDomain, capabilities: HypervCapabilities, version: Release
) -> tuple[tuple[HypervChild, ...], tuple[Timer, ...]]:
    """What libvirt makes of <hyperv mode='host-model'> at start: every
    feature the host supports that the domain leaves unset is switched on,
    with the host's defaults for spinlocks, vendor id, direct-mode timers and
    TLB flush; synthetic timers bring the hypervclock timer they need."""
    facts = load_catalog().libvirt
    own = domain.hyperv if version >= parse_release(facts.host_model_children) else ()
    given = {child.name for child in own}
    added: list[HypervChild] = []
    timers = domain.timers
    for name in facts.hyperv_order:
        if name not in capabilities.features or name in given:
            continue
        if name == "spinlocks":
            if capabilities.spinlocks:
                added.append(_child(name, capabilities.spinlocks))
        elif name == "vendor_id":
            if capabilities.vendor_id:
                added.append(_child(name, capabilities.vendor_id))
        elif name == "stimer":
            direct = (_child("direct"),) if capabilities.stimer_direct else ()
            added.append(_child(name, children=direct))
            if not any(timer.name == "hypervclock" for timer in timers):
                timers = (*timers, Timer("hypervclock", "yes", None, None))
        elif name == "tlbflush":
            nested = tuple(
                _child(grandchild)
                for grandchild, supported in (
                    ("direct", capabilities.tlbflush_direct),
                    ("extended", capabilities.tlbflush_extended),
                )
                if supported
            )
            added.append(_child(name, children=nested))
        else:
            added.append(_child(name))
    return (*own, *added), timers


def libvirt_cpu(
    domain: LibvirtDomain,
    *,
    version: str | None = None,
    capabilities: HypervCapabilities | None = None,
    source: str = "domain",
) -> str:
    """The -cpu value libvirt `version` passes to QEMU for `domain`."""
    release = libvirt_version(version)
    facts = load_catalog().libvirt
    children, timers, mode = domain.hyperv, domain.timers, domain.hyperv_mode
    if mode == "host-model" and release >= parse_release(facts.host_model):
        if capabilities is None:
            raise InputError(
                source,
                "<hyperv mode='host-model'>",
                "libvirt expands host-model at start from the host's capabilities; connect to that host's "
                "libvirt (--connect) or give its domain capabilities (--domcaps FILE)",
            )
        children, timers = expand_host_model(domain, capabilities, release)
        domain, mode = replace(domain, hyperv=children, timers=timers), "custom"
    flags = _timer_flags(timers, release)
    if domain.apic_eoi in _STATES:
        flags.append(f"kvm-pv-eoi={domain.apic_eoi}")
    if domain.pvspinlock in _STATES:
        flags.append(f"kvm-pv-unhalt={domain.pvspinlock}")
    if mode in ("passthrough", "host-model") and release < _passthrough_since():
        mode = "custom"  # before libvirt knew the attribute it read only the children
    if mode is not None:
        if mode == "passthrough":
            flags.append(switched_on("hv-passthrough", release))
        if release >= parse_release(facts.passthrough_children_ignored):
            # the children of a passthrough <hyperv> are not read; another <hyperv>'s are
            children = tuple(child for child in children if not child.passthrough)
        flags += _hyperv_flags(children, release)
    if domain.hyperv_panics:
        flags.append("hv-crash=on" if release >= parse_release(facts.crash_renders_on) else "hv-crash")
    kvm = domain.kvm_hints(merged=release >= parse_release(facts.kvm_elements_merged))
    if kvm is not None:
        flags += [
            flag
            for flag, on in (
                ("kvm=off", kvm.get("hidden") == "on"),
                ("kvm-hint-dedicated=on", kvm.get("hint-dedicated") == "on"),
                ("kvm-poll-control=on", kvm.get("poll-control") == "on"),
                ("kvm-pv-ipi=off", kvm.get("pv-ipi") == "off"),
            )
            if on
        ]
    if domain.pmu in _STATES:
        flags.append(f"pmu={domain.pmu}")
    flags += _cache_and_address_flags(domain)
    return ",".join(_model_tokens(domain) + flags)


def _cache_and_address_flags(domain: LibvirtDomain) -> list[str]:
    cpu = domain.cpu
    if cpu is None:
        return []
    flags = []
    host_like = cpu.mode in ("host-passthrough", "maximum")
    if cpu.cache_mode == "emulate":
        flags.append("l3-cache=on")
        if host_like:
            flags.append("host-cache-info=off")
    elif cpu.cache_mode == "passthrough":
        flags += ["host-cache-info=on", "l3-cache=off"]
    elif cpu.cache_mode == "disable":
        flags += ["host-cache-info=off"] if host_like else []
        flags.append("l3-cache=off")
    if cpu.maxphysaddr:
        mode, bits = cpu.maxphysaddr
        if mode == "passthrough":
            flags.append("host-phys-bits=on")
        elif mode == "emulate" and bits is not None:
            flags.append(f"phys-bits={bits}")
    return flags
