"""Which backend replicas a `GATEWAY_BACKEND` names: the gRPC target for the balanced Predict channel, and the
member addresses the gateway asks one by one (GetModelStatus, HandleReloadConfigRequest).

Why both: Predict goes through ONE channel whose resolver yields every replica and whose `round_robin` policy
spreads calls over them (gRPC's own DNS resolver re-resolves when a connection closes, so replicas that leave
are dropped and new ones are picked up once TF Serving recycles connections, `grpc.max_connection_age_ms`). But
a version may be used only once EVERY replica serves it (a pinned request can land on any of them), and config
reloads must reach every replica, so the gateway also needs the member list itself: for a `dns:` target it
resolves the same name again every `backend_resolve_interval_s` (a Kubernetes headless Service or a Compose
service name answers with one record per ready replica).

Accepted forms:
- `dns:///name:port`, `dns://server:port/name:port` (a DNS server of its own, as gRPC's resolver takes it): the
  name is resolved for members (system resolver, or that server with dnspython);
- `ipv4:a:p,b:p`, `ipv6:[a]:p,[b]:p`: a fixed list, used as is;
- `host:port` or a comma-separated list of them (the historic forms): see `balanced_target`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class BackendTarget:
    target: str  # the gRPC target of the balanced channel
    static: tuple[str, ...] = ()  # fixed member addresses (host:port), when not resolved by name
    dns_name: str | None = None  # resolved for members when set
    dns_port: int = 0
    dns_server: tuple[str, int] | None = None  # the DNS server of `dns://server:port/...`

    @property
    def resolves(self) -> bool:
        return self.dns_name is not None


def split_addresses(backend: str) -> list[str]:
    return [a.strip() for a in backend.split(",") if a.strip()]


def _host_port(address: str) -> tuple[str, str]:
    if address.startswith("["):
        host, _, port = address[1:].partition("]:")
        return host, port
    host, _, port = address.rpartition(":")
    return host, port


def _ip_version(host: str) -> int | None:
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return None


def balanced_target(addresses: Sequence[str]) -> str:
    """The gRPC target whose resolver yields every address (round robin picks among them)."""
    if len(addresses) == 1:
        a = addresses[0]
        if ":///" in a or a.startswith(("ipv4:", "ipv6:", "unix:", "dns:")):
            return a
        host, _ = _host_port(a)
        if _ip_version(host) is None:
            return f"dns:///{a}"
    resolved: list[tuple[int, str]] = []
    for a in addresses:
        host, port = _host_port(a)
        version = _ip_version(host)
        if version is None:  # several host names: resolve once at start-up (documented)
            infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
            for family, *_rest, sockaddr in infos:
                resolved.append((6 if family == socket.AF_INET6 else 4, f"{sockaddr[0]}:{port}"))
        else:
            resolved.append((version, f"{host}:{port}"))
    kinds = {v for v, _ in resolved}
    if kinds == {6}:
        return "ipv6:" + ",".join(f"[{a.rpartition(':')[0]}]:{a.rpartition(':')[2]}" for _, a in resolved)
    return "ipv4:" + ",".join(a for v, a in resolved if v == 4)


def _parse_dns(target: str) -> BackendTarget:
    rest = target[len("dns:") :]
    server: tuple[str, int] | None = None
    if rest.startswith("//"):
        authority, _, endpoint = rest[2:].partition("/")
        if authority:
            host, port = _host_port(authority)
            server = (host, int(port or 53))
    else:
        endpoint = rest
    host, port = _host_port(endpoint)
    if not host or not port.isdigit():
        raise ValueError(f"backend {target!r}: a dns: target needs name:port (e.g. dns:///tfserving-headless:8500)")
    return BackendTarget(target=target, dns_name=host, dns_port=int(port), dns_server=server)


def parse_backend(backend: str) -> BackendTarget:
    """Split `GATEWAY_BACKEND` into the channel target and how members are found (module docstring)."""
    text = backend.strip()
    if text.startswith("dns:"):
        return _parse_dns(text)
    if text.startswith(("ipv4:", "ipv6:")):
        kind, _, listed = text.partition(":")
        members = tuple(split_addresses(listed))
        if not members:
            raise ValueError(f"backend {backend!r}: {kind}: needs at least one address")
        return BackendTarget(target=text, static=members)
    addresses = split_addresses(text)
    if not addresses:
        raise ValueError("backend is empty: give host:port, a comma-separated list, or a gRPC target")
    if len(addresses) == 1 and ("://" in addresses[0] or addresses[0].startswith("unix:")):
        return BackendTarget(target=addresses[0], static=(addresses[0],))
    # one host:port is its own (only) member, as before; several are resolved once into an ipv4:/ipv6: list
    target = balanced_target(addresses)
    return BackendTarget(target=target, static=tuple(addresses))


def _address(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


async def resolve(spec: BackendTarget) -> list[str]:
    """The member addresses now (sorted); a `dns:` name with no records gives []. Raises OSError / dns errors
    when resolution itself fails (the caller keeps its previous members then)."""
    if not spec.resolves:
        return list(spec.static)
    assert spec.dns_name is not None
    if _ip_version(spec.dns_name) is not None:
        return [_address(spec.dns_name, spec.dns_port)]
    if spec.dns_server is None:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(spec.dns_name, spec.dns_port, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            if e.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
                return []  # a headless Service with no ready pod has no records
            raise
        return sorted({_address(sockaddr[0], spec.dns_port) for *_rest, sockaddr in infos})
    return await _resolve_with_server(spec)


async def _resolve_with_server(spec: BackendTarget) -> list[str]:
    import dns.asyncresolver
    import dns.resolver

    assert spec.dns_server is not None and spec.dns_name is not None
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [spec.dns_server[0]]
    resolver.port = spec.dns_server[1]
    resolver.lifetime = 2.0
    found: set[str] = set()
    for rdtype in ("A", "AAAA"):
        try:
            answer = await resolver.resolve(spec.dns_name, rdtype, search=False)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            continue
        found.update(_address(r.to_text(), spec.dns_port) for r in answer)
    return sorted(found)
