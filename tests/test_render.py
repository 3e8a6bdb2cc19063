"""Rendering: canonical -cpu strings that parse back to the same config and
that the real QEMU accepts with the same values."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.formats import json as json_format
from hvtune.formats.qemu import parse_cpu, render_cpu

from strategies import configs
from support.agreement import assert_agrees


@settings(max_examples=400, deadline=None)
@given(config=configs())
def test_parse_of_render_is_identity(config: HypervConfig) -> None:
    assert parse_cpu(render_cpu(config)).config == config


@settings(max_examples=400, deadline=None)
@given(config=configs())
def test_json_round_trip(config: HypervConfig) -> None:
    text = json_format.render(config)
    assert json_format.parse_text(text, source="t.json").config == config


@pytest.mark.qemu
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=configs(models=("qemu64", "max")))
def test_qemu_accepts_every_rendered_string_with_the_same_values(qemu, config: HypervConfig) -> None:  # type: ignore[no-untyped-def]
    assert_agrees(qemu, render_cpu(config))


def test_render_is_canonical() -> None:
    config = parse_cpu("host,hv_spinlocks=8191,+hv-vapic,hv_relaxed,+kvm_pv_eoi,kvm=off,hv_apicv").config
    assert render_cpu(config) == "host,+kvm_pv_eoi,kvm=off,hv-relaxed=on,hv-vapic=on,hv-avic=on,hv-spinlocks=0x1fff"


def test_render_refuses_what_a_command_line_cannot_hold() -> None:
    config = HypervConfig(model="host", values={"hv-vendor-id": "a,b"})
    with pytest.raises(InputError, match="contains a comma"):
        render_cpu(config)


def test_render_without_model_uses_qemus_default() -> None:
    assert render_cpu(HypervConfig(values={"hv-relaxed": True})) == "qemu64,hv-relaxed=on"
