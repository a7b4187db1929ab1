"""ServerCore: the wiring between models.config, the file-system source, the manager and the labels.

Why here and not in the servicers: the servicers stay thin (decode, call, encode); everything that knows
about config, polling and labels sits in one place, as in TF Serving's server_core.

Config and labels:
- models.config is re-read when its content changes (polled every `model_config_file_poll_wait_seconds`);
  a file that does not parse stops start-up, and later is logged while the running config is kept. A file
  missing at start-up is an empty config (the server still starts; models appear when a publish writes it).
- HandleReloadConfigRequest replaces the whole config. It is strict about labels, as TF Serving is: every
  label must name a version that is AVAILABLE now, otherwise FAILED_PRECONDITION and nothing changes.
- Labels read from the file are applied as soon as their version is AVAILABLE (a label on a version still
  loading cannot resolve yet: it is unrecognized, or keeps its previous target while being moved). Once
  applied a label stays until a config moves or drops it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from modelserver import source
from modelserver.config import ConfigError, ModelEntry, ServerOptions, model_entries, parse_config_bytes, parse_config_text
from modelserver.errors import FailedPrecondition, InvalidArgument
from modelserver.harness import PublicState
from modelserver.manager import AspiredVersionsManager, ServableHandle, ServableRequest
from modelserver.status import ServableStateEvent, ServableStateMonitor

log = logging.getLogger(__name__)


class ServerCore:
    def __init__(self, options: ServerOptions, manager: AspiredVersionsManager, monitor: ServableStateMonitor) -> None:
        self.options = options
        self.manager = manager
        self.monitor = monitor
        self.config_path = Path(options.model_config_file) if options.model_config_file else None
        self.config_dir = self.config_path.parent if self.config_path else Path.cwd()
        self._lock = threading.RLock()
        self._entries: tuple[ModelEntry, ...] = ()
        self._known_models: set[str] = set()
        self._last_file_text: str | None = None
        self._labels: Mapping[str, Mapping[str, int]] = MappingProxyType({})
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        monitor.add_listener(self._on_state_event)

    # --- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        self.reload_config_file(initial=True)
        self.poll_file_system()
        self._spawn("modelserver-fs-poll", self.options.file_system_poll_wait_seconds, self.poll_file_system)
        self._spawn("modelserver-config-poll", self.options.model_config_file_poll_wait_seconds, self.reload_config_file)

    def _spawn(self, name: str, interval: float, fn) -> None:
        if interval <= 0:
            return

        def loop() -> None:
            while not self._stopping.wait(interval):
                try:
                    fn()
                except Exception:  # noqa: BLE001 - a failed poll is retried by the next one
                    log.exception("%s failed", name)

        t = threading.Thread(target=loop, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stopping.set()
        for t in self._threads:
            t.join()

    @property
    def entries(self) -> tuple[ModelEntry, ...]:
        return self._entries

    # --- config ---------------------------------------------------------------------------------------
    def reload_config_file(self, *, initial: bool = False) -> bool:
        """Re-read models.config if its content changed; True when a new config was applied.

        At start-up a file that does not parse raises ConfigError (fail fast); later, it is logged and the
        running config kept. A missing file is an empty config at start-up and "keep the running config"
        afterwards (a file being replaced non-atomically must not unload everything).
        """
        if self.config_path is None:
            return False
        try:
            text = self.config_path.read_text()
        except FileNotFoundError:
            if self._last_file_text is not None:
                return False
            log.warning("%s does not exist yet: serving no models until it appears", self.config_path)
            text = ""
        with self._lock:
            if text == self._last_file_text:
                return False
            self._last_file_text = text
            try:
                entries = model_entries(parse_config_text(text, str(self.config_path)), self.config_dir, self.options.container_model_root)
            except ConfigError as e:
                if initial:
                    raise
                log.error("models.config not applied, keeping the running config: %s", e)
                return False
            self._apply(entries)
            log.info("models.config applied: %s", ", ".join(e.name for e in entries) or "(no models)")
            return True

    def reload_config_request(self, config_bytes: bytes) -> None:
        """HandleReloadConfigRequest: replace the whole config; labels must name AVAILABLE versions."""
        config = parse_config_bytes(config_bytes)
        try:
            entries = model_entries(config, self.config_dir, self.options.container_model_root)
        except ConfigError as e:
            raise InvalidArgument(str(e)) from None
        with self._lock:
            for entry in entries:
                for label, version in entry.labels.items():
                    event = self.monitor.state(entry.name, version)
                    if event is None or event.state is not PublicState.AVAILABLE:
                        raise FailedPrecondition(
                            f"Request to assign label to version {version} of model {entry.name}, "
                            "which is not currently available for inference"
                        )
            self._apply(entries)
        log.info("config replaced by HandleReloadConfigRequest: %s", ", ".join(e.name for e in entries) or "(no models)")

    def _apply(self, entries: list[ModelEntry]) -> None:
        self._entries = tuple(entries)
        self._refresh_labels(reset=True)
        self.poll_file_system()

    # --- source -> manager ----------------------------------------------------------------------------
    def poll_file_system(self) -> None:
        with self._lock:
            entries = self._entries
            names = {e.name for e in entries}
            items = source.poll(entries)
            items += [source.AspiredVersions(name) for name in sorted(self._known_models - names)]
            self._known_models = names
        for item in items:
            self.manager.set_aspired_versions(item)

    # --- labels ---------------------------------------------------------------------------------------
    def _on_state_event(self, event: ServableStateEvent) -> None:
        if event.state is PublicState.AVAILABLE:
            self._refresh_labels()

    def _refresh_labels(self, reset: bool = False) -> None:
        """Rebuild the label map from the config: a label resolves once its version is AVAILABLE; until then
        a label that already pointed somewhere keeps its old target (availability first)."""
        with self._lock:
            old = self._labels
            new: dict[str, dict[str, int]] = {}
            for entry in self._entries:
                for label, version in entry.labels.items():
                    event = self.monitor.state(entry.name, version)
                    previous = old.get(entry.name, {}).get(label)
                    if previous == version or (event is not None and event.state is PublicState.AVAILABLE):
                        new.setdefault(entry.name, {})[label] = version
                    else:
                        if previous is not None:
                            new.setdefault(entry.name, {})[label] = previous
                        if reset:
                            log.warning("label %s -> version %d of %s waits until that version is AVAILABLE", label, version, entry.name)
            self._labels = MappingProxyType({k: MappingProxyType(v) for k, v in new.items()})

    def labels(self, model: str) -> dict[str, int]:
        return dict(self._labels.get(model, {}))

    # --- requests -------------------------------------------------------------------------------------
    def servable_request(self, model_spec) -> ServableRequest:
        """TF Serving's ServableRequestFromModelSpec (the caller has checked that a model_spec is present)."""
        if not model_spec.name:
            raise InvalidArgument("ModelSpec has no name specified.")
        which = model_spec.WhichOneof("version_choice")
        if which == "version":
            return ServableRequest.specific(model_spec.name, model_spec.version.value)
        if which == "version_label":
            version = self._labels.get(model_spec.name, {}).get(model_spec.version_label)
            if version is None:
                raise InvalidArgument(f"Unrecognized servable version label: {model_spec.version_label}")
            return ServableRequest.specific(model_spec.name, version)
        return ServableRequest.latest(model_spec.name)

    def get_handle(self, model_spec) -> ServableHandle:
        return self.manager.get_handle(self.servable_request(model_spec))
