"""The QEMU format: ``-cpu`` values and whole QEMU command lines.

Parsing follows QEMU's ``x86_cpu_parse_featurestr`` and the global-property
machinery behind it:

* the model is everything before the first comma; the rest is split on
  commas and empty pieces are skipped (``strtok``);
* ``+feat`` / ``-feat`` are kept verbatim (no ``_`` to ``-``) and applied after
  every ``name=value``: first all ``+``, then all ``-``, so ``-`` wins;
* in ``name=value`` the name's ``_`` become ``-``; a bare name means ``on``;
  ``tsc-freq`` is a metric size renamed to ``tsc-frequency``;
* every ``name=value`` must be valid even when a later one overrides it,
  because QEMU applies them all in order and the last one wins;
* names are case-sensitive;
* told a QEMU release, only the properties that release has exist (the
  catalog's since and removed), and a refusal is worded, and tsc-freq read,
  as that release does (the catalog's [qemu] facts); told none, every
  property exists and the newest release's ways apply.

Hyper-V properties and the neighbours in the catalog are decoded into a
HypervConfig; every other token is kept verbatim.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from hvtune.catalog import Catalog, Entry, Neighbour, Property, either, in_qemu, load_catalog
from hvtune.config import CLOCKS, DEFAULT_MODEL, FrozenValues, HypervConfig, model_problem, token_problem
from hvtune.documents.qemu import QemuCommand
from hvtune.errors import Correction, InputError, Refusal
from hvtune.findings import ConfigChange
from hvtune.formats.base import Format
from hvtune.formats.lines import line_at
from hvtune.formats.qemu_values import (
    BOOL_WORDS,
    parse_metric_size,
    parse_metric_size_double,
    parse_signed,
    parse_unsigned,
)
from hvtune.formats.reading import Reading
from hvtune.formats.shell import ShellSyntaxError, Word, split_words
from hvtune.forms.qemu import cannot_apply, not_found
from hvtune.releases import Release, parse_release
from hvtune.valuetypes import VALUE_TYPES, Value, display


@dataclass(frozen=True)
class CpuOption:
    """A parsed ``-cpu`` value: the config plus what QEMU would warn about."""

    config: HypervConfig
    ambiguous: tuple[str, ...] = ()
    applied: tuple[str, ...] = ()  # the properties set by name=value, in the order QEMU applies them


class CpuTokens:
    """The pieces of a -cpu value, sorted into QEMU's three lists: the
    name=value assignments (names already with dashes, tsc-freq already
    converted) and the +feat and -feat switches."""

    def __init__(self) -> None:
        self.assignments: list[tuple[int, str, str, str]] = []  # (position, name, value, original)
        self.plus: list[tuple[int, str]] = []
        self.minus: list[tuple[int, str]] = []
        self.switched: set[str] = set()  # names seen so far in +/- form
        self.ambiguous: list[str] = []


# -cpu's own name for a property, renamed before QEMU sets it: no QOM
# name, so +tsc-freq is a property QEMU does not have.
_SIZE_NAME = "tsc-freq"


def _place(position: int, token: str) -> str:
    return f"-cpu token {position} {token!r}"


def qemu_release(version: str | None) -> Release | None:
    """The QEMU release `version` names (None: unknown). Raises packaging's
    InvalidVersion for what is no release number."""
    return parse_release(version) if version else None


def newer_than_known(version: str) -> str | None:
    """The warning for a QEMU release newer than the newest the catalog
    describes (None when it is not): it is judged as that one."""
    newest = load_catalog().qemu.newest
    release, known = parse_release(version), parse_release(newest)
    if (release.major, release.minor) <= (known.major, known.minor):
        return None
    return f"QEMU {version} is newer than the newest release hvtune knows ({newest}); judged as QEMU {newest}"


def _as_of(release: Release | None, first: str) -> bool:
    """Whether QEMU `release` reads or words as releases from `first` on
    do (an unknown release: as the newest does)."""
    return release is None or release >= parse_release(first)


def split_cpu(value: str, source: str = "--cpu", release: Release | None = None) -> tuple[str, CpuTokens]:
    """The model and the tokens of a -cpu value, as QEMU `release`'s
    x86_cpu_parse_featurestr splits them; nothing is decoded yet but
    tsc-freq, which it reads as that release reads sizes."""
    fixed_point = _as_of(release, load_catalog().qemu.metric_size_fixed_point)
    read_size = parse_metric_size if fixed_point else parse_metric_size_double
    model, _, features = value.partition(",")
    if not model:
        raise InputError(source, None, "-cpu needs a CPU model before the first comma")
    problem = model_problem(model)
    if problem:
        raise InputError(source, f"-cpu model {model!r}", problem)
    tokens = CpuTokens()
    pieces = [piece for piece in features.split(",") if piece]
    for position, piece in enumerate(pieces, start=2):
        if piece[0] in "+-":
            (tokens.plus if piece[0] == "+" else tokens.minus).append((position, piece[1:]))
            tokens.switched.add(piece[1:])
            continue
        name, has_value, text = piece.partition("=")
        name = name.replace("_", "-")
        text = text if has_value else "on"
        if name in tokens.switched:
            tokens.ambiguous.append(name)
        if name == _SIZE_NAME:
            hertz = read_size(text)
            if hertz is None or hertz > 2**63 - 1:
                said = f"bad numerical value {text}"
                raise Refusal("qemu", source, _place(position, piece), said, said=said)
            name, text = "tsc-frequency", str(hertz)
        tokens.assignments.append((position, name, text, piece))
    return model, tokens


class _Refused(Exception):
    """QEMU would refuse a token: QEMU's message (or hvtune's, when it is
    not QEMU's words: `quoted` False), hvtune's hint after it, and the one
    name the token surely meant (`meant`), when it names an unknown one."""

    def __init__(
        self, message: str, hint: str = "", *, quoted: bool = True, unknown: bool = False, meant: str | None = None
    ):
        super().__init__(f"{message}; {hint}" if hint else message)
        self.message = message
        self.quoted = quoted
        self.unknown = unknown
        self.meant = meant


def _not_found(catalog: Catalog, model: str, name: str, hint: str = "", meant: str | None = None) -> _Refused:
    message = not_found(model, name)
    if hint:
        return _Refused(message, hint, unknown=True, meant=meant)
    suggestions = catalog.suggestions(name)
    meant = catalog.correction(name)
    if meant and meant.lower() == name.lower().replace("_", "-"):
        return _Refused(message, f"names are case-sensitive: write {meant}", unknown=True, meant=meant)
    if suggestions:
        return _Refused(message, f"did you mean {meant or either(suggestions)}?", unknown=True, meant=meant)
    return _Refused(message, "no Hyper-V property has this name (see `hvtune list`)", unknown=True)


@lru_cache(maxsize=4096)
def _refused_unknown(name: str) -> bool:
    """Whether QEMU refuses an unknown name that hvtune must not keep: any
    hv-* name, and a known name written in another case (HV-RELAXED, KVM).
    Cached: a fleet's command lines repeat the same few other tokens."""
    folded = name.lower().replace("_", "-")
    return folded.startswith(("hv-", "x-hv-")) or load_catalog().entry(folded) is not None


@dataclass(frozen=True)
class _Known:
    """A name QEMU's CPU knows and hvtune models: its catalog entry, the CPU
    models that have it (empty: all) and how QEMU decodes its value."""

    entry: Entry
    models: tuple[str, ...]
    decode: Callable[[str], Value]


def _decoder(entry: Entry, name: str, release: Release | None) -> Callable[[str], Value]:
    """The decoding QEMU `release`'s string input visitor applies for this
    property, refusing in that release's words about `name` (the entry's
    name or the alias written)."""
    kind = VALUE_TYPES[entry.type]
    facts = load_catalog().qemu
    if entry.type == "bool":

        def decode_bool(text: str) -> Value:
            flag = BOOL_WORDS.get(text)
            if flag is None:
                raise _Refused(f"Parameter '{name}' expects 'on' or 'off'")
            return flag

        return decode_bool
    if entry.type == "string":

        def decode_string(text: str) -> Value:
            problem = kind.problem(text)
            if problem:
                raise _Refused(f"Parameter '{name}': {problem}", quoted=False)
            return text

        return decode_string
    if entry.type == "on-off-auto":
        names_parameter = _as_of(release, facts.enum_error_names_parameter)

        def decode_choice(text: str) -> Value:
            if text not in kind.choices:
                said = (
                    f"Parameter '{name}' does not accept value '{text}'"
                    if names_parameter
                    else f"Invalid parameter '{text}'"
                )
                raise _Refused(said, "on, off or auto")
            return text

        return decode_choice
    assert kind.minimum is not None and kind.maximum is not None
    low, high = kind.minimum, kind.maximum
    signed = kind.signed
    if isinstance(entry, Neighbour) and _as_of(release, facts.range_error_says_at_most):
        out_of_range = f"parameter '{name}' can be at most {high}"
    elif isinstance(entry, Neighbour):
        out_of_range = f"Property .{name} doesn't take value {{}} (minimum: {low}, maximum: {high})"
    else:
        out_of_range = f"Parameter '{name}' expects {kind.c_name}"

    def decode_number(text: str) -> Value:
        number = parse_signed(text) if signed else parse_unsigned(text)
        if number is None:
            raise _Refused(f"Parameter '{name}' expects {'int64' if signed else 'uint64'}")
        if not low <= number <= high:
            raise _Refused(out_of_range.format(number))
        return number

    return decode_number


@lru_cache(maxsize=64)
def _known(release: Release | None = None) -> dict[str, _Known]:
    """Every QEMU name (canonical or alias) hvtune decodes that QEMU
    `release` has (None: any release)."""
    catalog = load_catalog()
    table = {}
    for entry in catalog.entries:
        if in_qemu(entry, release):
            models = entry.models if isinstance(entry, Neighbour) else ()
            for name in (entry.name, *entry.aliases):
                table[name] = _Known(entry, models, _decoder(entry, name, release))
    return table


def qemu_names(release: Release | None) -> tuple[str, ...]:
    """The catalog's QEMU names (and aliases) QEMU `release` has."""
    return tuple(_known(release))


def _absent(catalog: Catalog, model: str, name: str, release: Release | None) -> _Refused:
    """The refusal of a name hvtune knows but QEMU `release` does not have:
    too new for it, or removed already."""
    entry = catalog.entry(name)
    assert isinstance(entry, Property) and release is not None
    since = entry.since
    when = (
        f"it came with QEMU {since.qemu}" if release < parse_release(since.qemu) else f"QEMU {since.removed} removed it"
    )
    return _not_found(catalog, model, name, f"QEMU {release.major}.{release.minor} has no {name} ({when})")


def _switch_refusal(entry: Entry, name: str, sign: str) -> _Refused:
    """QEMU's refusal of +name/-name for a property that is no on/off
    switch: the QObject visitor is handed a boolean where it wants a number
    or a string."""
    kind = VALUE_TYPES[entry.type]
    if kind.python is str:
        said = f"Invalid parameter type for '{name}', expected: string"
    elif kind.signed:
        said = f"Invalid parameter type for '{name}', expected: integer"
    else:
        said = f"Parameter '{name}' expects uint64"
    return _Refused(
        said,
        f"{sign}{name} only switches on/off properties; {entry.name} is a {entry.type} (write {entry.name}=<value>)",
    )


def _check_model(known: _Known, model: str, catalog: Catalog) -> None:
    if known.models and model not in known.models:
        name = known.entry.name
        models = " and ".join(known.models)
        raise _not_found(catalog, model, name, f"{name} exists only for the {models} CPU models")


@lru_cache(maxsize=4096)
def _switch(model: str, sign: str, name: str, release: Release | None) -> Entry | None:
    """Check one +feat/-feat token; None for a token hvtune keeps verbatim.
    Cached (a refusal raises, and is not cached)."""
    catalog = load_catalog()
    known = None if name == _SIZE_NAME else _known(release).get(name)
    if known is None:
        if name in _known() and name != _SIZE_NAME:
            raise _absent(catalog, model, name, release)
        if not _refused_unknown(name):
            return None
        dashed = name.replace("_", "-")
        hint = ""
        if dashed != name and catalog.entry(dashed):
            hint = f"the {sign}feature form does not turn '_' into '-': write {sign}{dashed}"
        raise _not_found(catalog, model, name, hint, dashed if hint else None)
    _check_model(known, model, catalog)
    if known.entry.type != "bool":
        raise _switch_refusal(known.entry, name, sign)
    return known.entry


def _kept(token: str) -> str:
    """A token hvtune keeps verbatim, once it is known QEMU could read it."""
    problem = token_problem(token)
    if problem:
        raise _Refused(problem, quoted=False)
    return token


def _replace_piece(value: str, position: int, piece: str) -> str:
    """A -cpu value with its piece at `position` (as split_cpu counts)
    now `piece`, and nothing else changed."""
    model, _, features = value.partition(",")
    written = features.split(",")
    written[[index for index, each in enumerate(written) if each][position - 2]] = piece
    return ",".join([model, *written])


def _correction(
    value: str, model: str, release: Release | None, position: int, original: str, meant: str
) -> Correction | None:
    """The correction of the refused piece `original` (at `position`) to
    one naming `meant` instead, spelt as it was written; None when QEMU
    `release` would refuse that piece too."""
    setting: Value
    try:
        if original[:1] in "+-":
            sign = original[0]
            entry = _switch(model, sign, meant, release)
            if entry is None:
                return None
            piece, name, setting = sign + meant, entry.name, sign == "+"
        else:
            written, has_value, text = original.partition("=")
            known = _known(release).get(meant)
            if known is None or meant == _SIZE_NAME:
                return None
            _check_model(known, model, load_catalog())
            setting = known.decode(text if has_value else "on")
            piece = (meant.replace("-", "_") if "_" in written else meant) + original[len(written) :]
            name = known.entry.name
    except _Refused:
        return None
    return Correction(original, piece, name, setting, _replace_piece(value, position, piece))


def parse_cpu(
    value: str, *, source: str = "--cpu", machine: str | None = None, qemu_version: str | None = None
) -> CpuOption:
    """Parse a ``-cpu`` value as QEMU `qemu_version` does (None: a QEMU
    that has every property hvtune knows, wording refusals as the newest
    does); raise InputError where QEMU would refuse the Hyper-V part or a
    neighbour. A release newer than the newest hvtune knows is judged as
    that one (the command line warns)."""
    catalog = load_catalog()
    release = qemu_release(qemu_version)
    table = _known(release)
    model, tokens = split_cpu(value, source, release)
    values: dict[str, Value] = {}
    extra: list[tuple[int, str]] = []
    position, original = 0, ""
    applied: tuple[str, str] | None = None
    applied_order: list[str] = []
    try:
        for position, name, text, original in tokens.assignments:
            applied = (name, text)  # what QEMU names when it cannot apply it
            known = table.get(name)
            if known is None:
                if name in _known():
                    raise _absent(catalog, model, name, release)
                if _refused_unknown(name):
                    raise _not_found(catalog, model, name)
                extra.append((position, _kept(original)))
                continue
            if known.models:
                _check_model(known, model, catalog)
            values[known.entry.name] = known.decode(text)
            applied_order.append(known.entry.name)
        for sign, flag, items in (("+", True, tokens.plus), ("-", False, tokens.minus)):
            for position, name in items:
                original, applied = sign + name, None
                entry = _switch(model, sign, name, release)
                if entry is None:
                    extra.append((position, _kept(original)))
                else:
                    values[entry.name] = flag
    except _Refused as refused:
        said = (
            (cannot_apply(model, *applied, refused.message) if applied else refused.message) if refused.quoted else None
        )
        meant = refused.meant
        correction = _correction(value, model, release, position, original, meant) if meant else None
        place = _place(position, original)
        raise Refusal(
            "qemu", source, place, str(refused), said=said, unknown=refused.unknown, correction=correction
        ) from None
    config = HypervConfig(
        model=model,
        values=FrozenValues(values),  # decoded above: already canonical and valid
        machine=machine,
        extra=tuple(token for _, token in sorted(extra)),
    )
    return CpuOption(config, tuple(dict.fromkeys(tokens.ambiguous)), tuple(dict.fromkeys(applied_order)))


def _render_value(entry: Entry, value: Value) -> str:
    if isinstance(entry, Property) and entry.notation == "hex" and isinstance(value, int):
        return f"0x{value:x}"
    return display(value)


def render_cpu(config: HypervConfig, *, source: str = "config") -> str:
    """The canonical ``-cpu`` value: the model, every other token as it was,
    then neighbours and Hyper-V properties as ``name=value`` in catalog order
    (dash names, ``=on``, hex spinlocks). The model defaults to qemu64, as
    QEMU's and libvirt's do."""
    catalog = load_catalog()
    if config.host_model:
        raise InputError(
            source,
            "<hyperv mode='host-model'>",
            "libvirt's host-model is expanded at start from the host's capabilities; "
            "it has no -cpu spelling of its own",
        )
    tokens = [config.model or DEFAULT_MODEL, *config.extra]
    for name, value in config.values.items():
        entry = catalog.entry(name)
        assert entry is not None
        text = _render_value(entry, value)
        if "," in text:
            problem = f"{name}={text!r} cannot be written on a QEMU command line: it contains a comma"
            raise InputError(source, name, problem)
        tokens.append(f"{name}={text}")
    return ",".join(tokens)


# --- whole command lines -------------------------------------------------

_QEMU_BINARIES = frozenset(("qemu-system-x86_64", "qemu-system-i386", "qemu-kvm", "kvm"))
_SHELL_SEPARATORS = (";", ";;", "&&", "||", "|", "&")


def _is_qemu_binary(word: str) -> bool:
    return word.rsplit("/", 1)[-1] in _QEMU_BINARIES


def _words(text: str, source: str) -> list[Word]:
    try:
        return split_words(text)
    except ShellSyntaxError as error:
        raise InputError(source, f"line {error.line}", f"cannot split the command line: {error}") from None


def _last_invocation(words: list[Word]) -> list[Word]:
    """The arguments of the last QEMU invocation in a script (or all words
    when no QEMU binary is named)."""
    start = 0
    for index, word in enumerate(words):
        if _is_qemu_binary(word.text):
            start = index + 1
    command: list[Word] = []
    for word in words[start:]:
        if word.text in _SHELL_SEPARATORS:
            break
        command.append(word)
    return command


def _machine_type(value: str) -> str:
    for part in value.split(","):
        key, has_value, text = part.partition("=")
        if not has_value:
            return key
        if key == "type":
            return text
    return ""


def _rtc_base(value: str) -> str | None:
    """The clock base of an -rtc value (base=utc|localtime|DATE), when it
    is one of CLOCKS; the last base= wins, as in QEMU's option parser."""
    bases = [part.partition("=")[2] for part in value.split(",") if part.startswith("base=")]
    return bases[-1] if bases and bases[-1] in CLOCKS else None


def parse_command_line(text: str, *, source: str, qemu_version: str | None = None) -> Reading[QemuCommand]:
    """Read the CPU configuration from a QEMU command line (a shell script, a
    libvirt .args file, a pasted ``ps`` line). The last ``-cpu`` wins, as in
    QEMU; ``-machine``/``-M`` give the machine type, ``-rtc base=`` the
    clock's base, ``-kernel`` marks a Linux guest booted directly."""
    command = _last_invocation(_words(text, source))
    cpu: Word | None = None
    machine: str | None = None
    clock: str | None = None
    guest_os: str | None = None
    for index, word in enumerate(command):
        option = word.text[1:] if word.text.startswith("--") else word.text
        following = command[index + 1] if index + 1 < len(command) else None
        if option in ("-cpu", "-machine", "-M", "-rtc", "-kernel") and following is None:
            raise InputError(source, f"line {word.line}", f"{word.text} needs a value")
        if option == "-cpu":
            cpu = following
        elif option in ("-machine", "-M") and following is not None:
            machine = _machine_type(following.text) or machine
        elif option == "-rtc" and following is not None:
            clock = _rtc_base(following.text) or clock
        elif option == "-kernel":
            guest_os = "linux"
    if cpu is None:
        if not command:
            raise InputError(source, None, "no QEMU command line found")
        return Reading(source, "qemu", HypervConfig(model=None, machine=machine, clock=clock), QemuCommand(), guest_os)
    try:
        parsed = parse_cpu(cpu.text, source=source, machine=machine, qemu_version=qemu_version)
    except Refusal as refused:
        raise _refusal_in(refused.within(source, f"line {cpu.line}"), text, (cpu.start, cpu.end)) from None
    except InputError as error:
        raise error.within(source, f"line {cpu.line}") from None
    found = QemuCommand(cpu.line, (cpu.start, cpu.end), parsed.ambiguous, parsed.applied)
    config = replace(parsed.config, clock=clock) if clock else parsed.config
    return Reading(source, "qemu", config, found, guest_os)


def _one_word(text: str) -> bool:
    """Whether `text` is one line (besides comments) with no blank in it:
    no command line, whatever quotes it holds."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return len(lines) == 1 and len(lines[0].split()) == 1


def parse_text(text: str, *, source: str, qemu_version: str | None = None) -> Reading[QemuCommand]:
    """A file holding either a whole QEMU command line or just a -cpu value,
    read as QEMU `qemu_version` reads it."""
    try:
        words = [word.text for word in _words(text, source)]
    except InputError:
        if not _one_word(text):
            raise
        words = []  # a -cpu value on its own, a quote in it (a vendor id may hold one): no shell reads it
    is_command = any(word in ("-cpu", "--cpu") or _is_qemu_binary(word) for word in words) or (
        words and words[0].startswith("-")
    )
    if is_command:
        return parse_command_line(text, source=source, qemu_version=qemu_version)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) != 1:
        raise InputError(source, None, "expected a QEMU command line with -cpu, or a single -cpu value")
    start = text.index(lines[0])
    span = (start, start + len(lines[0]))
    try:
        parsed = parse_cpu(lines[0], source=source, qemu_version=qemu_version)
    except Refusal as refused:
        raise _refusal_in(refused, text, span, shell=False) from None
    command = QemuCommand(text.count("\n", 0, start) + 1, span, parsed.ambiguous, parsed.applied, shell=False)
    return Reading(source, "qemu", parsed.config, command)


def _names_for(catalog: Catalog, piece: str) -> str | None:
    """The catalog property a -cpu piece sets, whatever its spelling."""
    if piece[:1] in "+-":
        entry = catalog.entry(piece[1:])
    else:
        name = piece.partition("=")[0].replace("_", "-")
        entry = catalog.entry("tsc-frequency" if name == _SIZE_NAME else name)
    return entry.name if entry else None


def _house_style(pieces: list[str]) -> tuple[bool, bool]:
    """Whether the Hyper-V pieces of a -cpu value mostly use underscores,
    and mostly switch features on with a bare name."""
    named = [piece for piece in pieces if piece[:1] not in "+-" and piece.replace("_", "-").startswith("hv-")]
    underscores = sum("_" in piece.partition("=")[0] for piece in named)
    bare = sum("=" not in piece for piece in named)
    return underscores * 2 > len(named), bare * 2 > len(named)


def patch_cpu(value: str, changes: Mapping[str, Value | None]) -> str:
    """A -cpu value with `changes` applied, changing nothing else: every
    piece that set a changed property goes, and its new value is appended,
    spelt the way the value's other Hyper-V pieces are."""
    catalog = load_catalog()
    model, _, features = value.partition(",")
    changed = {(entry.name if (entry := catalog.entry(name)) else name): v for name, v in changes.items()}
    written = features.split(",") if features else []
    pieces = [piece for piece in written if not piece or _names_for(catalog, piece) not in changed]
    underscores, bare = _house_style(pieces)
    for name, new in changed.items():
        entry = catalog.entry(name)
        if new is None or entry is None:
            continue
        spelt = name.replace("-", "_") if underscores else name
        pieces.append(spelt if bare and new is True else f"{spelt}={_render_value(entry, new)}")
    return ",".join([model, *pieces]) if pieces else model


def read_cpu_option(value: str, *, source: str = "--cpu", qemu_version: str | None = None) -> Reading[QemuCommand]:
    """A -cpu value given on its own, such as ``host,hv-relaxed,hv-stimer``,
    read as QEMU `qemu_version` reads it."""
    parsed = parse_cpu(value, source=source, qemu_version=qemu_version)
    return Reading(source, "qemu", parsed.config, QemuCommand(ambiguous=parsed.ambiguous, applied=parsed.applied))


def _quoted(value: str, original: str) -> str:
    """`value` quoted for a shell as `original` was (or when it must be)."""
    if original[:1] in ("'", '"') or value != shlex.quote(value):
        return "'" + value.replace("'", "'\\''") + "'"
    return value


def _with_cpu(text: str, span: tuple[int, int], value: str, *, shell: bool = True) -> str:
    """`text` with the -cpu value at `span` now `value`: in a `shell`
    command line quoted as it was (or as it must be), else as it is."""
    start, end = span
    return text[:start] + (_quoted(value, text[start:end]) if shell else value) + text[end:]


def _refusal_in(refused: Refusal, text: str, span: tuple[int, int], *, shell: bool = True) -> Refusal:
    """A refusal of the -cpu value at `span` of `text`, its correction
    (if any) made in the whole `text`."""
    if refused.correction is None:
        return refused
    return refused.corrected_in(_with_cpu(text, span, refused.correction.text, shell=shell))


def _token_line(text: str, span: tuple[int, int], name: str | None) -> int:
    """The line of the -cpu token (at `span` of `text`) that sets property
    `name` (``x``, ``x=...``, ``+x``, ``-x``; dashes or underscores), else
    of the -cpu value."""
    start, end = span
    found = None
    if name:
        spelt = re.escape(name).replace(r"\-", "[-_]")
        found = re.search(rf"(?<![\w-])[+-]?{spelt}(?![\w-])", text[start:end])
    return line_at(text, start + found.start() if found else start)


class QemuFormat(Format):
    """QEMU's -cpu value, alone or in a whole command line; a change edits
    only the -cpu argument, and in it only the pieces that set a changed
    property."""

    name = "qemu"
    title = "QEMU -cpu value or command line"
    target = "qemu"

    def sniff(self, text: str) -> bool:
        return True  # the last format asked: what no other recognises

    def read(self, text: str, *, source: str, qemu_version: str | None = None) -> Reading[QemuCommand]:
        return parse_text(text, source=source, qemu_version=qemu_version)

    def render(self, config: HypervConfig, *, source: str) -> str:
        return render_cpu(config, source=source) + "\n"

    def patch(self, reading: Reading[Any], text: str, change: ConfigChange) -> str:
        command = reading.document_of(QemuCommand)
        if command is None or command.span is None:
            raise InputError(reading.source, None, "has no -cpu option to fix; add one")
        start, end = command.span
        raw = text[start:end]
        cpu = shlex.split(raw)[0] if command.shell and raw[:1] in ("'", '"') else raw
        return _with_cpu(text, command.span, patch_cpu(cpu, change.values), shell=command.shell)

    def lines(self, reading: Reading[Any], features: Sequence[str | None]) -> list[int | None]:
        """The -cpu token that sets each property, else the -cpu value."""
        command = reading.document_of(QemuCommand)
        if reading.text is None or command is None or command.span is None:
            return super().lines(reading, features)
        text, span = reading.text, command.span
        return [_token_line(text, span, feature) for feature in features]


FORMAT = QemuFormat()
