"""The QEMU of every Debian release in the matrix judges hvtune's -cpu
parser: the release's qemu-system-x86_64 (sandbox.userland, TCG, paused)
reads back the -cpu strings hvtune's parser tests use, one per catalog
name and form, and generated ones; hvtune, told that QEMU release, must
accept what it accepts with the same values and refuse what it refuses
with QEMU's own first line, properties that release does not have yet
(or any more) included. Agreement is counted per release (the table at
the end of the run); every disagreement fails."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvtune.catalog import Neighbour, load_catalog
from hvtune.valuetypes import display

from strategies import NUMBER, OTHER_TOKENS, value_for
from support.cpu_strings import TRICKY
from support.matrix import count
from support.qemu_matrix import judge, property_disagreement
from support.sandbox import sandbox_stack

RELEASES = ("bullseye", "bookworm", "trixie", "sid")
MODELS = ("qemu64", "max")


def catalog_strings() -> list[str]:
    """Every catalog name and alias in each form QEMU reads: name=value (a
    value of its type), the bare name, +name, and with underscores; on max,
    and on qemu64 for the names only some models have; and each alias with
    a value of no type (QEMU names the alias in its refusal)."""
    strings = []
    for entry in load_catalog().entries:
        value = display(entry.default)
        strings += [f"max,{alias}=bogus" for alias in entry.aliases]
        models = ("qemu64", "max") if isinstance(entry, Neighbour) and entry.models else ("max",)
        for name, model in itertools.product((entry.name, *entry.aliases), models):
            underscored = name.replace("-", "_")
            strings += [
                f"{model},{name}={value}",
                f"{model},{name}",
                f"{model},+{name}",
                f"{model},{underscored}={value}",
            ]
    return strings


CORPUS = [cpu for cpu, _ in TRICKY] + catalog_strings()


def _judged(release: str, cpus: list[str]) -> None:
    """The release's QEMU judges `cpus`; counted, and every disagreement
    named."""
    problems = judge(sandbox_stack(release), cpus)
    count(release, "qemu", len(set(cpus)), len(set(cpus)) - len(problems))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("release", RELEASES)
def test_each_release_has_the_properties_the_catalog_gives_it(release: str) -> None:
    assert property_disagreement(sandbox_stack(release)) is None


@pytest.mark.parametrize("release", RELEASES)
def test_each_release_reads_the_corpus_as_hvtune_does(release: str) -> None:
    _judged(release, CORPUS)


NAMES = st.sampled_from(sorted(load_catalog().names))
WORDS = st.sampled_from(["on", "off", "yes", "no", "true", "false", "y", "n", "auto", "On", "1", "", "0x1fff"])


@st.composite
def cpu_values(draw: st.DrawFn) -> str:
    """A -cpu value of catalog names in any form, with values of their
    type, boolean words, odd numbers, and other tokens."""
    catalog = load_catalog()
    tokens = [draw(st.sampled_from(MODELS))]
    for name in draw(st.lists(NAMES, min_size=1, max_size=5)):
        entry = catalog.entry(name)
        assert entry is not None
        spelt = draw(st.sampled_from([name, name.replace("-", "_")]))
        value = draw(st.one_of(value_for(entry.type).map(display), WORDS, NUMBER)).replace(",", "")
        tokens.append(draw(st.sampled_from([spelt, f"{spelt}={value}", f"+{spelt}", f"-{spelt}"])))
    tokens += draw(st.lists(st.sampled_from(OTHER_TOKENS), max_size=2))
    return ",".join(tokens)


@pytest.mark.parametrize("release", RELEASES)
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(cpus=st.lists(cpu_values(), min_size=25, max_size=25, unique=True))
def test_each_release_reads_generated_strings_as_hvtune_does(release: str, cpus: list[str]) -> None:
    _judged(release, cpus)
