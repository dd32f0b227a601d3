"""Start/stop of the emulator process: CLI daemon by PID and the LocalCloud API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud import LocalCloud, LocalCloudError, read_endpoint
from localcloud.launcher import is_healthy
from tests.localcloud.conftest import run_command

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_command([sys.executable, "-m", "localcloud", *args], cwd=REPO, timeout=90)


def process_group_exists(pgid: int) -> bool:
    """True if a live (non-zombie) process is in the group: the server or a Lambda child."""
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state != "Z":
            return True
    return False


def test_cli_start_daemonizes_and_stop_ends_it_by_pid(tmp_path: Path) -> None:
    state = tmp_path / "state"
    started = run_cli("start", "--state-dir", str(state))
    assert started.returncode == 0, started.stderr
    endpoint = started.stdout.strip()
    pid = int((state / "pid").read_text())
    assert (state / "endpoint").read_text().strip() == endpoint
    assert endpoint.startswith("http://127.0.0.1:")
    # The CLI process has exited; the server lives on in its own session.
    assert os.getsid(pid) == pid
    assert is_healthy(endpoint)
    assert run_cli("status", "--state-dir", str(state)).stdout.strip() == f"running at {endpoint}"

    stopped = run_cli("stop", "--state-dir", str(state))

    assert stopped.stdout.strip() == "stopped"
    assert not process_group_exists(pid)
    assert not (state / "pid").exists()
    assert not (state / "endpoint").exists()
    assert not is_healthy(endpoint, timeout=0.5)
    assert run_cli("stop", "--state-dir", str(state)).stdout.strip() == "not running"
    assert run_cli("status", "--state-dir", str(state)).returncode == 1


def test_context_manager_stops_the_server_when_the_body_fails(tmp_path: Path) -> None:
    cloud = LocalCloud(tmp_path)
    with pytest.raises(RuntimeError, match="boom"), cloud:
        pid = cloud.pid
        assert read_endpoint(tmp_path) == cloud.endpoint
        raise RuntimeError("boom")
    assert not process_group_exists(pid)
    with pytest.raises(LocalCloudError):
        _ = cloud.endpoint


def test_a_second_server_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    with LocalCloud(tmp_path) as first:
        with pytest.raises(LocalCloudError, match="already uses"):
            LocalCloud(tmp_path).start()
        assert is_healthy(first.endpoint)


def test_a_start_that_times_out_leaves_no_process(tmp_path: Path) -> None:
    cloud = LocalCloud(tmp_path, startup_timeout=0.01)
    with pytest.raises(LocalCloudError, match="not healthy"):
        cloud.start()
    assert not (tmp_path / "pid").exists()
    leftovers = subprocess.run(
        ["pgrep", "-f", f"localcloud.server --state-dir {tmp_path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert leftovers.stdout == ""
