"""`newsdex web` as a user starts it: a subprocess on a free port, stopped with SIGTERM at the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# A document written to attack the page: markup in its title and body, which must show as text.
HOSTILE_TITLE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> Ryabkov dossier'
HOSTILE_BODY = (
    "The hostile dossier on Ryabkov quotes markup that must stay text: "
    '<script>window.__pwned = 3</script> and <img src=x onerror="window.__pwned = 4"> and '
    '<a href="javascript:window.__pwned = 5">click</a>, in a story about customs inspectors in Odessa '
    "checking cargo at the port on Monday morning while the harbour master counted ships.\n\n"
    "Inspectors said the checks would continue through the week, and that traders should expect "
    "delays of several hours at every crossing until the new scanners arrive in the spring."
)
HOSTILE_RECORD = {
    "url": "https://hostile.example/2022/02/02/dossier",
    "text": f"{HOSTILE_TITLE}\n\n{HOSTILE_BODY}",
}


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 30) -> tuple[int, Any, dict[str, str]]:
    """GET a URL; return (status, body as JSON or text, headers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, raw, headers = (
                response.status,
                response.read(),
                {k.lower(): v for k, v in response.headers.items()},
            )
    except urllib.error.HTTPError as err:
        status, raw, headers = err.code, err.read(), {k.lower(): v for k, v in err.headers.items()}
    text = raw.decode("utf-8")
    try:
        return status, json.loads(text), headers
    except ValueError:
        return status, text, headers


@contextmanager
def web_server(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
    host: str | None = None,
    output: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start `python -m newsdex ARGS web --port P` and yield (base URL, process) once it answers;
    `output` gets its stdout and stderr once it has stopped."""
    port = port or free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEX_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsdex",
            *args,
            "web",
            "--port",
            str(port),
            *(["--host", host] if host else []),
        ],
        cwd=cwd,
        env={**base, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"newsdex web exited {proc.returncode}: {proc.stderr.read()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("newsdex web did not start listening within 60 s") from None
                time.sleep(0.1)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if output is not None:
            output["stdout"], output["stderr"] = proc.stdout.read(), proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
