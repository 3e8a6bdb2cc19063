"""What writing a Hyper-V setup into a domain costs (`convert --into`: an
11-feature config into a domain that has none), as a ratio to one full scan
of the same text (cutting every element of it into pieces once), for
domains of about 3 KB and 54 KB and larger, measured in the same process.

Before the patcher was rewritten, this edit scanned the whole document 57
times (30 ms on 3 KB, 0.75 s on 54 KB); now the text is cut once, only as
far as the change needs, and joined once.

Goal: at most one scan's worth (it was 57), at every size.

    python benchmarks/patch_scans.py [--repeat R]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping

from check_throughput import best_of
from domains import domain_xmls

from hvtune.formats.libvirt_patch import into_domain
from hvtune.formats.qemu import parse_cpu
from hvtune.formats.xmltext import Document, Part

ELEVEN = parse_cpu(
    "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,"
    "hv-frequencies,hv-tlbflush,hv-ipi,hv-time"
).config


class _Everywhere(Mapping[str, Part]):
    """`inside` for a part that takes every element apart, at any depth."""

    def __getitem__(self, tag: str) -> Part:
        return EVERYTHING

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


EVERYTHING = Part(every=True, inside=_Everywhere())


def _one_scan(text: str) -> str:
    """Cut every element of `text` into pieces (as the old patcher did
    for each edit) and join them again."""
    document = Document(text, EVERYTHING)
    pending = [document.root]
    while pending:
        pending.extend(pending.pop().children)
    return document.render()


def _without_features(text: str) -> str:
    """The domain with no <features> (so the edit writes all eleven)."""
    start, end = text.index("<features>"), text.index("</features>") + len("</features>")
    return text[:start] + text[end:]


def _grown(text: str, kilobytes: int) -> str:
    """The domain with its devices repeated up to about `kilobytes`."""
    head, rest = text.split("<devices>")
    devices, tail = rest.split("</devices>")
    times = max(1, (kilobytes * 1000 - len(head) - len(tail)) // max(len(devices), 1))
    return head + "<devices>" + devices * times + "</devices>" + tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    base = _without_features(domain_xmls(1)[0].decode())
    print(f"{'domain':>8} {'one scan ms':>12} {'into ms':>9} {'ratio':>6}")
    for kilobytes in (3, 54, 500):
        text = _grown(base, kilobytes)
        scan = best_of(args.repeat, lambda text=text: _one_scan(text))  # type: ignore[misc]
        edit = best_of(args.repeat, lambda text=text: into_domain(text, ELEVEN, source="bench"))  # type: ignore[misc]
        print(f"{len(text) / 1000:6.0f}KB {scan * 1e3:12.2f} {edit * 1e3:9.2f} {edit / scan:6.2f}")


if __name__ == "__main__":
    main()
