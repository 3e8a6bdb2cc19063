# Copyright: hvtune developers
# MIT License (see the repository's pyproject.toml)


class ModuleDocFragment:
    """The options every hvtune.kvm module shares: where the domains are, how
    hvtune is started, and what it judges them for."""

    DOCUMENTATION = r"""
options:
  uri:
    description:
      - The libvirt daemon whose domains are judged, as C(hvtune --connect) takes it.
      - The module runs on the managed host, so C(qemu:///system) is that host's own daemon.
    type: str
    default: qemu:///system
  command:
    description:
      - The command line that starts hvtune on the managed host; the modules add the
        subcommand, its options and C(--format json).
      - A first word without a slash is looked up on E(PATH) and in the usual bin folders.
      - The P(hvtune.kvm.install#role) role links C(hvtune) into C(/usr/local/bin).
    type: list
    elements: str
    default: [hvtune]
  os:
    description:
      - The guest OS (C(linux), C(win10), C(win11), C(win2022), ...), as C(hvtune --os) takes it;
        some checks and every plan depend on it.
    type: str
  host:
    description:
      - The host the domains are judged on, as C(hvtune --host) takes it (a bundled profile,
        a file saved with C(hvtune host --save), C(this), or C(none)).
      - Default is hvtune's own (E(HVTUNE_HOST), else the managed host when it has C(/dev/kvm)).
    type: str
  migratable:
    description:
      - Keep the guests live-migratable (C(hvtune --migratable)); a hazard to migration then
        makes a domain C(will-not-migrate).
    type: bool
    default: false
requirements:
  - hvtune on the managed host (the P(hvtune.kvm.install#role) role installs it), with its
    C(libvirt) extra
notes:
  - The modules run the C(hvtune) command with C(--format json) and read its versioned
    records (C(hvtune/doctor/2), C(hvtune/fix-connect/1)); a record of another schema fails
    the task rather than being misread.
"""
