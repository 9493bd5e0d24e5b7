"""The font list every kernel's matplotlib would rebuild is built once and copied into its home,
from a cache only the grader can write."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from autograder.sandbox import fontcache


def test_a_kernel_home_gets_the_font_list_matplotlib_would_build(tmp_path, monkeypatch):
    monkeypatch.setattr(fontcache, "folder", lambda: tmp_path / "cache")
    (tmp_path / "home").mkdir()
    fontcache.seed(tmp_path / "home" / ".matplotlib", None)
    copied = list((tmp_path / "home" / ".matplotlib").glob("fontlist-*.json"))
    assert len(copied) == 1 and json.loads(copied[0].read_text())["ttflist"], "a font list with fonts in it"
    # matplotlib, pointed at that folder, uses the list as it is instead of scanning the fonts again
    before = copied[0].stat().st_mtime_ns
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], check=True,
                   env={**os.environ, "MPLCONFIGDIR": str(copied[0].parent)})
    assert copied[0].stat().st_mtime_ns == before


def test_a_cache_others_can_write_is_not_used(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "fontlist-v999.json").write_text("{}")
    os.chmod(cache, 0o777)
    monkeypatch.setattr(fontcache, "folder", lambda: cache)
    (tmp_path / "home").mkdir()
    fontcache.seed(tmp_path / "home" / ".matplotlib", None)
    assert not (tmp_path / "home" / ".matplotlib").exists(), "a planted font list never reaches a kernel"
