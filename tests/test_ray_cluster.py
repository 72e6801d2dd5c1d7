"""`--engine ray` beside a Ray cluster that `ray start` left running on the machine."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE

pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture
def running_cluster(tmp_path):
    """A head node started with `ray start` (as a user would), stopped afterwards."""
    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.exists():
        pytest.skip("the ray command is not installed beside this Python")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    started = subprocess.run([str(ray_cli), "start", "--head", f"--port={port}", "--num-cpus=1",
                              "--include-dashboard=false", "--disable-usage-stats"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        yield env
    finally:
        subprocess.run([str(ray_cli), "stop", "--force"], capture_output=True, env=env, timeout=120)


@pytest.mark.ray
def test_workers_start_a_ray_of_their_own_beside_a_running_cluster(running_cluster, tmp_path):
    for name in ("train.jsonl", "eval.jsonl"):
        shutil.copy(SAMPLE / name, tmp_path / name)

    def audit(*extra):
        return subprocess.run([sys.executable, "-m", "auditor", "audit", "train.jsonl", "--eval", "eval.jsonl",
                               "--no-cache", "--output-format", "json", *extra],
                              capture_output=True, text=True, cwd=tmp_path, env=running_cluster, timeout=300)

    on_ray, local = audit("--engine", "ray", "--workers", "2"), audit()
    # Ray's own join would refuse --workers ("num_cpus ... must not be provided") beside a running cluster
    assert on_ray.returncode == local.returncode == 1, on_ray.stderr
    assert on_ray.stdout == local.stdout
