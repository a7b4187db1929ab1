"""A tiny authoritative DNS server on 127.0.0.1 whose A records a test changes while it runs.

Why: a Kubernetes headless Service is a DNS name with one A record per ready pod, and the gateway's
`dns:` backend target relies on gRPC's own DNS resolver (and its re-resolution) to find every replica. To test
that mechanism itself, not a stand-in, the replicas listen on distinct loopback addresses (127.0.0.2, ...) on
one port and this server answers for the name; gRPC's target form `dns://127.0.0.1:PORT/name:port` asks it
directly, so nothing on the machine (/etc/hosts, resolv.conf) changes. Records have TTL 0. Built with
dnspython (message parsing and rendering); UDP only (answers here are far below 512 bytes).
"""

from __future__ import annotations

import socket
import threading
from typing import Iterable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset


class DnsServer:
    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._records: dict[dns.name.Name, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.queries = 0
        self._thread = threading.Thread(target=self._serve, name="test-dns", daemon=True)

    def set(self, name: str, addresses: Iterable[str]) -> None:
        with self._lock:
            self._records[dns.name.from_text(name)] = tuple(addresses)

    def _answer(self, data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        for question in query.question:
            with self._lock:
                addresses = self._records.get(question.name)
            if addresses is None:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A and addresses:
                reply.answer.append(dns.rrset.from_text_list(question.name, 0, "IN", "A", list(addresses)))
        return reply.to_wire()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            try:
                self._sock.sendto(self._answer(data), peer)
            except Exception:  # noqa: BLE001 - a malformed query gets no answer, the server keeps going
                continue

    def __enter__(self) -> "DnsServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
