"""Editable installs of Vigile: `import vigile.filters` reads the checkout's top-level filters/."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Run by the .pth file at every interpreter start: a package `vigile` whose subpackages are the
# checkout's folders. Only the name `vigile` is added; no generic name reaches sys.path.
_FINDER = '''"""Maps the package vigile onto a Vigile checkout (written by an editable install)."""
import importlib.machinery
import importlib.util
import sys

if "vigile" not in sys.modules:
    _spec = importlib.machinery.ModuleSpec("vigile", None, is_package=True)
    _spec.submodule_search_locations = [{root!r}]
    sys.modules["vigile"] = importlib.util.module_from_spec(_spec)
'''


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "editable":
            return
        folder = self._folder = Path(tempfile.mkdtemp(prefix="vigile-editable-"))
        finder = folder / "_vigile_editable.py"
        finder.write_text(_FINDER.format(root=str(Path(self.root).resolve())), encoding="utf-8")
        pth = folder / "_vigile_editable.pth"
        pth.write_text("import _vigile_editable\n", encoding="utf-8")
        build_data["force_include_editable"] = {
            str(finder): "_vigile_editable.py",
            str(pth): "_vigile_editable.pth",
        }

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if version == "editable":
            shutil.rmtree(self._folder, ignore_errors=True)  # the wheel holds its copies now
