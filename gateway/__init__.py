"""FastAPI gateway: HTTP in front of TF Serving / modelserver. Never imports TensorFlow (docs/design.md §7)."""
