"""The core and the charts never import textual (they run headless and in benchmarks)."""

from __future__ import annotations

import subprocess
import sys


def test_core_and_charts_do_not_import_textual():
    code = (
        "import sys, pkgutil, importlib, quadtui.core, quadtui.charts\n"
        "for pkg in (quadtui.core, quadtui.charts):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(pkg.__name__ + '.' + m.name)\n"
        "import quadtui.cli.headless\n"
        "assert 'textual' not in sys.modules, sorted(k for k in sys.modules if k.startswith('textual'))\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cli_module_does_not_import_torch():
    code = "import sys, quadtui.cli; assert 'torch' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
