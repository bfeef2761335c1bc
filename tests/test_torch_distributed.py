"""shrinkage.torch with FSDP2: Proximal on sharded (DTensor) parameters gives the unsharded run.

Two ranks (gloo, CPU processes, ``tests/_fsdp_rank.py``) train a small MLP sharded with
``fully_shard`` — the first weight's rows split unevenly — with SGD, Adam and RMSprop and
L1, ElasticNet with per-feature weights (a separable prox: each shard's own), GroupLasso over rows
(each shard's own, with and without per-group weights) and over columns (groups across shards:
gathered); the whole weights must equal the same training on plain tensors in one process.
Skipped where torch.distributed or gloo is missing.
"""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)
pytest.importorskip("torch.distributed.fsdp")

import _fsdp_rank  # noqa: E402

WORKER = os.path.join(os.path.dirname(__file__), "_fsdp_rank.py")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sharded_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("fsdp") / "weights.npz"
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
        p for p in (os.path.dirname(_fsdp_rank.__file__), os.environ.get("PYTHONPATH")) if p)}
    ranks = [subprocess.Popen([sys.executable, WORKER, str(rank), "2", str(port), str(out)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for rank in range(2)]
    try:
        logs = [r.communicate(timeout=300)[0] for r in ranks]
    finally:
        for r in ranks:         # (a rank left waiting for a crashed peer must not outlive the test)
            if r.poll() is None:
                r.kill()
    assert all(r.returncode == 0 for r in ranks), "\n".join(logs)[-4000:]
    with np.load(out) as data:
        return dict(data)


def test_a_partial_placement_is_refused_with_a_clear_error(sharded_runs):
    assert bool(sharded_runs["partial refused"])


@pytest.mark.parametrize("case", list(_fsdp_rank.CASES))
def test_fsdp2_sharded_training_equals_unsharded(sharded_runs, case):
    plain = _fsdp_rank.train(case)
    for k, reference in enumerate(plain):
        got = sharded_runs[f"{case}/{k}"]
        np.testing.assert_allclose(got, reference, rtol=1e-10, atol=1e-13)
        np.testing.assert_array_equal(got == 0, reference == 0)
    assert 0 < np.mean(np.concatenate([w.ravel() for w in plain]) == 0) < 1
    # groups within shards (rows; FSDP2 shards rows) and separable penalties: no gathering; groups
    # across shards (columns): the whole weight and its state gathered each step
    gathers = int(sharded_runs[f"{case}/gathers"])
    assert (gathers > 0) == case.endswith("GroupLasso-columns"), gathers
