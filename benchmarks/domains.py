"""Realistic generated libvirt domains (about 5 KB each) for the benchmarks.

Each is a Windows guest as virt-manager writes one (UEFI, TPM, SATA and
virtio disks, a NIC, SPICE, USB redirection, the guest agent channel), with
the Hyper-V setup of one of the corpus's -cpu strings (as `hvtune convert
--to libvirt` writes it), and a varying number of disks and NICs.
"""

from __future__ import annotations

import random
import uuid

from lxml import etree

from hvtune.formats.libvirt_patch import fragments
from hvtune.formats.qemu import parse_cpu

from corpus import cpu_strings

_DISK = """    <disk type="file" device="disk">
      <driver name="qemu" type="qcow2" discard="unmap"/>
      <source file="/var/lib/libvirt/images/{name}-{index}.qcow2"/>
      <target dev="{dev}" bus="{bus}"/>
      <address type="drive" controller="0" bus="0" target="0" unit="{index}"/>
    </disk>
"""
_NIC = """    <interface type="network">
      <mac address="52:54:00:{a:02x}:{b:02x}:{c:02x}"/>
      <source network="default"/>
      <model type="{model}"/>
      <address type="pci" domain="0x0000" bus="0x0{bus}" slot="0x00" function="0x0"/>
    </interface>
"""
_TEMPLATE = """<domain type="kvm">
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <libosinfo:os id="http://microsoft.com/win/{windows}"/>
    </libosinfo:libosinfo>
  </metadata>
  <memory unit="KiB">{memory}</memory>
  <currentMemory unit="KiB">{memory}</currentMemory>
  <vcpu placement="static">{vcpus}</vcpu>
  <cputune>
{pins}  </cputune>
  <sysinfo type="smbios">
    <bios>
      <entry name="vendor">American Megatrends Inc.</entry>
      <entry name="version">{bios}</entry>
    </bios>
    <system>
      <entry name="manufacturer">ASUS</entry>
      <entry name="product">System Product Name</entry>
      <entry name="serial">{serial}</entry>
    </system>
  </sysinfo>
  <os firmware="efi">
    <type arch="x86_64" machine="pc-q35-8.2">hvm</type>
    <smbios mode="sysinfo"/>
    <loader readonly="yes" secure="yes" type="pflash">/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>
    <nvram template="/usr/share/OVMF/OVMF_VARS_4M.ms.fd">/var/lib/libvirt/qemu/nvram/{name}_VARS.fd</nvram>
    <boot dev="hd"/>
  </os>
  <features>
    <acpi/>
    <apic/>
{features}    <vmport state="off"/>
    <smm state="on"/>
  </features>
  {cpu}
  <clock offset="localtime">
    <timer name="rtc" tickpolicy="catchup"/>
    <timer name="pit" tickpolicy="delay"/>
    <timer name="hpet" present="no"/>
{timers}  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <pm>
    <suspend-to-mem enabled="no"/>
    <suspend-to-disk enabled="no"/>
  </pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
{disks}    <disk type="file" device="cdrom">
      <driver name="qemu" type="raw"/>
      <source file="/var/lib/libvirt/boot/virtio-win.iso"/>
      <target dev="sdz" bus="sata"/>
      <readonly/>
    </disk>
    <controller type="usb" index="0" model="qemu-xhci" ports="15"/>
    <controller type="pci" index="0" model="pcie-root"/>
    <controller type="pci" index="1" model="pcie-root-port"/>
    <controller type="pci" index="2" model="pcie-root-port"/>
    <controller type="sata" index="0"/>
    <controller type="virtio-serial" index="0"/>
{nics}    <channel type="spicevmc">
      <target type="virtio" name="com.redhat.spice.0"/>
    </channel>
    <channel type="unix">
      <target type="virtio" name="org.qemu.guest_agent.0"/>
    </channel>
    <input type="tablet" bus="usb"/>
    <input type="mouse" bus="ps2"/>
    <input type="keyboard" bus="ps2"/>
    <tpm model="tpm-crb">
      <backend type="emulator" version="2.0"/>
    </tpm>
    <graphics type="spice" autoport="yes">
      <listen type="address"/>
      <image compression="off"/>
    </graphics>
    <sound model="ich9"/>
    <audio id="1" type="spice"/>
    <video>
      <model type="qxl" ram="65536" vram="65536" vgamem="16384" heads="1" primary="yes"/>
    </video>
    <redirdev bus="usb" type="spicevmc"/>
    <redirdev bus="usb" type="spicevmc"/>
    <memballoon model="virtio">
      <address type="pci" domain="0x0000" bus="0x05" slot="0x00" function="0x0"/>
    </memballoon>
    <rng model="virtio">
      <backend model="random">/dev/urandom</backend>
      <address type="pci" domain="0x0000" bus="0x06" slot="0x00" function="0x0"/>
    </rng>
{devices}  </devices>
</domain>
"""


def _cpu(model: str) -> str:
    if model in ("host", "max"):
        return '<cpu mode="host-passthrough" check="none" migratable="on"/>'
    return f'<cpu mode="custom" match="exact" check="partial"><model fallback="forbid">{model}</model></cpu>'


def _hyperv_parts(cpu: str) -> dict[str, str]:
    """The pieces `hvtune convert --to libvirt` writes for `cpu`, by parent."""
    written = etree.fromstring(f"<parts>{fragments(parse_cpu(cpu).config)}</parts>")
    parts = {"features": "", "cpu": "", "timers": "", "devices": ""}
    for parent in written:
        inner = "".join(etree.tostring(child, encoding="unicode") for child in parent)
        if parent.tag == "cpu":
            parts["cpu"] = etree.tostring(parent, encoding="unicode")
        else:
            parts["timers" if parent.tag == "clock" else parent.tag] = "".join(
                "    " + line + "\n" for line in inner.replace("\n  ", "\n").splitlines() if line.strip()
            )
    return parts


def domain_xmls(count: int, seed: int = 2026) -> list[bytes]:
    """`count` domains as the bytes a file or virsh would give."""
    rng = random.Random(seed)
    domains = []
    for index, cpu in enumerate(cpu_strings(count, seed)):
        name = f"win-{index:05d}"
        disks = "".join(
            _DISK.format(name=name, index=i, dev=f"sd{'abcdefgh'[i]}", bus=rng.choice(("sata", "virtio")))
            for i in range(rng.randint(1, 4))
        )
        nics = "".join(
            _NIC.format(a=rng.randrange(256), b=rng.randrange(256), c=rng.randrange(256), model=model, bus=i + 1)
            for i, model in enumerate(rng.sample(("e1000e", "virtio", "rtl8139"), rng.randint(1, 2)))
        )
        vcpus = rng.choice((2, 4, 8, 16))
        pins = "".join(f'    <vcpupin vcpu="{v}" cpuset="{v + 2}"/>\n' for v in range(vcpus))
        parts = _hyperv_parts(cpu)
        parts["cpu"] = parts["cpu"] or _cpu(parse_cpu(cpu).config.model)
        text = _TEMPLATE.format(
            name=name,
            uuid=uuid.UUID(int=rng.getrandbits(128)),
            windows=rng.choice(("10", "11", "2k19", "2k22")),
            memory=rng.choice((4, 8, 16, 32)) * 1048576,
            vcpus=vcpus,
            pins=pins,
            bios=f"{rng.randint(1000, 4000)}",
            serial=f"{rng.getrandbits(48):012X}",
            disks=disks,
            nics=nics,
            **parts,
        )
        domains.append(text.encode())
    return domains
