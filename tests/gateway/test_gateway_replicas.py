"""gateway.replicas: which channel target and which members a GATEWAY_BACKEND gives, and member resolution
over real DNS (tests.utils.dns_server on 127.0.0.1, asked the way `dns://server:port/name:port` says)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.replicas import BackendTarget, parse_backend, resolve
from tests.utils.dns_server import DnsServer


@pytest.mark.parametrize(
    "backend, expected",
    [
        ("dns:///tfserving-headless:8500", BackendTarget("dns:///tfserving-headless:8500", dns_name="tfserving-headless", dns_port=8500)),
        (
            "dns://127.0.0.1:5353/tfs.test:8500",
            BackendTarget("dns://127.0.0.1:5353/tfs.test:8500", dns_name="tfs.test", dns_port=8500, dns_server=("127.0.0.1", 5353)),
        ),
        ("ipv4:127.0.0.1:1,127.0.0.1:2", BackendTarget("ipv4:127.0.0.1:1,127.0.0.1:2", static=("127.0.0.1:1", "127.0.0.1:2"))),
        ("ipv6:[::1]:1,[::1]:2", BackendTarget("ipv6:[::1]:1,[::1]:2", static=("[::1]:1", "[::1]:2"))),
        ("10.0.0.1:8500, 10.0.0.2:8500", BackendTarget("ipv4:10.0.0.1:8500,10.0.0.2:8500", static=("10.0.0.1:8500", "10.0.0.2:8500"))),
        ("tfserving:8500", BackendTarget("dns:///tfserving:8500", static=("tfserving:8500",))),
    ],
)
def test_parse_backend(backend: str, expected: BackendTarget) -> None:
    assert parse_backend(backend) == expected


@pytest.mark.parametrize("backend", ["dns:///no-port", "dns:///:8500", "ipv4:", ""])
def test_parse_backend_refuses_incomplete_targets(backend: str) -> None:
    with pytest.raises(ValueError):
        parse_backend(backend)


def test_members_follow_the_dns_records() -> None:
    with DnsServer() as dns:
        spec = parse_backend(f"dns://127.0.0.1:{dns.port}/tfs.test:8500")
        dns.set("tfs.test", ["127.0.0.3", "127.0.0.2"])
        assert asyncio.run(resolve(spec)) == ["127.0.0.2:8500", "127.0.0.3:8500"]
        dns.set("tfs.test", ["127.0.0.2", "127.0.0.4", "127.0.0.5"])  # one left, two joined
        assert asyncio.run(resolve(spec)) == ["127.0.0.2:8500", "127.0.0.4:8500", "127.0.0.5:8500"]
        dns.set("tfs.test", [])  # a headless Service with no ready pod
        assert asyncio.run(resolve(spec)) == []
        assert dns.queries >= 6


def test_system_resolver_for_a_plain_dns_target() -> None:
    members = asyncio.run(resolve(parse_backend("dns:///localhost:8500")))
    assert members and all(m.endswith(":8500") for m in members)
    assert asyncio.run(resolve(parse_backend("ipv4:127.0.0.1:1,127.0.0.1:2"))) == ["127.0.0.1:1", "127.0.0.1:2"]
