"""Family units; importing this package registers every family (see `base.register`)."""

import importlib
import pkgutil

from gateway.families.base import FAMILIES, AnyFamily, Family, Prepared, UploadedFile, family_for, register

for _m in pkgutil.iter_modules(__path__):
    if _m.name != "base":
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["FAMILIES", "AnyFamily", "Family", "Prepared", "UploadedFile", "family_for", "register"]
