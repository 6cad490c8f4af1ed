"""A headless Chromium driven over the DevTools protocol on a pipe: no driver, no extra package.

Chromium started with --remote-debugging-pipe reads protocol messages (JSON, NUL-terminated) on
fd 3 and writes replies and events on fd 4, as Puppeteer does. `load_page` opens a file, waits
for its load event and returns the console errors, uncaught exceptions and failed loads it saw,
with the natural size of every <img>.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
IMAGES = "JSON.stringify(Array.from(document.images, i => [i.alt, i.naturalWidth, i.naturalHeight]))"


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@dataclass
class PageLoad:
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    images: list[tuple[str, int, int]] = field(default_factory=list)  # (alt, naturalWidth, naturalHeight)
    title: str = ""


class _Pipe:
    """Request/response over the two pipes; events seen meanwhile are kept in `events`."""

    def __init__(self, write_fd: int, read_fd: int, timeout: float) -> None:
        self.write_fd, self.read_fd, self.deadline = write_fd, read_fd, time.monotonic() + timeout
        self.buffer, self.events, self.next_id = b"", [], 0

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self.receive())

    def receive(self) -> dict:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)


def _errors(events: list[dict]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(f"exception: {details.get('text', '')} {details.get('exception', {}).get('description', '')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log ({params['entry'].get('source')}): {params['entry'].get('text')}")
    return found


def load_page(browser: str, page: Path, timeout: float = 30.0) -> PageLoad:
    """Open `page` in headless `browser`; report what went wrong and the images' natural sizes."""
    to_browser, from_browser = os.pipe(), os.pipe()

    def wire() -> None:  # in the child: the protocol's fixed descriptors (via high ones: no clobbering)
        read, write = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser[0], from_browser[1]))
        os.dup2(read, 3)
        os.dup2(write, 4)

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [browser, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=wire, start_new_session=True)
        os.close(to_browser[0])
        os.close(from_browser[1])
        pipe = _Pipe(to_browser[1], from_browser[0], timeout)
        try:
            return _drive(pipe, page)
        finally:
            _close(pipe, process)
            os.close(to_browser[1])
            os.close(from_browser[0])


def _close(pipe: _Pipe, process: subprocess.Popen) -> None:
    """Ask the browser to quit; kill its whole process group (renderers too) if it does not."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        os.write(pipe.write_fd, json.dumps({"id": 10**6, "method": "Browser.close"}).encode() + b"\0")
        process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the group this test started (start_new_session)
    process.wait()


def _drive(pipe: _Pipe, page: Path) -> PageLoad:
    target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Runtime", "Log", "Page"):
        pipe.send(f"{domain}.enable", session=session)
    pipe.events.clear()
    pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
    pipe.wait_for("Page.loadEventFired")
    images = pipe.send("Runtime.evaluate", {"expression": IMAGES, "returnByValue": True}, session=session)
    title = pipe.send("Runtime.evaluate", {"expression": "document.title", "returnByValue": True},
                      session=session)
    return PageLoad(_errors(pipe.events), [tuple(i) for i in json.loads(images["result"]["value"])],
                    title["result"]["value"])
