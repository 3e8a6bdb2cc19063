#!/usr/bin/python
# Copyright: hvtune developers
# MIT License (see the repository's pyproject.toml)


DOCUMENTATION = r"""
module: domain_fix
short_description: Fix the Hyper-V enlightenments of a libvirt domain's persistent definition
version_added: 0.1.0
description:
  - Runs C(hvtune fix --connect URI DOMAIN --yes --format json) on the managed host. hvtune saves
    the definition it replaces, then redefines the domain; the change applies when the domain next
    starts (a running domain's live state is never touched).
  - Reports C(changed) only when the definition changed; a second run finds nothing to change.
  - In check mode it runs without C(--yes), changes nothing, and reports whether the definition
    would change; with C(--diff) Ansible shows the domain XML diff.
  - hvtune refuses to replace a definition that changed while it worked; the task then fails and
    nothing changed.
  - Errors whose fix needs a decision (hvtune names no safe change) are left in RV(remaining) with a
    warning; the task does not fail for them.
author:
  - hvtune developers (!UNKNOWN)
extends_documentation_fragment:
  - hvtune.kvm.connection
options:
  domain:
    description:
      - The domain to fix, by name.
    type: str
    required: true
    aliases: [name]
  fixes:
    description:
      - V(errors) applies the fixes of error findings (what makes a domain C(will-not-start)).
      - V(all) applies the fixes of warnings too (C(hvtune fix --all)).
      - V(plan) makes the domain's Hyper-V setup hvtune's plan for the guest (C(hvtune fix --plan)),
        for O(os) or the OS the domain's metadata names.
    type: str
    choices: [errors, all, plan]
    default: errors
attributes:
  check_mode:
    support: full
    description: Runs hvtune without C(--yes); nothing is redefined.
  diff_mode:
    support: full
    description: The unified diff of the domain's XML definition, as hvtune prints it.
seealso:
  - module: hvtune.kvm.domain_audit
"""

EXAMPLES = r"""
- name: Fix what keeps a domain from starting
  hvtune.kvm.domain_fix:
    domain: win2022
  register: fixed

- name: Say where the replaced definition was saved
  ansible.builtin.debug:
    msg: "{{ fixed.backup }}"
  when: fixed is changed

- name: Give a Windows 11 guest hvtune's plan
  hvtune.kvm.domain_fix:
    domain: win11
    fixes: plan
    os: win11
"""

RETURN = r"""
source:
  description: The domain fixed.
  returned: always
  type: str
  sample: win2022
uri:
  description: The daemon the domain is defined at.
  returned: always
  type: str
  sample: qemu:///system
applied:
  description:
    - The findings whose fixes were applied (in check mode, would be), as in hvtune's
      C(hvtune/fix-connect/1) schema (C(code), C(severity), C(feature), C(message), C(fix),
      C(refused_by), C(impact), C(host)).
  returned: always
  type: list
  elements: dict
  sample:
    - code: missing-dependency
      severity: error
      feature: hv-stimer
      message: Hyper-V synthetic timers (hv-stimer) requires Hyper-V clocksources (hv-time)
      fix: {hv-time: true}
      refused_by: qemu
      impact: start
      host: null
remaining:
  description: The findings left after the fix (those whose fix needs a decision, or that
    O(fixes) did not cover).
  returned: always
  type: list
  elements: dict
  sample: []
plan_change:
  description: With O(fixes=plan), the change the plan makes, by QEMU property name.
  returned: always
  type: dict
  sample: {hv-stimer: true, hv-time: true}
redefined:
  description: Whether the domain was redefined (never in check mode).
  returned: always
  type: bool
  sample: true
backup:
  description: Where hvtune saved the definition it replaced (C(null) when it replaced none).
  returned: always
  type: str
  sample: /root/.local/state/hvtune/backups/win2022-20261201T220000.xml
running:
  description: Whether the domain is running; the change then applies at its next boot.
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402 (imports follow the documentation)
from ansible_collections.hvtune.kvm.plugins.module_utils.hvtune_cli import (  # noqa: E402
    connection_argument_spec,
    judging_arguments,
    run_hvtune,
)

FIXES = {"errors": [], "all": ["--all"], "plan": ["--plan"]}


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        domain=dict(type="str", required=True, aliases=["name"]),
        fixes=dict(type="str", choices=sorted(FIXES), default="errors"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    arguments = ["fix"] + judging_arguments(params) + [params["domain"]] + FIXES[params["fixes"]]
    if not module.check_mode:
        arguments.append("--yes")
    record = run_hvtune(module, arguments, "hvtune/fix-connect/1")
    result = dict(
        changed=record["changed"],
        source=record["source"],
        uri=record["uri"],
        applied=record["applied"],
        remaining=record["remaining"],
        plan_change=record["plan_change"],
        redefined=record["redefined"],
        backup=record["backup"],
        running=record["running"],
    )
    undecided = [finding["code"] for finding in record["remaining"] if finding["severity"] == "error"]
    if undecided:
        module.warn(f"{record['source']}: errors left that need a decision: {', '.join(undecided)}")
    if record["changed"]:
        result["diff"] = dict(prepared=record["diff"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
