"""Reads the Prometheus text exposition of GET /metrics (the metrics contract's series).

    scrape(server)                      -> Exposition
    Exposition.value(name, **labels)    sum of the samples of `name` whose labels include `labels`
    Exposition.samples(name)            [(labels dict, value)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import wire

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass
class Exposition:
    text: str
    types: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> "Exposition":
        e = cls(text)
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ", 3)
                e.types[name] = kind
                continue
            if line.startswith("#"):
                continue
            m = _SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            labels = {k: v.encode().decode("unicode_escape") for k, v in _LABEL.findall(m.group(3) or "")}
            e.rows.append((m.group(1), labels, float(m.group(4))))
        return e

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        return [(labels, v) for n, labels, v in self.rows if n == name]

    def value(self, name: str, **labels: str) -> float:
        return sum(v for l, v in self.samples(name) if all(l.get(k) == str(want) for k, want in labels.items()))

    def has(self, name: str, **labels: str) -> bool:
        return any(all(l.get(k) == str(want) for k, want in labels.items()) for l, _ in self.samples(name))


def scrape(server) -> Exposition:
    reply = wire.get(server, "/metrics")
    assert reply.status == 200, reply.body[:300]
    ctype = reply.headers.get("content-type", "")
    assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
    return Exposition.parse(reply.body.decode("utf-8"))
