"""Open a page in headless Chromium (Debian's ``chromium``) with networking disabled.

Two launches: one dumps the DOM after the page's scripts ran and collects the console messages
Chromium logs to stderr (``INFO:CONSOLE``), one writes a screenshot.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")

# no request can leave: every host resolves to nothing and every connection goes to a dead proxy
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def chromium() -> str | None:
    """The browser's path, or None when none is installed."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Opened:
    dom: str
    console: list[str]
    seconds: float
    """Wall time of the whole browser process (start, load, draw, dump)."""


def open_page(page: Path, profile: Path, timeout: float = 120) -> Opened:
    """Load ``page`` and return its DOM after load, and its console messages."""
    browser = chromium()
    assert browser is not None
    started = time.perf_counter()
    proc = subprocess.run(
        [browser, *OFFLINE, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=timeout,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return Opened(dom=proc.stdout, console=console, seconds=seconds)


def screenshot(page: Path, profile: Path, out: Path, size: str = "1400,3000") -> Path:
    """Write a PNG of the top of ``page`` to ``out``."""
    browser = chromium()
    assert browser is not None
    subprocess.run(
        [browser, *OFFLINE, f"--user-data-dir={profile}", "--hide-scrollbars",
         f"--window-size={size}", f"--screenshot={out}", page.resolve().as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )  # fmt: skip
    return out


def rendered_ms(dom: str) -> int | None:
    """The page's own load-and-draw time (``data-rendered-ms`` set by the report on ``load``)."""
    found = re.search(r'data-rendered-ms="(\d+)"', dom)
    return int(found.group(1)) if found else None
