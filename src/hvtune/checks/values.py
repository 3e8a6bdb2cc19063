"""Values within QEMU's type ranges that are still wrong or risky.

QEMU's own ranges are enforced when a config is built or parsed. Here are
the stricter limits: libvirt's (errors when libvirt will read the config,
warnings otherwise) and the advised minimum for spinlock retries.
"""

from __future__ import annotations

from hvtune.catalog import load_catalog
from hvtune.checks.context import CheckContext
from hvtune.checks.rule import about
from hvtune.config import HypervConfig
from hvtune.findings import ConfigChange, Finding, Severity

ADVISED_SPINLOCKS = 8191


def _severity(context: CheckContext) -> Severity:
    return Severity.ERROR if context.target == "libvirt" else Severity.WARNING


@about("hv-spinlocks")
def check_spinlocks(config: HypervConfig, context: CheckContext) -> list[Finding]:
    retries = config.get("hv-spinlocks")
    limits = load_catalog().property("hv-spinlocks").range
    if not isinstance(retries, int) or limits.advised_min is None or retries >= limits.advised_min:
        return []
    return [
        Finding(
            code="spinlocks-too-low",
            severity=_severity(context),
            feature="hv-spinlocks",
            message=(
                f"hv-spinlocks=0x{retries:x} ({retries}) is below 0xfff (4095): Windows gives up "
                "spinning on a contended lock almost at once and exits to the host far more often. "
                f"libvirt refuses it (HyperV spinlock retry count must be at least {limits.libvirt_min}); "
                f"virt-install, Proxmox and Nova use {ADVISED_SPINLOCKS} (0x{ADVISED_SPINLOCKS:x})"
            ),
            fix=ConfigChange({"hv-spinlocks": ADVISED_SPINLOCKS}),
        )
    ]


@about("hv-vendor-id")
def check_vendor_id(config: HypervConfig, context: CheckContext) -> list[Finding]:
    vendor = config.get("hv-vendor-id")
    limit = load_catalog().property("hv-vendor-id").range.max_length
    if not isinstance(vendor, str) or limit is None:
        return []
    findings = []
    if "," in vendor:
        cleaned = vendor.replace(",", "")[:limit]
        findings.append(
            Finding(
                code="vendor-id-comma",
                severity=Severity.ERROR,
                feature="hv-vendor-id",
                message=(
                    f"hv-vendor-id {vendor!r} contains a comma, which cannot be passed on a QEMU "
                    "command line; libvirt refuses it (HyperV vendor_id value is invalid)"
                ),
                fix=ConfigChange({"hv-vendor-id": cleaned}),
            )
        )
    elif len(vendor) > limit:
        findings.append(
            Finding(
                code="vendor-id-too-long",
                severity=_severity(context),
                feature="hv-vendor-id",
                message=(
                    f"hv-vendor-id {vendor!r} has {len(vendor)} characters; CPUID holds {limit}, so QEMU "
                    "truncates it (hv-vendor-id truncated to 12 characters) and libvirt refuses it "
                    f"(HyperV vendor_id value must not be more than {limit} characters.)"
                ),
                fix=ConfigChange({"hv-vendor-id": vendor[:limit]}),
            )
        )
    return findings
