"""models.config: parsed with the official protos, /models mapped to the config's directory, errors named."""

from pathlib import Path

import pytest

from modelserver.config import ConfigError, VersionPolicy, model_entries, parse_args, parse_config_bytes, parse_config_text

TEXT = """
model_config_list {
  config {
    name: "antispam"
    base_path: "/models/antispam"
    model_platform: "tensorflow"
    model_version_policy { latest { num_versions: 2 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config { name: "srgan" base_path: "relative/srgan" model_version_policy { all {} } }
  config { name: "unet" base_path: "/elsewhere/unet" model_version_policy { specific { versions: 3 versions: 5 } } }
}
"""


def test_parses_with_official_protos_and_maps_paths(tmp_path: Path):
    config = parse_config_text(TEXT)
    assert type(config).DESCRIPTOR.full_name == "tensorflow.serving.ModelServerConfig"
    entries = {e.name: e for e in model_entries(config, tmp_path)}
    assert entries["antispam"].base_path == tmp_path / "antispam"
    assert entries["antispam"].policy == VersionPolicy("latest", num_versions=2)
    assert dict(entries["antispam"].labels) == {"stable": 1, "canary": 2}
    assert entries["srgan"].base_path == tmp_path / "relative" / "srgan"
    assert entries["srgan"].policy.kind == "all"
    assert entries["unet"].base_path == Path("/elsewhere/unet")
    assert entries["unet"].policy == VersionPolicy("specific", versions=(3, 5))


def test_our_written_config_parses_with_the_official_message(tmp_path):
    from common.repository import ensure_model

    ensure_model(tmp_path / "models.config", "vgg16")
    entries = model_entries(parse_config_text((tmp_path / "models.config").read_text()), tmp_path)
    assert [(e.name, e.base_path, e.policy) for e in entries] == [("vgg16", tmp_path / "vgg16", VersionPolicy("latest", 1))]


def test_other_container_root(tmp_path):
    config = parse_config_text('model_config_list { config { name: "a" base_path: "/srv/models/a" } }')
    assert model_entries(config, tmp_path, "/srv/models")[0].base_path == tmp_path / "a"


@pytest.mark.parametrize(
    "text, words",
    [
        ('model_config_list { config { name: "a" base_path: "/models/a" } config { name: "a" base_path: "/models/b" } }', "multiple times"),
        ('model_config_list { config { name: "a" base_path: "/models/a" model_platform: "pytorch" } }', "unsupported platform pytorch"),
        ('model_config_list { config { base_path: "/models/a" } }', "no name"),
        ('model_config_list { config { name: "a" } }', "no base_path"),
        ("custom_model_config { }", "Only ModelConfigList is currently supported"),
    ],
)
def test_invalid_configs_are_named(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words):
        model_entries(parse_config_text(text), tmp_path)


def test_text_that_does_not_parse():
    with pytest.raises(ConfigError, match="models.config"):
        parse_config_text("model_config_list { config { nme: 1 } }")


def test_reload_bytes_from_our_protos_parse_with_official(tmp_path):
    from protos import model_server_config_pb2 as ours

    msg = ours.ModelServerConfig()
    mc = msg.model_config_list.config.add(name="a", base_path="/models/a")
    mc.version_labels["stable"] = 4
    entries = model_entries(parse_config_bytes(msg.SerializeToString()), tmp_path)
    assert entries[0].name == "a" and dict(entries[0].labels) == {"stable": 4}


def test_flags_have_tf_serving_names_and_defaults(tmp_path):
    opts = parse_args(["--model_config_file", str(tmp_path / "models.config"), "--enable_serialization_as_tensor_content"])
    assert opts.port == 8500 and opts.file_system_poll_wait_seconds == 1.0
    assert opts.enable_serialization_as_tensor_content is True
    assert opts.grpc_max_message_size == 256 * 1024 * 1024
    opts = parse_args(["--model_config_file", "x", "--enable_serialization_as_tensor_content=false", "--port", "0"])
    assert opts.enable_serialization_as_tensor_content is False and opts.port == 0
    assert (opts.tensorflow_intra_op_parallelism, opts.tensorflow_inter_op_parallelism) == (0, 0)  # TF picks
    opts = parse_args(["--model_config_file", "x", "--tensorflow_intra_op_parallelism", "1", "--tensorflow_inter_op_parallelism=-1"])
    assert (opts.tensorflow_intra_op_parallelism, opts.tensorflow_inter_op_parallelism) == (1, -1)


def test_grpc_channel_arguments_and_bind_address(tmp_path):
    cfg = tmp_path / "models.config"
    cfg.write_text("model_config_list {}")
    options = parse_args(["--model_config_file", str(cfg)])
    assert options.grpc_channel_arguments == () and options.grpc_bind_address == "0.0.0.0"
    options = parse_args([
        "--model_config_file", str(cfg),
        "--grpc_channel_arguments", "grpc.max_connection_age_ms=3000, grpc.max_connection_age_grace_ms=10000,grpc.primary_user_agent=x",
        "--grpc_bind_address", "127.0.0.2",
    ])
    assert options.grpc_channel_arguments == (
        ("grpc.max_connection_age_ms", 3000), ("grpc.max_connection_age_grace_ms", 10000), ("grpc.primary_user_agent", "x"),
    )
    assert options.grpc_bind_address == "127.0.0.2"
    with pytest.raises(SystemExit):
        parse_args(["--model_config_file", str(cfg), "--grpc_channel_arguments", "grpc.max_connection_age_ms"])


def test_rest_and_monitoring_flags_have_tf_serving_defaults(tmp_path):
    import os

    from modelserver.config import PrometheusSettings, read_monitoring_config

    opts = parse_args(["--model_config_file", "x"])
    assert (opts.rest_api_port, opts.rest_api_timeout_in_ms, opts.rest_api_enable_cors_support) == (0, 30000, False)
    assert opts.rest_api_num_threads == 4 * len(os.sched_getaffinity(0))  # TF Serving: 4 per CPU
    assert opts.monitoring_port == 0 and opts.monitoring_config_file is None  # no port beyond --port by default
    opts = parse_args(["--model_config_file", "x", "--rest_api_port", "8501", "--rest_api_num_threads", "3",
                       "--rest_api_timeout_in_ms", "100", "--rest_api_enable_cors_support=true"])  # fmt: skip
    assert (opts.rest_api_port, opts.rest_api_num_threads, opts.rest_api_timeout_in_ms, opts.rest_api_enable_cors_support) == (8501, 3, 100, True)
    # TF Serving's own testdata/monitoring_config.txt, and a config that only enables
    (tmp_path / "tfs.txt").write_text('prometheus_config: {\n  enable: true,\n  path: "/monitoring/prometheus/metrics"\n}\n')
    (tmp_path / "default.txt").write_text("prometheus_config { enable: true }")
    assert read_monitoring_config(tmp_path / "tfs.txt") == PrometheusSettings(True, "/monitoring/prometheus/metrics")
    assert read_monitoring_config(tmp_path / "default.txt") == PrometheusSettings(True, "/monitoring/prometheus/metrics")
    assert read_monitoring_config(None) == PrometheusSettings(False)
    with pytest.raises(ConfigError, match="monitoring_config_file"):
        read_monitoring_config(tmp_path / "missing.txt")
