"""Values within QEMU's type ranges that are still wrong or risky.

QEMU's own ranges are enforced when a config is built or parsed. Here are
the stricter limits: libvirt's (errors when libvirt will read the config,
warnings otherwise) and the advised minimum for spinlock retries. The
finding builders also serve libvirt's parser checks, which meet the same
values child by child.
"""

from __future__ import annotations

from hvtune.catalog import load_catalog
from hvtune.checks.context import CheckContext
from hvtune.checks.refusal import libvirt_refusal
from hvtune.checks.rule import about
from hvtune.config import HypervConfig
from hvtune.documents.libvirt import LibvirtDomain
from hvtune.findings import ConfigChange, Finding, Severity


def _limit(code: str, feature: str, context: CheckContext, *, qemu: str, libvirt: str, fix: ConfigChange) -> Finding:
    """A value libvirt refuses (an error where libvirt reads the config) and
    QEMU accepts or mends (a warning otherwise)."""
    if context.target == "libvirt":
        return libvirt_refusal(code, feature, libvirt, context, fix)
    return Finding(code=code, severity=Severity.WARNING, feature=feature, message=qemu, fix=fix)


def spinlocks_finding(retries: int, context: CheckContext) -> Finding | None:
    limits = load_catalog().property("hv-spinlocks").range
    if limits.advised_min is None or retries >= limits.advised_min:
        return None
    advised = limits.advised or limits.advised_min
    return _limit(
        "spinlocks-too-low",
        "hv-spinlocks",
        context,
        qemu=(
            f"hv-spinlocks=0x{retries:x} ({retries}) is below 0xfff (4095): Windows gives up "
            "spinning on a contended lock almost at once and exits to the host far more often. "
            f"libvirt refuses it (HyperV spinlock retry count must be at least {limits.libvirt_min}); "
            f"virt-install, Proxmox and Nova use {advised} (0x{advised:x})"
        ),
        libvirt=f"XML error: HyperV spinlock retry count must be at least {limits.libvirt_min}",
        fix=ConfigChange({"hv-spinlocks": advised}),
    )


def vendor_id_finding(vendor: str, context: CheckContext) -> Finding | None:
    limit = load_catalog().property("hv-vendor-id").range.max_length
    assert limit is not None
    if len(vendor) > limit:
        return _limit(
            "vendor-id-too-long",
            "hv-vendor-id",
            context,
            qemu=(
                f"hv-vendor-id {vendor!r} has {len(vendor)} characters; CPUID holds {limit}, so QEMU "
                "truncates it (hv-vendor-id truncated to 12 characters) and libvirt refuses it "
                f"(HyperV vendor_id value must not be more than {limit} characters.)"
            ),
            libvirt=f"XML error: HyperV vendor_id value must not be more than {limit} characters.",
            fix=ConfigChange({"hv-vendor-id": vendor[:limit]}),
        )
    if "," not in vendor:
        return None
    fix = ConfigChange({"hv-vendor-id": vendor.replace(",", "")[:limit]})
    if context.target == "libvirt":
        return libvirt_refusal(
            "vendor-id-comma", "hv-vendor-id", "XML error: HyperV vendor_id value is invalid", context, fix
        )
    return Finding(
        code="vendor-id-comma",
        severity=Severity.ERROR,
        feature="hv-vendor-id",
        message=(
            f"hv-vendor-id {vendor!r} contains a comma, which cannot be passed on a QEMU "
            "command line; libvirt refuses it (HyperV vendor_id value is invalid)"
        ),
        fix=fix,
        refused_by="qemu",
    )


def _read_by_libvirts_parser(context: CheckContext) -> bool:
    """Whether libvirt reads these values from a domain: its parser meets
    them child by child (checks/libvirt.py), and only the children it reads
    (not those of a passthrough <hyperv> from 11.0)."""
    return context.target == "libvirt" and context.document_of(LibvirtDomain) is not None


@about("hv-spinlocks")
def check_spinlocks(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if _read_by_libvirts_parser(context):
        return []
    retries = config.get("hv-spinlocks")
    found = spinlocks_finding(retries, context) if isinstance(retries, int) else None
    return [found] if found else []


@about("hv-vendor-id")
def check_vendor_id(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if _read_by_libvirts_parser(context):
        return []
    vendor = config.get("hv-vendor-id")
    found = vendor_id_finding(vendor, context) if isinstance(vendor, str) else None
    return [found] if found else []
