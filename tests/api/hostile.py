"""Hostile HTTP requests for the fuzz campaign, drawn from a seeded `random.Random` so that
any failure reproduces from its seed and index.

Each request aims at one real route: most look almost right (a valid body with one thing
wrong, a real tenant with a bad token) so they get past the first check; the rest are plainly
hostile (oversized, deeply nested, not JSON, huge headers, odd paths and methods).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from governance.bounds import BODY_MAX_BYTES
from governance.risk_events import RiskEventKind
from governance.roles import Role
from governance.stages import LifecycleStage

HOSTILE_TEXT = [
    "",
    " ",
    "a" * 201,
    "a" * 5000,
    "..",
    "../../etc/passwd",
    "%00",
    "\x00",
    "nul\x00byte",
    "💥",
    "Ω≈ç√∫",
    "\u202eevil",
    "\ud800",  # a lone surrogate: valid JSON text, not encodable UTF-8
    "' OR '1'='1",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "null",
    "-1",
    "1e309",
    "NaN",
    "\\",
    "a/b",
    "\r\nX-Injected: 1",
]
# Printable in a URL as they are (the rest of HOSTILE_TEXT is percent-encoded there).
RAW_IN_PATH = ["..", "a/b", "%00", "%2F", "💥", "a%zz", "~"]
ODD_NUMBERS: list[Any] = [0, -1, 2**31, 2**53, 2**70, -(2**64), 1e308, -0.0, 1.5]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/merge-patch+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "💥/💥",
]


QueryItems = list[tuple[str, str | int | float | bool | None]]


@dataclass
class Hostile:
    method: str
    path: str  # encoded, ready to send
    params: QueryItems
    headers: list[tuple[bytes, bytes]]
    content: bytes | None

    def describe(self) -> str:
        body = (self.content or b"")[:200]
        names = [k.decode() for k, _ in self.headers]
        return f"{self.method} {self.path[:200]} params={self.params[:5]} headers={names} {body!r}"


@dataclass(frozen=True)
class Route:
    path: str
    methods: frozenset[str]
    form: bool = False  # the web UI takes forms


class Hostiles:
    def __init__(self, rng: random.Random, routes: list[Route], tenant: str, tokens: list[str]):
        self.rng = rng
        self.routes = routes
        self.tenant = tenant
        self.tokens = tokens

    def next(self) -> Hostile:
        rng = self.rng
        # Half aim at the API's writes, where a refusal matters most.
        writes = [r for r in self.routes if r.path.startswith("/v1/") and "POST" in r.methods]
        route = rng.choice(writes if rng.random() < 0.5 else self.routes)
        method = rng.choice(sorted(route.methods)) if rng.random() < 0.85 else rng.choice(METHODS)
        headers = self._headers()
        content = None
        if method in ("POST", "PUT", "PATCH") or rng.random() < 0.05:
            content, content_type = self._body(route)
            if content_type is not None:
                headers.append((b"content-type", content_type.encode("utf-8")))
        return Hostile(method, self._path(route.path), self._params(route), headers, content)

    def _path(self, template: str) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            real = {
                "tenant": [self.tenant] * 6 + ["elsewhere"],
                "uid": ["quant"] * 6 + ["nobody"],
                "strategy_id": ["momo", "calm", "ghost"],
                "metrics_hash": ["0" * 64, "f" * 63],
            }.get(name, ["x"])
            if self.rng.random() < 0.75:
                return self.rng.choice(real)
            if self.rng.random() < 0.2:
                return self.rng.choice(RAW_IN_PATH)
            return quote(self._text(), safe="")

        path = re.sub(r"\{(\w+)\}", fill, template)
        roll = self.rng.random()
        if roll < 0.03:
            path += "/" + "x" * 10_000
        elif roll < 0.06:
            path = path.replace("/", "//", 1)
        elif roll < 0.08:
            path += "/%2e%2e/%2e%2e/healthz"
        return path

    def _params(self, route: Route) -> QueryItems:
        rng = self.rng
        if route.path == "/v1/gate" and rng.random() < 0.8:
            names = ["tenant", "uid", "strategy", "marketdata_age_ms", "agent_state"]
            names += ["trading_mode", "broker_host", "kill_switch"]
            sane = {
                "tenant": self.tenant,
                "uid": "quant",
                "strategy": "momo",
                "marketdata_age_ms": "50",
                "agent_state": "READY",
                "trading_mode": "paper",
                "broker_host": "paper-api.alpaca.markets",
                "kill_switch": "false",
            }
            odd = ["nan", "inf", "-inf", "1e309", "-5", "yes", "2", "", "a" * 400, "\x00"]
            return [(n, sane[n] if rng.random() < 0.7 else rng.choice(odd)) for n in names]
        if rng.random() < 0.2:
            return [(self._text(), self._text()) for _ in range(rng.randint(1, 4))]
        return []

    def _headers(self) -> list[tuple[bytes, bytes]]:
        rng = self.rng
        headers: list[tuple[bytes, bytes]] = []
        roll = rng.random()
        token = rng.choice(self.tokens)
        if roll < 0.7:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        elif roll < 0.75:
            headers.append((b"cookie", f"stratgate_token={token}".encode()))
        elif roll < 0.85:
            bad = [
                b"Bearer ",
                b"Bearer " + b"A" * 100_000,
                b"Basic dXNlcjpwYXNz",
                b"Bearer a.b.c",
                b"Bearer \xff\xfe\x00",
                b"bearer  " + token.encode() + b"  ",
                token.encode(),
                b"Bearer " + "💥".encode(),
            ]
            headers.append((b"authorization", rng.choice(bad)))
        if rng.random() < 0.1:
            headers.append((b"x-request-id", b"r" * rng.choice([10, 8_000, 60_000])))
        if rng.random() < 0.1:
            headers.append((b"traceparent", rng.choice([b"00-", b"-" * 50, b"\xff" * 10])))
        if rng.random() < 0.05:
            headers += [(f"x-junk-{i}".encode(), b"j" * 100) for i in range(200)]
        if rng.random() < 0.05:
            headers.append((b"content-length", rng.choice([b"-1", b"abc", b"99999999999"])))
        return headers

    def _body(self, route: Route) -> tuple[bytes, str | None]:
        rng = self.rng
        content_type = "application/x-www-form-urlencoded" if route.form else "application/json"
        if rng.random() < 0.15:
            content_type = rng.choice(CONTENT_TYPES)
        elif rng.random() < 0.05:
            return self._json_bytes(self._valid(route)), None  # no content type at all
        roll = rng.random()
        if roll < 0.5:
            value = self._mutated(self._valid(route))
        elif roll < 0.7:
            value = self._random_json(4)
        elif roll < 0.8:
            depth = rng.choice([33, 300, 900, 10_000])
            opening, closing = rng.choice([("[", "]"), ('{"a":', "}")])
            inner = "1" if opening != "[" else ""
            return (opening * depth + inner + closing * depth).encode(), content_type
        elif roll < 0.85:
            size = rng.choice([BODY_MAX_BYTES + 1, 2 * BODY_MAX_BYTES, 3 * 1024 * 1024])
            return b'{"pad": "' + b"x" * size + b'"}', content_type
        else:
            junk = [b"{", b"[1,", b"\xff\xfe\xfd", b"{'a': 1}", b"nul\x00", b"", b"--xyz--"]
            return rng.choice([*junk, rng.randbytes(rng.randint(1, 300))]), content_type
        if route.form and isinstance(value, dict) and rng.random() < 0.8:
            fields = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}
            return _form(fields), content_type
        return self._json_bytes(value), content_type

    def _json_bytes(self, value: Any) -> bytes:
        # NaN and Infinity are not JSON, but Python's parser takes them: so must we, safely.
        return json.dumps(value, allow_nan=True).encode()

    def _valid(self, route: Route) -> dict[str, Any]:
        rng = self.rng
        path = route.path
        if path.endswith("/risk-events"):
            return {
                "event_id": f"f{rng.randrange(10**9)}",
                "uid": "quant",
                "strategy_id": rng.choice(["momo", "calm", "ghost"]),
                "kind": rng.choice(list(RiskEventKind)).value,
                "severity": rng.choice([None, "warning", "critical"]),
                "details": {"trace_id": "t1"} if rng.random() < 0.5 else self._details(),
            }
        if path.endswith("/promotion-requests"):
            stage = rng.choice(list(LifecycleStage)).value
            return {"uid": "quant", "strategy_id": "calm", "to_stage": stage, "reason": "fuzz"}
        if path.endswith(("/approve", "/reject")):
            role = rng.choice(list(Role)).value
            return {"role": role, "comment": "fuzz"}
        if path.endswith("/login"):
            return {"token": rng.choice(self.tokens)}
        return {"reason": "fuzz"}

    def _mutated(self, body: dict[str, Any]) -> Any:
        rng = self.rng
        key = rng.choice(sorted(body))
        roll = rng.random()
        if roll < 0.25:
            return body  # valid as it is
        if roll < 0.25:
            del body[key]
        elif roll < 0.4:
            body[self._key()] = self._random_json(2)
        elif roll < 0.55:
            body[key] = self._random_json(3)
        elif roll < 0.75:
            body[key] = rng.choice(HOSTILE_TEXT)
        elif roll < 0.85:
            body[key] = rng.choice([*ODD_NUMBERS, float("nan"), float("inf")])
        elif roll < 0.95:
            deep: Any = "x"
            for _ in range(rng.randint(8, 31)):
                deep = {"k": deep}
            body["details" if rng.random() < 0.7 else key] = deep
        else:
            return [body] * rng.choice([0, 1, 2, 501])
        return body

    def _random_json(self, depth: int) -> Any:
        rng = self.rng
        roll = rng.random()
        if depth <= 0 or roll < 0.4:
            return rng.choice([None, True, False, self._text(), rng.choice(ODD_NUMBERS)])
        if roll < 0.7:
            return [self._random_json(depth - 1) for _ in range(rng.randint(0, 4))]
        return {self._key(): self._random_json(depth - 1) for _ in range(rng.randint(0, 4))}

    def _details(self) -> dict[str, Any]:
        return {self._key(): self._random_json(2) for _ in range(self.rng.randint(0, 3))}

    def _key(self) -> str:
        """A JSON object key: JSON text can carry a lone surrogate there too."""
        return "\ud800" if self.rng.random() < 0.05 else self._text()

    def _text(self) -> str:
        """Hostile text that can still be sent in a URL or form (no lone surrogate)."""
        rng = self.rng
        if rng.random() < 0.5:
            return rng.choice([t for t in HOSTILE_TEXT if t != "\ud800"])
        return "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(0, 12)))


def _form(fields: dict[str, str]) -> bytes:
    return "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}"
        for k, v in fields.items()
        if "\ud800" not in k + v
    ).encode()
