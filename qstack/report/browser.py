"""Open a page in headless Chromium, as a reader would, and look at it.

Talks the Chrome DevTools protocol over ``--remote-debugging-pipe`` (file
descriptors 3 and 4, NUL-separated JSON), so it needs nothing but the
``chromium`` binary: no driver, no websocket library, no downloaded
browser. Used by the tests (DOM, console errors, screenshots) and by the
measurement of how long a report takes to open.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

#: Where Debian's ``chromium`` package puts the browser.
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_S = 60.0


class BrowserError(RuntimeError):
    """The browser is missing, died, or did not answer in time."""


def find_chromium() -> str:
    """The Chromium to use: ``$QSTACK_CHROMIUM``, Debian's, or one on PATH."""
    for candidate in (os.environ.get("QSTACK_CHROMIUM"), CHROMIUM, shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise BrowserError(
        "no Chromium found: install Debian's chromium package (apt-get install -y chromium) "
        "or set QSTACK_CHROMIUM to the browser's path"
    )


@dataclass
class PageLoad:
    """What loading a page gave: the wall time to its load event and to the
    first frame drawn after it, and every error the page reported."""

    load_s: float
    painted_s: float
    errors: list[str] = field(default_factory=list)


class Chromium:
    """A headless Chromium with one tab, driven over a pipe."""

    def __init__(self, width: int = 1280, height: int = 900, executable: str | None = None) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="qstack-chromium-")
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def wire() -> None:  # in the child, before exec: the pipe on fds 3 and 4
            inbound, outbound = os.dup(to_child), os.dup(from_child)
            os.dup2(inbound, 3)
            os.dup2(outbound, 4)

        self._process = subprocess.Popen(
            [
                executable or find_chromium(),
                "--headless",
                "--no-sandbox",  # root in a container has no user namespace sandbox
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=wire,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self._session: str | None = None
        try:
            self._open_tab(width, height)
        except BaseException:
            self.close()
            raise

    def _open_tab(self, width: int, height: int) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()

    def _send(self, method: str, params: dict[str, Any] | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self._session is not None and not method.startswith("Target."):
            message["sessionId"] = self._session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._read], [], [], max(left, 0))
            if not ready:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the pipe (it exited)")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        result: dict[str, Any] = json.loads(message)
        return result

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a command and wait for its answer (events meanwhile are kept)."""
        number = self._send(method, params)
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            message = self._receive(deadline)
            if message.get("id") == number:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                answer: dict[str, Any] = message.get("result", {})
                return answer
            self._events.append(message)

    def _wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        for index, event in enumerate(self._events):
            if event.get("method") == method:
                return self._events.pop(index)
        while True:
            message = self._receive(deadline)
            if message.get("method") == method:
                return message
            self._events.append(message)

    def open(self, url: str) -> PageLoad:
        """Load ``url``; time it and collect console errors and exceptions."""
        self._events.clear()
        started = time.perf_counter()
        self.call("Page.navigate", {"url": url})
        self._wait_for("Page.loadEventFired")
        loaded = time.perf_counter() - started
        self.evaluate(
            "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
        )
        painted = time.perf_counter() - started
        return PageLoad(loaded, painted, self.errors())

    def errors(self) -> list[str]:
        """Errors the page reported since it was opened (exceptions, console
        errors, log errors), as far as the browser has told so far."""
        errors = []
        for event in self._events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                errors.append(str(details.get("exception", {}).get("description") or details))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(arg.get("value")) for arg in params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(str(params["entry"].get("text")))
        return errors

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        answer = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression[:60]}: {answer['exceptionDetails'].get('text')}")
        return answer.get("result", {}).get("value")

    def screenshot(self, path: str | Path, full_page: bool = True) -> None:
        """A PNG of the page (the whole page, not only the window)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
