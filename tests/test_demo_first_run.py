"""The README's first command, run as a newcomer runs it: `survey-app demo` in a folder of its
own, a real server on a free port, and the links and secrets it prints actually work."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from survey_app.cli import main
from tests.support.apps import ROOT

SURVEY_APP = Path(sys.executable).with_name("survey-app")
BOX_END = "Delete that file once the secrets are somewhere safe."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SURVEY_APP_") and name != "DATABASE_URL"
    }
    env.update(extra)
    return env


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder laid out like a fresh clone, as far as the demo is concerned."""
    shutil.copytree(ROOT / "surveys", tmp_path / "surveys")
    return tmp_path


@pytest.fixture
def demo(checkout: Path) -> Iterator[tuple[int, list[str], subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [str(SURVEY_APP), "demo", "--port", str(port)],
        cwd=checkout,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    printed: list[str] = []
    deadline = time.monotonic() + 300
    try:
        while not (BOX_END in "".join(printed[:-1]) and printed[-1].startswith("+")):
            assert process.poll() is None, "demo stopped:\n" + "".join(printed)
            assert time.monotonic() < deadline, "demo printed no secrets:\n" + "".join(printed)
            try:
                printed.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        yield port, printed, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        stdout.close()


def get(url: str) -> int:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                return int(reply.status)
        except urllib.error.URLError as error:
            # The server starts listening a moment after the secrets are printed.
            if not isinstance(error.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_demo_serves_its_printed_links_and_its_passphrase_opens_the_responses(
    checkout: Path, demo: tuple[int, list[str], subprocess.Popen[str]]
) -> None:
    port, printed, _process = demo
    output = "".join(printed)
    links = [word for word in output.split() if word.startswith(f"http://127.0.0.1:{port}/")]
    assert len([link for link in links if "/s/" in link]) == 4, output
    for link in links:
        assert get(link) == 200, link

    # The secrets come last, boxed, and are kept in a file only their owner can read.
    box = output[output.rindex("WRITE THESE DOWN") :]
    assert "key passphrase of programme 'demo':" in box and "admin account: admin /" in box
    assert all(line.startswith(("|", "+")) for line in box.splitlines()[1:]), box
    assert "Serving on" in output[: output.rindex("WRITE THESE DOWN")]
    passphrase = box.split("key passphrase of programme 'demo': ")[1].split()[0]
    saved = checkout / "instance" / "demo-secrets.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert passphrase in saved.read_text(encoding="utf-8")

    passphrase_file = checkout / "passphrase.txt"
    passphrase_file.write_text(passphrase + "\n", encoding="utf-8")
    passphrase_file.chmod(0o600)
    report = subprocess.run(
        [str(SURVEY_APP), "report", "service-feedback", "--passphrase-file", str(passphrase_file)],
        cwd=checkout,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.returncode == 0, report.stderr
    assert "service-feedback: 300 responses" in report.stdout


def test_production_serving_refuses_while_the_demo_secrets_are_on_disk(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "demo-secrets.txt").write_text("secrets\n", encoding="utf-8")
    env = {"SURVEY_APP_INSTANCE_PATH": str(instance), "SURVEY_APP_ENVIRONMENT": "production"}
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 1
    assert "demo-secrets.txt exists" in result.output and "delete the file" in result.output
