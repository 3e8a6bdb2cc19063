#!/usr/bin/python
# Copyright: hvtune developers
# MIT License (see the repository's pyproject.toml)


DOCUMENTATION = r"""
module: domain_audit
short_description: Judge the Hyper-V enlightenments of a host's libvirt domains
version_added: 0.1.0
description:
  - Runs C(hvtune doctor --connect URI --format json) on the managed host and returns, for each
    domain, hvtune's verdict (C(will-not-start), C(will-not-migrate), C(slow), C(at-risk), C(ok))
    and its findings, as hvtune's own JSON records.
  - Never changes anything, so never reports C(changed).
  - Fails when asked to, with O(fail_on); and with hvtune's one-line error when the daemon does not
    answer or has no domains at all (C(hvtune doctor) exits 2 there).
author:
  - hvtune developers (!UNKNOWN)
extends_documentation_fragment:
  - hvtune.kvm.connection
options:
  domains:
    description:
      - The domains to judge, by name; all the daemon's domains when empty.
      - A name the daemon does not know fails the task.
    type: list
    elements: str
    default: []
  fail_on:
    description:
      - Fail the task when a judged domain's verdict is this one or a more urgent one
        (the order is C(will-not-start), C(will-not-migrate), C(slow), C(at-risk)).
      - Never fail on a verdict when not set.
    type: str
    choices: [will-not-start, will-not-migrate, slow, at-risk]
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no difference to show.
seealso:
  - module: hvtune.kvm.domain_fix
"""

EXAMPLES = r"""
- name: Judge every domain of the host's libvirt daemon
  hvtune.kvm.domain_audit:
  register: audit

- name: Name the domains that will not start
  ansible.builtin.debug:
    msg: "{{ audit.vms | selectattr('verdict', 'eq', 'will-not-start') | map(attribute='source') }}"

- name: Fail the play for a Windows guest that will not start or is slow
  hvtune.kvm.domain_audit:
    domains: [win11]
    os: win11
    fail_on: slow
"""

RETURN = r"""
uri:
  description: The daemon the domains were read from.
  returned: always
  type: str
  sample: qemu:///system
note:
  description: What hvtune looked at (C(note) of the C(hvtune/doctor/2) record's host section).
  returned: always
  type: str
  sample: checked the 3 domains defined at qemu:///system (libvirt 9.0.0)
host:
  description: The host the domains were judged on (C(null) when none was judged).
  returned: always
  type: dict
  sample: {name: this, probed: "2026-12-01T22:00:00Z", status: ok}
host_problems:
  description: Problems of the host itself, said once, with the domains they touch.
  returned: always
  type: list
  elements: dict
  sample: []
vms:
  description:
    - One record per judged domain, most urgent first, as in hvtune's C(hvtune/doctor/2) schema
      (keys C(source), C(config), C(problem), C(refused_by), C(verdict), C(biggest_loss), C(findings)).
    - Each finding has C(code), C(severity), C(feature), C(message), C(fix), C(refused_by),
      C(impact) and C(host).
  returned: always
  type: list
  elements: dict
  sample:
    - source: win11
      verdict: slow
      biggest_loss: idle host CPU load (hv-stimer)
      findings:
        - code: missing-benefit
          severity: warning
          feature: hv-stimer
          message: "hv-stimer (synthetic timers) is missing, which its plan for Windows 11 has: ..."
          fix: {hv-vpindex: true, hv-synic: true, hv-stimer: true}
          refused_by: null
          impact: speed
          host: null
verdicts:
  description: Each judged domain's verdict, by name.
  returned: always
  type: dict
  sample: {win2022: will-not-start, win11: slow}
failing:
  description: The judged domains whose verdict reaches O(fail_on), most urgent first (empty without it).
  returned: always
  type: list
  elements: str
  sample: [win2022]
unusable:
  description: The domains hvtune could not read as a VM definition, one line each.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402 (imports follow the documentation)
from ansible_collections.hvtune.kvm.plugins.module_utils.hvtune_cli import (  # noqa: E402
    connection_argument_spec,
    judging_arguments,
    run_hvtune,
)

# hvtune's verdicts, most urgent first (hvtune.verdict.Verdict)
URGENCY = ["will-not-start", "will-not-migrate", "slow", "at-risk", "ok"]


def judged(module, section):
    """The VM records of the named domains (all when none are named)."""
    names = module.params["domains"]
    if not names:
        return section["vms"]
    known = set(vm["source"] for vm in section["vms"])
    missing = [name for name in names if name not in known]
    if missing:
        module.fail_json(msg=f"{section['uri']}: no domain named {', '.join(repr(n) for n in missing)}")
    return [vm for vm in section["vms"] if vm["source"] in names]


def reaching(vms, threshold):
    """The names of the VMs whose verdict is `threshold` or more urgent."""
    if threshold is None:
        return []
    limit = URGENCY.index(threshold)
    return [vm["source"] for vm in vms if URGENCY.index(vm["verdict"]) <= limit]


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        domains=dict(type="list", elements="str", default=[]),
        fail_on=dict(type="str", choices=URGENCY[:-1]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    record = run_hvtune(module, ["doctor", *judging_arguments(module.params)], "hvtune/doctor/2")
    (section,) = record["hosts"]
    vms = judged(module, section)
    failing = reaching(vms, module.params["fail_on"])
    result = dict(
        changed=False,
        uri=section["uri"],
        note=section["note"],
        host=section["host"],
        host_problems=section["host_problems"],
        vms=vms,
        verdicts=dict((vm["source"], vm["verdict"]) for vm in vms),
        failing=failing,
        unusable=section["unusable"],
    )
    if failing:
        module.fail_json(
            msg=f"{len(failing)} domain(s) at or beyond {module.params['fail_on']}: {', '.join(failing)}", **result
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
