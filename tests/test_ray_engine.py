"""`--engine ray` gives the local engine's report byte for byte; a default audit never imports Ray."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from auditor.config import AuditConfig
from auditor.engine import audit
from auditor.render.json_report import render_json
from auditor.testing import write_jsonl

from conftest import SAMPLE, generated_set, run_cli

ray = pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture(scope="module")
def ray_session():
    """One local 2-CPU Ray for the module: an audit joins the running session and leaves it running."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def both_engines(config: AuditConfig, **options) -> tuple[str, str]:
    local = render_json(audit(config, **options))
    on_ray = render_json(audit(config.with_overrides(engine="ray"), **options))
    return local, on_ray


@pytest.mark.ray
def test_sample_data_report_is_identical(ray_session):
    config = AuditConfig(train=(str(SAMPLE / "train.jsonl"),), eval=(str(SAMPLE / "eval.jsonl"),),
                         schema=str(SAMPLE / "schema.json"))
    local, on_ray = both_engines(config)
    assert local == on_ray
    assert json.loads(local)["verdict"]["status"] == "not_ready"


@pytest.mark.ray
def test_generated_set_report_is_identical(ray_session, tmp_path):
    config = generated_set(tmp_path)
    local, on_ray = both_engines(config)
    assert local == on_ray
    report = json.loads(local)
    codes = {f["code"] for r in report["results"] for f in r["findings"]}
    # the identity covers every heavy stage: each kind of finding is there
    assert {"DUP001", "DUP002", "LEAK001"} <= codes and codes & {"CON001", "CON002"}
    near = next(r for r in report["results"] if r["check"] == "near-duplicates")
    assert max(int(size) for size in near["metrics"]["cluster_sizes"]) > 200


@pytest.mark.ray
def test_cached_ray_audit_matches_the_local_one(ray_session, tmp_path):
    """With the incremental cache, per-block artefacts built on Ray are the ones the local engine builds."""
    from auditor.store import open_cache

    config = generated_set(tmp_path)
    local = render_json(audit(config))
    on_ray = render_json(audit(config.with_overrides(engine="ray"), cache=open_cache(str(tmp_path / "cache"))))
    assert on_ray == local


@pytest.mark.ray
@pytest.mark.parametrize("disk_hash_shuffle", [False, True], ids=["sort-shuffle", "disk-hash-shuffle"])
def test_candidate_pairs_are_the_local_kernels(ray_session, disk_hash_shuffle):
    from auditor.engines.ray_data import RayEngine
    from auditor.similarity.lsh import candidate_pairs, cross_candidate_pairs

    rng = np.random.default_rng(7)
    keys = rng.integers(0, 40, size=(600, 6), dtype=np.uint64)  # few values: buckets of ~90 rows per band
    keys[:260, 0] = 5  # one bucket above max_bucket: star and chain pairs
    other = rng.integers(0, 60, size=(90, 6), dtype=np.uint64)
    engine = RayEngine()
    if disk_hash_shuffle:
        engine.disk_shuffle_entries = 0
    try:
        for got, want in [(engine.candidate_pairs(keys, max_bucket=200), candidate_pairs(keys, max_bucket=200)),
                          (engine.cross_candidate_pairs(keys, other, max_bucket=20),
                           cross_candidate_pairs(keys, other, max_bucket=20)),
                          # as leakage asks: the small (eval) side first, its keys broadcast either way
                          (engine.cross_candidate_pairs(other, keys, max_bucket=20),
                           cross_candidate_pairs(other, keys, max_bucket=20))]:
            assert len(want[0]) > 1000
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
    finally:
        engine.close()
    assert ray.is_initialized()  # the session it joined stays up


@pytest.mark.ray
def test_the_readme_ray_command_runs_as_written(ray_session, tmp_path, monkeypatch, capsys):
    import shlex
    import shutil

    readme = (SAMPLE.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Past one machine"):readme.index("## Performance")]
    line = next(text for text in section.splitlines() if text.startswith("auditor audit") and "--engine ray" in text)
    args = shlex.split(line.split("#")[0])[1:]
    assert args[args.index("--engine") + 1] == "ray" and "--workers" in args
    for name in ("train.jsonl", "eval.jsonl"):  # the files the README names
        shutil.copy(SAMPLE / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli([*args, "--no-cache", "--output-format", "json"], capsys)
    local_args = [a for i, a in enumerate(args) if a not in ("--engine", "--workers")
                  and args[i - 1] not in ("--engine", "--workers")]
    local_code, local_out, _ = run_cli([*local_args, "--no-cache", "--output-format", "json"], capsys)
    assert code == local_code == 1  # sample_data is NOT READY, on either engine
    assert out == local_out and json.loads(out)["verdict"]["status"] == "not_ready"


def test_a_ray_address_where_nothing_answers_exits_2_at_once(tmp_path):
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "auditor", "audit", str(SAMPLE / "train.jsonl"), "--no-cache",
                               "--engine", "ray", "--ray-address", f"127.0.0.1:{port}"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120,
                              env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"})
        seconds = time.perf_counter() - start
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (f"auditor: error: --engine ray: cannot start or join Ray "
                                                    f"(nothing answers at 127.0.0.1:{port} (Connection refused))")
    assert seconds < 30  # Ray alone retries an absent head for minutes


def test_bad_engine_options_exit_2_with_one_line(capsys):
    for args, message in [(["--engine", "spark"], "'engine' must be one of local, ray"),
                          (["--engine", "ray", "--workers", "0"], "'workers' must be a whole number >= 1")]:
        code, _, err = run_cli(["audit", str(SAMPLE / "train.jsonl"), "--no-cache", *args], capsys)
        assert code == 2
        assert message in err and len(err.strip().splitlines()) == 1


def test_engine_ray_without_ray_says_how_to_install(capsys, monkeypatch):
    from auditor.engines import ray_data

    monkeypatch.setattr(ray_data, "available", lambda: False)
    code, _, err = run_cli(["audit", str(SAMPLE / "train.jsonl"), "--no-cache", "--engine", "ray"], capsys)
    assert code == 2
    assert err.strip() == "auditor: error: --engine ray needs Ray Data: pip install 'dataset-auditor[ray]'"


def test_default_audit_and_help_never_import_ray(tmp_path):
    script = (
        "import sys\n"
        "from auditor.cli import main\n"
        "for args in (['--help'], ['audit', sys.argv[1], '--eval', sys.argv[2], '--no-cache', '-q']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n")
    done = subprocess.run([sys.executable, "-c", script, str(SAMPLE / "train.jsonl"), str(SAMPLE / "eval.jsonl")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
