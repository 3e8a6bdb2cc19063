"""The Debian mirror this machine's apt is set up with: the sandbox fetches
every release's packages from it, never from a host of its own choosing."""

from __future__ import annotations

from pathlib import Path

from hvtune.errors import InputError

SOURCES = Path("/etc/apt")


def _deb822_uris(text: str) -> list[tuple[str, str]]:
    """(URI, first suite) of each deb stanza of a .sources file."""
    found = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes").lower() != "no":
            uris, suites = fields.get("uris", "").split(), fields.get("suites", "").split()
            found += [(uri, suites[0] if suites else "") for uri in uris]
    return found


def _one_line_uris(text: str) -> list[tuple[str, str]]:
    """(URI, suite) of each ``deb`` line of a sources.list."""
    found = []
    for line in text.splitlines():
        words = [word for word in line.split("#", 1)[0].split() if not word.startswith("[")]
        if len(words) >= 3 and words[0] == "deb":
            found.append((words[1], words[2]))
    return found


def apt_mirror(root: Path = SOURCES) -> str:
    """The URI of the first Debian archive apt uses (security and updates
    suites are passed over: they hold only a release's updates)."""
    entries: list[tuple[str, str]] = []
    for path in sorted((root / "sources.list.d").glob("*.sources")):
        entries += _deb822_uris(path.read_text(errors="replace"))
    for path in [root / "sources.list", *sorted((root / "sources.list.d").glob("*.list"))]:
        if path.is_file():
            entries += _one_line_uris(path.read_text(errors="replace"))
    for uri, suite in entries:
        if not suite.endswith(("-security", "-updates", "-backports")) and "security" not in uri:
            return uri.rstrip("/")
    raise InputError(str(root), None, "apt has no Debian archive configured: the sandbox fetches packages from it")
