"""Hypothesis strategies for configs hvtune must handle."""

from __future__ import annotations

from hypothesis import strategies as st

from hvtune.catalog import Neighbour, load_catalog
from hvtune.config import HypervConfig
from hvtune.valuetypes import VALUE_TYPES

# Numbers as people and fuzzers write them: any integer, in hex too, and
# text of digits, signs, bases, suffixes, fractions, Unicode digits.
NUMBER_ALPHABET = " +-0123456789xXabcdefABCDEFkKmMgGtT.eE٣²_"
NUMBER = st.one_of(
    st.integers(-(2**65), 2**65).map(str),
    st.integers(0, 2**65).map(hex),
    st.text(NUMBER_ALPHABET, min_size=1, max_size=14).filter(lambda t: "," not in t),
)


# Tokens QEMU accepts for qemu64/max under TCG, to stand for "everything else".
OTHER_TOKENS = ("l3-cache=on", "+lahf_lm", "-sep", "pmu=off", "+kvm_pv_eoi", "check")


def value_for(type_name: str) -> st.SearchStrategy:
    kind = VALUE_TYPES[type_name]
    if kind.python is bool:
        return st.booleans()
    if kind.python is int:
        return st.integers(kind.minimum, kind.maximum)
    if kind.choices:
        return st.sampled_from(kind.choices)
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=","), max_size=16)


@st.composite
def configs(
    draw: st.DrawFn, models: tuple[str, ...] = ("qemu64", "max", "host", "Skylake-Server-v4", "EPYC")
) -> HypervConfig:
    catalog = load_catalog()
    model = draw(st.sampled_from(models))
    entries = [
        entry
        for entry in catalog.entries
        if not (isinstance(entry, Neighbour) and entry.models and model not in entry.models)
    ]
    chosen = draw(st.lists(st.sampled_from(entries), unique_by=lambda e: e.name, max_size=12))
    values = {entry.name: draw(value_for(entry.type)) for entry in chosen}
    extra = draw(st.lists(st.sampled_from(OTHER_TOKENS), unique=True, max_size=3))
    return HypervConfig(model=model, values=values, extra=tuple(extra))


@st.composite
def feature_sets(draw: st.DrawFn) -> HypervConfig:
    """Configs that switch on a random set of features (and maybe off others)."""
    catalog = load_catalog()
    chosen = draw(st.lists(st.sampled_from(catalog.features), unique_by=lambda p: p.name, max_size=10))
    return HypervConfig(model="host", values={p.name: draw(st.booleans()) for p in chosen})


# --- libvirt domains whose elements are written more than once ---------------

ON_OFF = st.sampled_from(["on", "off"])
TIMERS = (
    "<timer name='hypervclock' present='yes'/>",
    "<timer name='hypervclock' present='no'/>",
    "<timer name='kvmclock' present='no'/>",
    "<timer name='kvmclock' present='yes'/>",
    "<timer name='rtc' tickpolicy='catchup'/>",
)
SIMPLE = ("relaxed", "vapic", "vpindex", "runtime", "synic", "reset", "frequencies", "ipi")


@st.composite
def hyperv_child(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from([*SIMPLE, "spinlocks", "vendor_id", "stimer", "tlbflush", "unknown"]))
    state = draw(ON_OFF)
    if kind == "spinlocks":
        retries = draw(st.sampled_from(["retries='4095'", "retries='8191'", "retries='12287'", "retries='100'", ""]))
        return f"<spinlocks state='{state}' {retries}/>"
    if kind == "vendor_id":
        return f"<vendor_id state='{state}' value='{draw(st.sampled_from(['KVM Hv', 'Hv2', 'far-too-long-id']))}'/>"
    if kind == "stimer":
        nested = draw(st.sampled_from(["", "<direct state='on'/>", "<direct state='off'/>"]))
        return f"<stimer state='{state}'>{nested}</stimer>"
    if kind == "tlbflush":
        nested = draw(st.sampled_from(["", "<direct state='on'/>"]))
        return f"<tlbflush state='{state}'>{nested}</tlbflush>"
    if kind == "unknown":
        return "<vsm state='on'/>"
    return f"<{kind} state='{state}'/>"


def _split(draw: st.DrawFn, items: list[str], parts: int) -> list[list[str]]:
    """`items` in order, cut into `parts` runs (some may be empty)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(items)), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, len(items)]
    return [items[bounds[i] : bounds[i + 1]] for i in range(parts)]


@st.composite
def duplicated_domains(draw: st.DrawFn) -> str:
    children = draw(st.lists(hyperv_child(), max_size=8))
    if children and draw(st.booleans()):
        children.append(draw(st.sampled_from(children)))  # a copy of one, later
    hypervs = []
    for part in _split(draw, children, draw(st.integers(1, 3))):
        mode = draw(st.sampled_from(["", "", "", " mode='custom'", " mode='passthrough'"]))
        hypervs.append(f"<hyperv{mode}>{''.join(part)}</hyperv>")
    others = []
    for _ in range(draw(st.integers(0, 2))):
        hints = draw(
            st.lists(
                st.sampled_from(["<hidden state='on'/>", "<hidden state='off'/>", "<poll-control state='on'/>"]),
                max_size=2,
            )
        )
        others.append(f"<kvm>{''.join(hints)}</kvm>")
    for _ in range(draw(st.integers(0, 2))):
        others.append(draw(st.sampled_from(["<apic/>", "<apic eoi='on'/>", "<apic eoi='off'/>"])))
    for _ in range(draw(st.integers(0, 2))):
        others.append(f"<{draw(st.sampled_from(['pmu', 'pvspinlock']))} state='{draw(ON_OFF)}'/>")
    features = draw(st.permutations(hypervs + others))
    feature_parts = _split(draw, list(features), draw(st.integers(1, 2)))
    timers = draw(st.lists(st.sampled_from(TIMERS), max_size=4))
    if draw(st.integers(0, 9)) == 0:
        timers.append("<timer name='hypervclock' present='yes' tickpolicy='catchup'/>")
    clocks = _split(draw, timers, draw(st.integers(1, 2)))
    first_cpu = draw(st.sampled_from(["none", "host-passthrough", "maximum", "custom"]))
    cpus = []
    if first_cpu in ("host-passthrough", "maximum"):
        cpus.append(f"<cpu mode='{first_cpu}'/>")
    elif first_cpu == "custom":
        features_of_cpu = draw(st.lists(st.sampled_from(["vmx", "pcid", "lahf_lm"]), max_size=3))
        policies = "".join(
            f"<feature policy='{draw(st.sampled_from(['require', 'disable']))}' name='{name}'/>"
            for name in features_of_cpu
        )
        cpus.append(f"<cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model>{policies}</cpu>")
    if cpus and draw(st.booleans()):
        cpus.append(draw(st.sampled_from(["<cpu mode='host-passthrough'/>", "<cpu mode='maximum'/>"])))
    panics = ["<panic model='hyperv'/>"] * draw(st.sampled_from([0, 1, 1, 2]))
    devices = _split(draw, panics, draw(st.integers(1, 2)))
    oses = ["<os><type arch='x86_64' machine='pc'>hvm</type></os>"]
    if draw(st.booleans()):
        oses.append("<os><type arch='x86_64' machine='q35'>hvm</type></os>")
    kind = "kvm" if first_cpu in ("host-passthrough", "maximum") else "qemu"
    return (
        f"<domain type='{kind}'><name>duplicates</name><memory unit='KiB'>131072</memory><vcpu>2</vcpu>"
        + "".join(oses)
        + "".join(f"<features>{''.join(part)}</features>" for part in feature_parts)
        + "".join(cpus)
        + "".join(f"<clock offset='utc'>{''.join(part)}</clock>" for part in clocks)
        + "".join(
            f"<devices>{'<emulator>/usr/bin/qemu-system-x86_64</emulator>' if i == 0 else ''}{''.join(part)}</devices>"
            for i, part in enumerate(devices)
        )
        + "</domain>"
    )


TRANSLATED_SIMPLE = (
    "relaxed",
    "vapic",
    "vpindex",
    "runtime",
    "synic",
    "reset",
    "frequencies",
    "reenlightenment",
    "ipi",
    "evmcs",
    "avic",
)


@st.composite
def hyperv_children(draw: st.DrawFn) -> list[str]:
    children = []
    for name in draw(st.lists(st.sampled_from(TRANSLATED_SIMPLE), unique=True, max_size=8)):
        children.append(f"<{name} state='{draw(st.sampled_from(['on', 'off']))}'/>")
    if draw(st.booleans()):
        retries = draw(st.sampled_from(["retries='4095'", "retries='8191'", "retries='12287'", "retries='100'", ""]))
        children.append(f"<spinlocks state='{draw(st.sampled_from(['on', 'off']))}' {retries}/>")
    if draw(st.booleans()):
        value = draw(
            st.sampled_from(["value='KVM Hv'", "value='1234567890ab'", "value='far-too-long-id'", "value='a,b'", ""])
        )
        children.append(f"<vendor_id state='on' {value}/>")
    if draw(st.booleans()):
        direct = draw(st.sampled_from(["", "<direct state='on'/>", "<direct state='off'/>", "<bogus state='on'/>"]))
        children.append(f"<stimer state='{draw(st.sampled_from(['on', 'off']))}'>{direct}</stimer>")
    if draw(st.booleans()):
        nested = draw(st.sampled_from(["", "<direct state='on'/>", "<direct state='on'/><extended state='on'/>"]))
        children.append(f"<tlbflush state='on'>{nested}</tlbflush>")
    if draw(st.integers(0, 9)) == 0:
        children.append(draw(st.sampled_from(["<emsr_bitmap state='on'/>", "<vsm state='on'/>"])))
    if children and draw(st.integers(0, 9)) == 0:
        children.append(children[0].replace("'on'", "'off'"))  # a later duplicate wins
    return draw(st.permutations(children))


@st.composite
def domains(draw: st.DrawFn) -> str:
    """Whole domains of every kind libvirt translates to a -cpu value: CPU
    modes, <hyperv> modes and children (values libvirt refuses among them),
    <kvm>, timers and Hyper-V panic devices."""
    cpu_mode = draw(st.sampled_from(["none", "host-passthrough", "maximum", "custom"]))
    kind = "kvm" if cpu_mode in ("host-passthrough", "maximum") else "qemu"
    features = ["<acpi/>"]
    if draw(st.booleans()):
        features.append(f"<apic eoi='{draw(st.sampled_from(['on', 'off']))}'/>")
    mode = draw(st.sampled_from(["", "", "", " mode='custom'", " mode='passthrough'", " mode='host-model'"]))
    if draw(st.integers(0, 5)):
        features.append(f"<hyperv{mode}>{''.join(draw(hyperv_children()))}</hyperv>")
    kvm = draw(
        st.lists(
            st.sampled_from(
                ["<hidden state='on'/>", "<hidden state='off'/>", "<poll-control state='on'/>", "<pv-ipi state='off'/>"]
            ),
            unique=True,
            max_size=2,
        )
    )
    if kvm:
        features.append(f"<kvm>{''.join(kvm)}</kvm>")
    if draw(st.booleans()):
        features.append(f"<pvspinlock state='{draw(st.sampled_from(['on', 'off']))}'/>")
    if draw(st.booleans()):
        features.append(f"<pmu state='{draw(st.sampled_from(['on', 'off']))}'/>")
    cpu = ""
    if cpu_mode in ("host-passthrough", "maximum"):
        migratable = draw(st.sampled_from(["", " migratable='on'", " migratable='off'"]))
        cpu = f"<cpu mode='{cpu_mode}'{migratable}/>"
    elif cpu_mode == "custom":
        # models libvirt's own CPU map passes through unchanged (others gain
        # tokens such as intel-pt=off, which are no Hyper-V matter)
        model = draw(st.sampled_from(["qemu64", "kvm64", "Nehalem"]))
        wanted = draw(
            st.lists(st.sampled_from(["vmx", "pcid", "lahf_lm", "invtsc", "hypervisor"]), unique=True, max_size=3)
        )
        policies = "".join(
            f"<feature policy='{draw(st.sampled_from(['require', 'disable']))}' name='{f}'/>" for f in wanted
        )
        cpu = f"<cpu mode='custom' match='exact'><model fallback='allow'>{model}</model>{policies}</cpu>"
    timers = draw(
        st.lists(
            st.sampled_from(TIMERS),
            unique=True,
            max_size=3,
        )
    )
    panics = "<panic model='hyperv'/>" * draw(st.sampled_from([0, 0, 1, 2]))
    return (
        f"<domain type='{kind}'><name>generated</name><memory unit='KiB'>131072</memory><vcpu>2</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        f"<features>{''.join(features)}</features>{cpu}<clock offset='utc'>{''.join(timers)}</clock>"
        f"<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>{panics}</devices></domain>"
    )


def _misspelling(draw: st.DrawFn, name: str) -> str:
    """`name` with one slip: a letter dropped, doubled or swapped with the
    next, or a capital."""
    at = draw(st.integers(0, len(name) - 2))
    slip = draw(st.sampled_from(["drop", "double", "swap", "capital"]))
    if slip == "drop":
        return name[:at] + name[at + 1 :]
    if slip == "double":
        return name[: at + 1] + name[at:]
    if slip == "swap":
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    return name[:at] + name[at].upper() + name[at + 1 :]


@st.composite
def misspelt_domains(draw: st.DrawFn) -> str:
    """Generated domains (see `domains`) with a misspelt <hyperv> child
    among the others: one known name meant, several or none; on or off,
    written <x/> or <x></x>, a misspelt <stimer> maybe holding a child."""
    xml: str = draw(domains().filter(lambda xml: "</hyperv>" in xml))
    name = draw(st.sampled_from([*TRANSLATED_SIMPLE, "stimer", "tlbflush", "spinlocks", "vendor_id"]))
    written = _misspelling(draw, name)
    attributes = f" state='{draw(ON_OFF)}'" + (" retries='8191'" if name == "spinlocks" else "")
    content = draw(st.sampled_from(["", "<direct state='on'/>", "<bogus state='on'/>"])) if name == "stimer" else ""
    closed = not content and draw(st.booleans())
    child = f"<{written}{attributes}/>" if closed else f"<{written}{attributes}>{content}</{written}>"
    if draw(st.booleans()):  # the first child, or the last
        return xml.replace("</hyperv>", child + "</hyperv>", 1)
    start = xml.index(">", xml.index("<hyperv")) + 1
    return xml[:start] + child + xml[start:]
