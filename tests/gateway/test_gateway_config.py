"""Settings: read from GATEWAY_* when built, lists as comma-separated text, placeholder admin tokens refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.backend import balanced_target
from gateway.core.config import Settings


def test_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert s.max_body_bytes == 16 << 20 and not s.admin_enabled and s.api_keys == []
    monkeypatch.setenv("GATEWAY_API_KEYS", "k1, k2")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", '["http://a.test"]')
    monkeypatch.setenv("GATEWAY_CANARY_SHARES", '{"antispam": 0.1}')
    monkeypatch.setenv("GATEWAY_BACKEND_TIMEOUT_S", "2.5")
    s = Settings()
    assert s.api_keys == ["k1", "k2"] and s.cors_origins == ["http://a.test"]
    assert s.canary_shares == {"antispam": 0.1} and s.backend_timeout_s == 2.5


@pytest.mark.parametrize("token", ["changethis", "short"])
def test_placeholder_admin_token_refused_outside_development(token: str) -> None:
    with pytest.raises(ValidationError, match="GATEWAY_ADMIN_TOKEN"):
        Settings(admin_token=token)
    assert Settings(admin_token=token, environment="development").admin_enabled


def test_canary_share_out_of_range_refused() -> None:
    with pytest.raises(ValidationError, match="within 0..1"):
        Settings(canary_shares={"m": 1.5})


@pytest.mark.parametrize(
    "backend,target",
    [
        ("localhost:8500", "dns:///localhost:8500"),
        ("127.0.0.1:8500", "ipv4:127.0.0.1:8500"),
        ("127.0.0.1:1,127.0.0.1:2", "ipv4:127.0.0.1:1,127.0.0.1:2"),
        ("[::1]:1,[::1]:2", "ipv6:[::1]:1,[::1]:2"),
        ("dns:///tfs:8500", "dns:///tfs:8500"),
    ],
)
def test_backend_target_is_balanced_by_grpc(backend: str, target: str) -> None:
    assert balanced_target([a.strip() for a in backend.split(",")]) == target
