"""Where a property lives in libvirt domain XML: a few kinds of form, each
able to show itself, read its value from a domain's facts, write a value
into domain text, and say which -cpu token libvirt builds from it.

Every catalog row that libvirt can express names its form
(``libvirt = { ... }`` in data/enlightenments.toml, neighbours included);
the reader (formats/libvirt.py), the patcher (formats/libvirt_patch.py),
the -cpu builder (formats/libvirt_cpu.py) and the snippets shown in fixes
loop over the catalog's forms instead of naming properties. The forms know
the elements; what to do with the text is the patcher's (``DomainEditor``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from hvtune.valuetypes import Value, display

if TYPE_CHECKING:
    from hvtune.documents.libvirt import LibvirtDomain, Timer

_ON_OFF = ("on", "off")


class DomainEditor(Protocol):
    """What a form needs from the patcher to write itself (libvirt_patch)."""

    def hyperv_child(self, element: str, value: Value | None, attribute: str | None) -> None: ...
    def hyperv_grandchild(self, element: str, child: str, value: bool | None) -> None: ...
    def hyperv_mode(self, mode: str | None, *, leaving: str) -> None: ...
    def timer(self, name: str, attribute: str, written: str | None) -> None: ...
    def panic(self, model: str, on: bool) -> None: ...
    def kvm_hint(self, hint: str, state: str | None) -> None: ...
    def cpu_feature(self, name: str, on: bool | None) -> None: ...
    def cpu_attribute(self, name: str, written: str | None) -> None: ...


class PartPlanner(Protocol):
    """What a form names for the patcher to take apart before writing it."""

    def hyperv(self, element: str | None = None) -> None: ...
    def kvm(self, hint: str) -> None: ...
    def timer(self, name: str) -> None: ...
    def panic(self, model: str) -> None: ...
    def cpu(self, feature: str | None = None) -> None: ...


class LibvirtForm(ABC):
    """One kind of place in domain XML."""

    @abstractmethod
    def snippet(self, value: Value) -> str:
        """The element that gives the property `value` (``...`` stands for
        an attribute's value when `value` is True)."""

    @abstractmethod
    def within(self, snippet: str) -> str:
        """`snippet` inside the elements around it."""

    def __str__(self) -> str:
        """The form that turns the property on, with the elements around it."""
        return self.within(self.snippet(True))

    @abstractmethod
    def spellings(self) -> tuple[str, ...]:
        """Names a libvirt user would type for this form."""

    @property
    @abstractmethod
    def path(self) -> str:
        """Where the form's element is, as an XPath from the domain element
        (steps apart by ``/``, each step an element: the path to a missing
        element's nearest ancestor is a prefix of it)."""

    @abstractmethod
    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        """What `domain` asks QEMU for through this form (None: nothing);
        `default` is the property's, for a number libvirt lets one omit."""

    @abstractmethod
    def write(self, editor: DomainEditor, value: Value | None) -> None:
        """Make the domain ask for `value` (None: remove the element)."""

    @abstractmethod
    def plan(self, planner: PartPlanner) -> None:
        """Name what `write` edits, for the patcher to take apart."""

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of a form as the catalog writes it (its table's
        keys, those without a value left out): one object per kind's keys."""

        def shape(keys: frozenset[str]) -> dict[str, Any]:
            fields = {key: {"type": "boolean" if key == "inverted" else "string"} for key in sorted(keys)}
            return {"type": "object", "properties": fields, "required": sorted(keys), "additionalProperties": False}

        return {"anyOf": [shape(keys) for keys, _kind in _KINDS]}


@dataclass(frozen=True)
class HypervChildForm(LibvirtForm):
    """``<hyperv><relaxed state='on'/>``, maybe with a value attribute
    (``<spinlocks state='on' retries='8191'/>``)."""

    element: str
    attribute: str | None = None

    @property
    def key(self) -> str:
        """The name in libvirt's <hyperv> order (hvtune's catalog)."""
        return self.element

    def snippet(self, value: Value) -> str:
        attribute = ""
        if self.attribute and value is not False:
            attribute = f" {self.attribute}='{'...' if value is True else display(value)}'"
        return f"<{self.element} state='{'off' if value is False else 'on'}'{attribute}/>"

    def within(self, snippet: str) -> str:
        return f"<features><hyperv>{snippet}</hyperv></features>"

    def spellings(self) -> tuple[str, ...]:
        return (self.element,)

    @property
    def path(self) -> str:
        return f"features/hyperv/{self.element}"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        settings = domain.settings
        state = settings.states.get(self.element)
        if state is None:
            return None
        if self.attribute is None:
            return state == "on"
        if state != "on":
            return None
        value = settings.values.get(self.element)
        return default if value is None and isinstance(default, int) and not isinstance(default, bool) else value

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.hyperv_child(self.element, value, self.attribute)

    def plan(self, planner: PartPlanner) -> None:
        planner.hyperv(self.element)


@dataclass(frozen=True)
class HypervGrandchildForm(LibvirtForm):
    """``<hyperv><stimer state='on'><direct state='on'/></stimer>``."""

    element: str
    child: str

    @property
    def key(self) -> str:
        return f"{self.element}.{self.child}"

    def snippet(self, value: Value) -> str:
        state = "off" if value is False else "on"
        return f"<{self.element} state='on'><{self.child} state='{state}'/></{self.element}>"

    def within(self, snippet: str) -> str:
        return f"<features><hyperv>{snippet}</hyperv></features>"

    def spellings(self) -> tuple[str, ...]:
        return (self.key, f"{self.element}_{self.child}")

    @property
    def path(self) -> str:
        return f"features/hyperv/{self.element}/{self.child}"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        state = domain.settings.nested.get(self.key)
        return None if state is None else state == "on"

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.hyperv_grandchild(self.element, self.child, None if value is None else bool(value))

    def plan(self, planner: PartPlanner) -> None:
        planner.hyperv(self.element)


@dataclass(frozen=True)
class HypervModeForm(LibvirtForm):
    """``<hyperv mode='passthrough'/>``."""

    mode: str

    def snippet(self, value: Value) -> str:
        return f"<hyperv mode='{self.mode}'/>"

    def within(self, snippet: str) -> str:
        return f"<features>{snippet}</features>"

    def spellings(self) -> tuple[str, ...]:
        return (f"mode.{self.mode}",)

    @property
    def path(self) -> str:
        return "features/hyperv"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        return True if domain.hyperv_mode == self.mode else None

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.hyperv_mode(self.mode if value is True else None, leaving=self.mode)

    def plan(self, planner: PartPlanner) -> None:
        planner.hyperv()


@dataclass(frozen=True)
class TimerForm(LibvirtForm):
    """``<clock><timer name='hypervclock' present='yes'/>``: on when any
    such timer is present (libvirt passes each one on)."""

    timer: str

    def snippet(self, value: Value) -> str:
        return f"<timer name='{self.timer}' present='{'yes' if value else 'no'}'/>"

    def within(self, snippet: str) -> str:
        return f"<clock>{snippet}</clock>"

    def spellings(self) -> tuple[str, ...]:
        return (self.timer,)

    @property
    def path(self) -> str:
        return f"clock/timer[@name='{self.timer}']"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        present = {timer.present for timer in domain.timers_named(self.timer)}
        return ("yes" in present) if present & {"yes", "no"} else None

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.timer(self.timer, "present", None if value is None else ("yes" if value else "no"))

    def plan(self, planner: PartPlanner) -> None:
        planner.timer(self.timer)

    def cpu_token(self, name: str, timer: Timer) -> str | None:
        """What libvirt puts on -cpu for `timer`, for property `name`."""
        return f"{name}=on" if timer.present == "yes" else None


@dataclass(frozen=True)
class TimerAttributeForm(LibvirtForm):
    """``<clock><timer name='tsc' frequency='...'/>``: the last one written
    counts (libvirt passes each on, QEMU keeps the last)."""

    timer: str
    attribute: str

    def snippet(self, value: Value) -> str:
        written = "..." if value is True else display(value)
        return f"<timer name='{self.timer}' {self.attribute}='{written}'/>"

    def within(self, snippet: str) -> str:
        return f"<clock>{snippet}</clock>"

    def spellings(self) -> tuple[str, ...]:
        return (f"{self.timer}.{self.attribute}",)

    @property
    def path(self) -> str:
        return f"clock/timer[@name='{self.timer}']"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        values = [getattr(timer, self.attribute) for timer in domain.timers_named(self.timer)]
        found = [value for value in values if value]
        return found[-1] if found else None

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.timer(self.timer, self.attribute, None if value is None else display(value))

    def plan(self, planner: PartPlanner) -> None:
        planner.timer(self.timer)

    def cpu_token(self, name: str, timer: Timer) -> str | None:
        value = getattr(timer, self.attribute)
        return f"{name}={value}" if value else None


@dataclass(frozen=True)
class PanicForm(LibvirtForm):
    """``<devices><panic model='hyperv'/>``."""

    panic: str

    def snippet(self, value: Value) -> str:
        return f"<panic model='{self.panic}'/>"

    def within(self, snippet: str) -> str:
        return f"<devices>{snippet}</devices>"

    def spellings(self) -> tuple[str, ...]:
        return (f"panic.{self.panic}",)

    @property
    def path(self) -> str:
        return f"devices/panic[@model='{self.panic}']"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        return True if domain.hyperv_panics else None

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.panic(self.panic, value is True)

    def plan(self, planner: PartPlanner) -> None:
        planner.panic(self.panic)


@dataclass(frozen=True)
class KvmHintForm(LibvirtForm):
    """``<features><kvm><hidden state='on'/></kvm>``; `inverted`: the hint
    on means the property off (hidden on is kvm=off)."""

    kvm: str
    inverted: bool = False

    def snippet(self, value: Value) -> str:
        return f"<{self.kvm} state='{'on' if bool(value) != self.inverted else 'off'}'/>"

    def within(self, snippet: str) -> str:
        return f"<features><kvm>{snippet}</kvm></features>"

    def spellings(self) -> tuple[str, ...]:
        return (f"kvm.{self.kvm}",)

    @property
    def path(self) -> str:
        return f"features/kvm/{self.kvm}"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        hints = domain.kvm_hints(merged=True)  # as the newest releases read them
        state = hints.get(self.kvm) if hints is not None else None
        return (state == "on") != self.inverted if state in _ON_OFF else None

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.kvm_hint(self.kvm, None if value is None else ("on" if bool(value) != self.inverted else "off"))

    def plan(self, planner: PartPlanner) -> None:
        planner.kvm(self.kvm)


@dataclass(frozen=True)
class CpuFeatureForm(LibvirtForm):
    """``<cpu><feature policy='require' name='vmx'/>``."""

    cpu_feature: str

    def snippet(self, value: Value) -> str:
        return f"<feature policy='{'require' if value else 'disable'}' name='{self.cpu_feature}'/>"

    def within(self, snippet: str) -> str:
        return f"<cpu>{snippet}</cpu>"

    def spellings(self) -> tuple[str, ...]:
        return (f"cpu.{self.cpu_feature}",)

    @property
    def path(self) -> str:
        return f"cpu/feature[@name='{self.cpu_feature}']"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        policy = domain.cpu_policies.get(self.cpu_feature)
        return None if policy is None else policy in ("require", "force")

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.cpu_feature(self.cpu_feature, None if value is None else bool(value))

    def plan(self, planner: PartPlanner) -> None:
        planner.cpu(self.cpu_feature)


@dataclass(frozen=True)
class CpuAttributeForm(LibvirtForm):
    """``<cpu mode='host-passthrough' migratable='on'/>`` (host-passthrough
    and maximum only)."""

    cpu_attribute: str

    def snippet(self, value: Value) -> str:
        return f"<cpu mode='host-passthrough' {self.cpu_attribute}='{'on' if value else 'off'}'/>"

    def within(self, snippet: str) -> str:
        return snippet

    def spellings(self) -> tuple[str, ...]:
        return (f"cpu.{self.cpu_attribute}",)

    @property
    def path(self) -> str:
        return "cpu"

    def read(self, domain: LibvirtDomain, default: Value) -> Value | None:
        cpu = domain.cpu
        if cpu is None or cpu.mode not in ("host-passthrough", "maximum"):
            return None
        written = getattr(cpu, self.cpu_attribute)
        return written == "on" if written in _ON_OFF else None

    def write(self, editor: DomainEditor, value: Value | None) -> None:
        editor.cpu_attribute(self.cpu_attribute, None if value is None else ("on" if value else "off"))

    def plan(self, planner: PartPlanner) -> None:
        planner.cpu()


def value_attribute(form: LibvirtForm | None) -> str | None:
    """The attribute a <hyperv> child holds its value in (``retries``,
    ``value``), or None."""
    return form.attribute if isinstance(form, HypervChildForm) else None


# Each kind by the keys of its table in the catalog, most specific first.
_KINDS: tuple[tuple[frozenset[str], type[LibvirtForm]], ...] = (
    (frozenset({"element", "child"}), HypervGrandchildForm),
    (frozenset({"element", "attribute"}), HypervChildForm),
    (frozenset({"element"}), HypervChildForm),
    (frozenset({"mode"}), HypervModeForm),
    (frozenset({"timer", "attribute"}), TimerAttributeForm),
    (frozenset({"timer"}), TimerForm),
    (frozenset({"panic"}), PanicForm),
    (frozenset({"kvm", "inverted"}), KvmHintForm),
    (frozenset({"kvm"}), KvmHintForm),
    (frozenset({"cpu_feature"}), CpuFeatureForm),
    (frozenset({"cpu_attribute"}), CpuAttributeForm),
)


def libvirt_form(table: dict[str, Any]) -> LibvirtForm:
    """The form a catalog row's ``libvirt = { ... }`` table describes."""
    keys = frozenset(table)
    kind = next((kind for wanted, kind in _KINDS if keys == wanted), None)
    if kind is None:
        raise ValueError(f"no libvirt form has exactly the keys {sorted(keys)}")
    return kind(**table)
