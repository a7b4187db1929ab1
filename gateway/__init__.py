"""FastAPI gateway: HTTP in front of TF Serving / modelserver. Never imports TensorFlow (design §7)."""
