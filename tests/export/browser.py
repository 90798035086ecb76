"""Drive Debian's headless Chromium over the DevTools protocol, with the network blocked.

Standard library only: the DevTools protocol runs over a pipe (``--remote-debugging-pipe``,
file descriptors 3 and 4, messages separated by NUL bytes), so no WebSocket client is needed.

The network is blocked three ways, and every attempt is recorded:

- ``--proxy-server`` points at a local socket (:class:`ProxyRecorder`) that records the first
  line of every connection (``CONNECT host:443`` ...) and closes it, forwarding nothing;
- ``--host-resolver-rules=MAP * ~NOTFOUND`` makes every host name unresolvable;
- every request the page makes is recorded from ``Network.requestWillBeSent``.

So "no request left the machine" is checked as: no connection reached the proxy and every
request URL is ``file:``, ``data:``, ``blob:`` or ``about:``.

Usage::

    with Browser() as browser:
        page = browser.open(Path("map.html"))
        page.wait_for("window.spatialMap && window.spatialMap.ready")
        page.evaluate("document.title")
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome-error:")
# Chromium's own background services: it calls them with no page open at all, whatever the
# flags (component updater, account check). They are recorded too, and never reached.
BROWSER_SERVICE_DOMAINS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")
_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")
_DISABLED_FEATURES = (
    "Translate",
    "MediaRouter",
    "OptimizationHints",
    "AutofillServerCommunication",
    "NetworkTimeServiceQuerying",
    "CertificateTransparencyComponentUpdater",
    "PrivacySandboxSettings4",
)


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``CHROMIUM`` overrides), or None.

    ``CHROMIUM=none`` hides an installed browser: the browser tests then skip, as they do on a
    machine without one.
    """
    given = os.environ.get("CHROMIUM")
    if given == "none":
        return None
    if given:
        return shutil.which(given) or (given if Path(given).exists() else None)
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (the reason to skip them), or None."""
    if find_chromium() is None:
        return "Debian chromium not installed (apt-get install chromium; CHROMIUM=none hides it)"
    fc_list = shutil.which("fc-list")
    if fc_list and not subprocess.run([fc_list], capture_output=True, text=True).stdout.strip():
        # e.g. every system font folder hidden: the map's text would have no glyphs to lay out
        return "Chromium has no font at all (fc-list lists none): it lays out no text"
    return None


class BrowserError(RuntimeError):
    """The browser did not answer, or a page script failed."""


class ProxyRecorder:
    """A local 'proxy' that records each connection's first line and forwards nothing."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    first = conn.recv(4096).split(b"\r\n", 1)[0]
                except OSError:
                    first = b"?"
                self.requests.append(first.decode("latin-1"))

    def hosts(self) -> list[str]:
        """The host of each recorded request (``CONNECT host:port`` or ``GET http://host/``)."""
        out = []
        for line in self.requests:
            parts = line.split()
            target = parts[1] if len(parts) > 1 else ""
            target = target.split("://", 1)[-1].split("/", 1)[0]
            out.append(target.rsplit(":", 1)[0] if ":" in target else target)
        return out

    def page_hosts(self) -> list[str]:
        """Recorded hosts except Chromium's own background services."""
        return [
            h
            for h in self.hosts()
            if not any(h == d or h.endswith("." + d) for d in BROWSER_SERVICE_DOMAINS)
        ]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


class Page:
    """One browser tab, attached with a flat DevTools session."""

    def __init__(self, browser: Browser, session_id: str) -> None:
        self.browser = browser
        self.session_id = session_id

    def send(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        return self.browser.send(method, params, session_id=self.session_id, timeout=timeout)

    def events(self, method: str) -> list[dict]:
        """Parameters of the events of this page with the given method, so far."""
        return [
            e["params"]
            for e in list(self.browser.events)
            if e.get("method") == method and e.get("sessionId") == self.session_id
        ]

    def evaluate(self, expression: str, timeout: float = 30.0) -> Any:
        """Evaluate JavaScript (promises awaited) and return its JSON value."""
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"page script failed: {text}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.05) -> Any:
        """Poll until ``expression`` is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out after {timeout} s waiting for {expression}")
            time.sleep(interval)

    def click(self, x: float, y: float) -> None:
        """A real left click (press and release) at viewport coordinates."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            params = {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}
            if kind == "mouseMoved":
                params.pop("clickCount")
                params["button"] = "none"
            self.send("Input.dispatchMouseEvent", params)

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the viewport."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def requests(self) -> list[str]:
        """URLs of every request the page started."""
        return [e["request"]["url"] for e in self.events("Network.requestWillBeSent")]

    def external_requests(self) -> list[str]:
        """URLs of requests that would leave the machine."""
        return [u for u in self.requests() if not u.startswith(LOCAL_SCHEMES)]

    def errors(self) -> list[str]:
        """Uncaught exceptions and console errors of the page."""
        out = [
            e["exceptionDetails"].get("exception", {}).get("description")
            or e["exceptionDetails"].get("text", "")
            for e in self.events("Runtime.exceptionThrown")
        ]
        out += [
            " ".join(str(a.get("value", a.get("description", ""))) for a in e.get("args", []))
            for e in self.events("Runtime.consoleAPICalled")
            if e.get("type") == "error"
        ]
        return out

    def dialogs(self) -> list[str]:
        """Messages of the alert/confirm/prompt dialogs the page opened (all dismissed)."""
        return [e.get("message", "") for e in self.events("Page.javascriptDialogOpening")]


class Browser:
    """Headless Chromium with a fresh profile and the network blocked."""

    def __init__(self, executable: str | None = None, width: int = 1280, height: int = 800) -> None:
        self.executable = executable or find_chromium()
        if not self.executable:
            raise BrowserError("no chromium found (Debian: apt-get install chromium)")
        self.width, self.height = width, height
        self.events: list[dict] = []
        self._replies: dict[int, dict] = {}
        self._cond = threading.Condition()
        self._next_id = 0
        self._buffer = b""
        self.proxy: ProxyRecorder | None = None
        self.pid: int | None = None

    # -- process ------------------------------------------------------------------------------

    def start(self) -> Browser:
        self.proxy = ProxyRecorder()
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        args = [
            self.executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-breakpad",
            "--metrics-recording-only",
            "--mute-audio",
            "--disable-features=" + ",".join(_DISABLED_FEATURES),
            "--disable-client-side-phishing-detection",
            "--disable-component-extensions-with-background-pages",
            "--disable-field-trial-config",
            "--no-service-autorun",
            "--password-store=basic",
            "--use-mock-keychain",
            f"--user-data-dir={self._profile}",
            f"--window-size={self.width},{self.height}",
            f"--proxy-server=http://127.0.0.1:{self.proxy.port}",
            "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--remote-debugging-pipe",
            "about:blank",
        ]

        # The DevTools pipe must be the child's fds 3 (commands in) and 4 (replies out).
        # posix_spawn's dup2 actions do exactly that; the pipe ends are first moved above 9
        # so that no action overwrites another's source.
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (to_child_r, from_child_w):
            os.close(fd)
        self.log = Path(self._profile) / "chromium.log"
        log_fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            self.pid = os.posix_spawn(
                self.executable,
                args,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, log_fd, 1),
                    (os.POSIX_SPAWN_DUP2, log_fd, 2),
                    (os.POSIX_SPAWN_DUP2, high_r, 3),
                    (os.POSIX_SPAWN_DUP2, high_w, 4),
                ],
            )
        finally:
            for fd in (high_r, high_w, log_fd):
                os.close(fd)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.send("Target.setDiscoverTargets", {"discover": True})
        return self

    def close(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(BrowserError):
                self.send("Browser.close", timeout=5)
            if not self._wait(5):
                os.kill(self.pid, signal.SIGKILL)
                self._wait(5)
            self.pid = None
            for fd in (self._to_child, self._from_child):
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self.proxy is not None:
            self.proxy.close()
        shutil.rmtree(getattr(self, "_profile", ""), ignore_errors=True)

    def _wait(self, timeout: float) -> bool:
        """Reap the browser process; False if it is still running after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return True
            if pid:
                return True
            time.sleep(0.05)
        return False

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- protocol -----------------------------------------------------------------------------

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._replies[-1] = {"error": {"message": "browser closed the pipe"}}
                    self._cond.notify_all()
                return
            self._buffer += chunk
            *messages, self._buffer = self._buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                with self._cond:
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self.events.append(message)
                        self._on_event(message)
                    self._cond.notify_all()

    def _on_event(self, message: dict) -> None:
        if message.get("method") == "Page.javascriptDialogOpening":
            # dismiss at once (an XSS alert() would otherwise block the page)
            threading.Thread(
                target=self._send_nowait,
                args=("Page.handleJavaScriptDialog", {"accept": False}, message.get("sessionId")),
                daemon=True,
            ).start()

    def _send_nowait(self, method: str, params: dict, session_id: str | None) -> None:
        with contextlib.suppress(BrowserError):
            self.send(method, params, session_id=session_id, timeout=5)

    def send(
        self,
        method: str,
        params: dict | None = None,
        *,
        session_id: str | None = None,
        timeout: float = 30.0,
    ) -> dict:
        """Send one DevTools command and wait for its result."""
        with self._cond:
            self._next_id += 1
            ident = self._next_id
        message: dict = {"id": ident, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        data = json.dumps(message).encode() + b"\0"
        try:
            os.write(self._to_child, data)
        except OSError as error:
            raise BrowserError(f"browser is gone: {error}") from error
        deadline = time.monotonic() + timeout
        with self._cond:
            while ident not in self._replies:
                if -1 in self._replies:
                    raise BrowserError(self._replies[-1]["error"]["message"])
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError(f"no answer to {method} within {timeout} s")
                self._cond.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    # -- pages --------------------------------------------------------------------------------

    def new_page(self) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        page = Page(self, session["sessionId"])
        for domain in ("Network", "Page", "Runtime"):
            page.send(f"{domain}.enable")
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        return page

    def open(self, path: Path, timeout: float = 60.0) -> Page:
        """A new page showing a local file; returns once its load event fired."""
        page = self.new_page()
        page.send("Page.navigate", {"url": Path(path).resolve().as_uri()})
        page.wait_for("document.readyState === 'complete'", timeout=timeout)
        return page


def screenshot_map(html: Path, png: Path, *, search: str | None = None) -> Path:
    """Open a map.html offline, optionally open the popup of the first plant whose name or id
    contains ``search`` (keeping the whole view), and save a screenshot."""
    with Browser() as browser:
        page = browser.open(html)
        page.wait_for("window.spatialMap && spatialMap.ready", 120)
        if search:
            row = page.evaluate(f"spatialMap.search.search({json.dumps(search)})[0]")
            if row is None:
                raise BrowserError(f"no plant matches {search!r}")
            page.evaluate(f"spatialMap.search.search(''); spatialMap.openEnterprise({row}); null")
        time.sleep(0.5)  # the popup fades in
        page.evaluate(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))"
        )
        return page.screenshot(png)


if __name__ == "__main__":  # python -m tests.export.browser map.html docs/img/map.png [name]
    import sys

    args = sys.argv[1:]
    if len(args) not in (2, 3):
        raise SystemExit("usage: python -m tests.export.browser MAP.html OUT.png [PLANT_NAME]")
    print(screenshot_map(Path(args[0]), Path(args[1]), search=args[2] if len(args) == 3 else None))
