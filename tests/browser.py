"""Open a page in headless Chromium (Debian's ``chromium``), driven by Playwright, with every
request that could leave the machine refused.

Playwright (a dev dependency) drives the system's Chromium; it downloads no browser of its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")

# no request can leave: every host resolves to nothing and every connection goes to a dead proxy
OFFLINE = [
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
    """The browser's path, or None when none is installed (or Playwright is missing)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Opened:
    """A page loaded at one window width: the Playwright page, what it logged, and the requests
    it tried to make to anything but the file itself."""

    page: Any
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def eval(self, script: str) -> Any:
        return self.page.evaluate(script)


@contextmanager
def opened(page: Path, width: int = 1280, height: int = 1000) -> Iterator[Opened]:
    """``page`` loaded in a ``width`` × ``height`` window, after its ``load`` event."""
    from playwright.sync_api import sync_playwright

    browser_path = chromium()
    assert browser_path is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=OFFLINE)
        try:
            tab = browser.new_page(viewport={"width": width, "height": height})
            out = Opened(tab)
            tab.on("console", lambda m: out.console.append(f"{m.type}: {m.text}"))
            tab.on("pageerror", lambda e: out.console.append(f"error: {e}"))
            target = page.resolve().as_uri()
            tab.on("request", lambda r: out.requests.append(r.url) if r.url != target else None)
            tab.goto(target, wait_until="load")
            yield out
        finally:
            browser.close()


def rendered_ms(page: Opened) -> int | None:
    """The page's own load-and-draw time (``data-rendered-ms`` set by the report on ``load``)."""
    value = page.eval("document.body.dataset.renderedMs || null")
    return int(value) if value is not None else None
