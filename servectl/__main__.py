"""Entry point: import every command module (they register on `app`), then run."""

import importlib
import pkgutil

import servectl
from servectl.app import app


def main() -> None:
    for m in pkgutil.iter_modules(servectl.__path__):
        if m.name not in ("app", "__main__") and not m.name.startswith("_"):
            importlib.import_module(f"servectl.{m.name}")
    app()


if __name__ == "__main__":
    main()
