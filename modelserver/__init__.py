"""Local TF-Serving-compatible gRPC model server (docs/design.md §6): source -> manager -> handle, one concept per module.

config (flags, models.config) · source (aspired versions from the file system) · loader (SavedModel in a
Session, warm-up) · harness (one version's lifecycle) · policy (availability-preserving) · manager (serving
map, loads/unloads) · status (GetModelStatus) · core (config, labels, wiring) · predict (request checks) ·
service (gRPC) · metrics (Prometheus) · server (process assembly) · __main__ (CLI).
"""
