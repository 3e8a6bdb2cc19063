"""A stack: one Debian release's kernel, QEMU, libvirt and Python, built
once with mmdebstrap from the mirror this machine's apt uses and kept in
the cache as what the L1 guest boots: the kernel, the few modules its
first root needs to reach the disk, and the root file system as an ext4
image (the L1 guest writes to a throw-away snapshot of it)."""

from __future__ import annotations

import json
import lzma
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from hvtune.bench.build import cache_folder
from hvtune.errors import InputError
from hvtune.sandbox.mirror import apt_mirror

# Every release the sandbox builds, boots and is judged on (tests/test_sandbox.py),
# with what its stack held when last built (sid moves on).
STACKS = {
    "bullseye": "Linux 5.10, QEMU 5.2, libvirt 7.0",
    "bookworm": "Linux 6.1, QEMU 7.2, libvirt 9.0",
    "trixie": "Linux 6.12, QEMU 10.0, libvirt 11.3",
    "sid": "Linux 7.2, QEMU 11.1, libvirt 12.8 in December 2026",
}
RELEASES = tuple(STACKS)
PACKAGES = (
    "linux-image-cloud-amd64",
    "qemu-system-x86",
    "libvirt-daemon-system",
    "libvirt-clients",
    "python3",  # the agent's (hvtune's probe runs on hvtune's own Python: sandbox.runtime)
)
# The versions a stack is known by (dpkg names; the kernel is found by its image).
VERSIONED = {"qemu": "qemu-system-x86", "libvirt": "libvirt-daemon", "python": "python3"}
# What the first root loads to reach the disk; ext4 is built into every release's kernel.
BOOT_MODULES = ("virtio_pci", "virtio_blk")
_EXCLUDED = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")
_BUILD_TIMEOUT = 1800


@dataclass(frozen=True)
class Stack:
    """A built stack: its release, the versions it holds (package
    versions as dpkg gives them, and the kernel's release string), the
    mirror it came from, and how long building it took."""

    release: str
    kernel: str
    versions: dict[str, str]
    mirror: str
    built: str
    build_seconds: float
    folder: Path

    @property
    def vmlinuz(self) -> Path:
        return self.folder / "vmlinuz"

    @property
    def image(self) -> Path:
        return self.folder / "root.ext4"

    def boot_modules(self) -> list[Path]:
        """The modules the first root loads, in load order."""
        return sorted((self.folder / "modules").glob("*.ko"))

    def upstream(self, name: str) -> str:
        """A program's upstream version (``qemu`` 1:7.2+dfsg-7 -> 7.2)."""
        version = self.versions[name].split(":", 1)[-1]
        return re.split(r"[+~-]", version, maxsplit=1)[0]

    def describe(self) -> dict[str, str]:
        """What a report says of the stack: release, kernel, QEMU, libvirt."""
        return {
            "release": self.release,
            "kernel": self.kernel,
            "qemu": self.upstream("qemu"),
            "libvirt": self.upstream("libvirt"),
        }


def default_release(os_release: Path = Path("/etc/os-release")) -> str:
    """This machine's Debian release when it is one the sandbox builds,
    else bookworm."""
    try:
        fields = dict(line.split("=", 1) for line in os_release.read_text().splitlines() if "=" in line)
    except OSError:
        return "bookworm"
    codename = fields.get("VERSION_CODENAME", "").strip('"')
    return codename if codename in RELEASES else "bookworm"


def stack_folder(release: str) -> Path:
    return cache_folder() / "sandbox" / release


def _record(folder: Path) -> Path:
    return folder / "stack.json"


def load_stack(release: str) -> Stack | None:
    """The cached stack of `release`, or None when it was never built (or
    its build did not finish)."""
    folder = stack_folder(release)
    try:
        data = json.loads(_record(folder).read_text())
        stack = Stack(folder=folder, **data)
    except (OSError, ValueError, TypeError):
        return None
    return stack if stack.image.is_file() and stack.vmlinuz.is_file() else None


def run_tool(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_BUILD_TIMEOUT)
    except FileNotFoundError:
        raise InputError("hvtune sandbox", None, f"{what} needs {command[0]}: apt-get install {command[0]}") from None
    except subprocess.TimeoutExpired:
        raise InputError("hvtune sandbox", None, f"{what} took more than {_BUILD_TIMEOUT} s") from None
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise InputError("hvtune sandbox", None, f"{what} failed: {said[-1] if said else f'exit {done.returncode}'}")
    return done


def _debootstrap(release: str, mirror: str, root: Path) -> None:
    command = [
        "mmdebstrap",
        "--variant=apt",
        "--include=" + ",".join(PACKAGES),
        # sid's Release file is often past its Valid-Until date on a mirror
        '--aptopt=Acquire::Check-Valid-Until "false"',
        *(f"--dpkgopt=path-exclude={pattern}" for pattern in _EXCLUDED),
        release,
        str(root),
        mirror,
    ]
    run_tool(command, f"building the {release} stack (mmdebstrap)")


def _versions(root: Path) -> dict[str, str]:
    done = run_tool(
        ["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f", "${Package} ${Version}\\n", *VERSIONED.values()],
        "reading the stack's package versions",
    )
    by_package = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    return {name: by_package[package] for name, package in VERSIONED.items() if by_package.get(package)}


def _module_order(modules: Path, wanted: tuple[str, ...]) -> list[str]:
    """The module files (relative to `modules`) to load for `wanted`, each
    after what it depends on, from the kernel's modules.dep; built-in
    modules are not in it and need nothing."""
    depends: dict[str, list[str]] = {}
    for line in (modules / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        depends[path] = rest.split()
    by_name = {re.sub(r"\.ko(\.\w+)?$", "", Path(path).name).replace("-", "_"): path for path in depends}
    order: list[str] = []

    def visit(path: str) -> None:
        for needed in reversed(depends.get(path, [])):  # modprobe loads the last listed first
            visit(needed)
        if path not in order:
            order.append(path)

    for name in wanted:
        if name in by_name:
            visit(by_name[name])
    return order


def _keep_boot_files(root: Path, folder: Path) -> str:
    """Copy the kernel and the boot modules out of the tree; the kernel's release."""
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise InputError("hvtune sandbox", None, f"the stack at {root} has no kernel in /boot")
    release = kernels[-1].name.removeprefix("vmlinuz-")
    shutil.copyfile(kernels[-1], folder / "vmlinuz")
    modules = root / "lib" / "modules" / release
    (folder / "modules").mkdir()
    for index, relative in enumerate(_module_order(modules, BOOT_MODULES)):
        data = (modules / relative).read_bytes()
        if relative.endswith(".xz"):  # busybox's insmod reads plain modules only
            data = lzma.decompress(data)
        name = re.sub(r"\.ko(\.\w+)?$", ".ko", Path(relative).name)
        (folder / "modules" / f"{index:02d}-{name}").write_bytes(data)
    return release


def make_image(root: Path, image: Path, *, room: int = 512 << 20) -> None:
    """An ext4 image holding the tree, with `room` bytes beyond it for what
    L1 writes."""
    used = sum(entry.stat(follow_symlinks=False).st_size for entry in root.rglob("*"))
    image.touch()
    os.truncate(image, used * 3 // 2 + room)
    run_tool(["mkfs.ext4", "-q", "-F", "-L", "hvtune-stack", "-d", str(root), str(image)], "making the stack's image")


def build_stack(release: str, *, say: Callable[[str], None] = lambda _: None) -> Stack:
    """Build `release`'s stack into the cache, replacing any earlier one."""
    if release not in RELEASES:
        raise InputError("hvtune sandbox", None, f"unknown release {release!r}; expected one of {', '.join(RELEASES)}")
    mirror = apt_mirror()
    folder = stack_folder(release)
    start = time.monotonic()
    say(f"building the {release} stack from {mirror} into {folder}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{release}-", dir=folder.parent) as work:
        staging = Path(work) / "stack"
        staging.mkdir()
        tree = Path(work) / "root"
        _debootstrap(release, mirror, tree)
        versions = _versions(tree)
        kernel = _keep_boot_files(tree, staging)
        make_image(tree, staging / "root.ext4")
        stack = Stack(
            release=release,
            kernel=kernel,
            versions=versions,
            mirror=mirror,
            built=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            build_seconds=round(time.monotonic() - start, 1),
            folder=folder,
        )
        record = {key: value for key, value in asdict(stack).items() if key != "folder"}
        _record(staging).write_text(json.dumps(record, indent=2) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    say(f"built the {release} stack in {stack.build_seconds:.0f} s")
    return stack


def ensure_stack(release: str, *, say: Callable[[str], None] = lambda _: None) -> Stack:
    """The cached stack of `release`, built first when there is none."""
    return load_stack(release) or build_stack(release, say=say)
