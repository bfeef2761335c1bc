"""One rank of ``tests/test_torch_distributed.py``: a small MLP sharded with FSDP2's ``fully_shard``
(gloo, CPU), trained with ``Proximal`` for each case; rank 0 saves the whole weights and how many
whole tensors the training gathered.

Run as ``python _fsdp_rank.py RANK WORLD_SIZE PORT OUT.npz``; the test starts the ranks.
"""

import contextlib
import os
import sys

import numpy as np
import torch

from shrinkage.penalties import L1, ElasticNet, GroupLasso
from shrinkage.torch import Proximal

WIDTHS = (7, 5, 3)      # the first weight's 5 rows split 3 + 2 over two ranks (uneven shards)
N_STEPS = 6
CASES = {
    f"{opt}-{pen}": (opt, pen)
    for opt in ("sgd-momentum", "adam", "rmsprop")
    for pen in ("L1", "ElasticNet-weights", "GroupLasso-rows", "GroupLasso-rows-weights",
                "GroupLasso-columns")
}


def make_optimizer(name, groups):
    if name == "sgd-momentum":
        return torch.optim.SGD(groups, lr=0.05, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(groups, lr=0.05)
    return torch.optim.RMSprop(groups, lr=0.01)


def make_penalty(name, shape, group_alpha):
    """The case's penalty of a weight matrix of ``shape`` (per-feature weights: one per column,
    per-group weights one per row; GroupLasso of strength ``group_alpha``)."""
    if name == "L1":
        return L1(0.02)
    if name == "ElasticNet-weights":
        return ElasticNet(0.05, l1_ratio=0.7, weights=np.linspace(0.0, 2.0, shape[1]))
    if name == "GroupLasso-rows-weights":
        return GroupLasso(group_alpha, dim=0, weights=np.linspace(0.5, 1.5, shape[0]))
    return GroupLasso(group_alpha, dim=0 if name == "GroupLasso-rows" else 1)


# GroupLasso strengths (by optimizer and groups) at which the six steps zero some groups, keep others
GROUP_ALPHA = {("sgd-momentum", "GroupLasso-rows"): 0.2, ("sgd-momentum", "GroupLasso-columns"): 0.15,
               ("adam", "GroupLasso-rows"): 0.1, ("adam", "GroupLasso-columns"): 0.08,
               ("rmsprop", "GroupLasso-rows"): 0.08, ("rmsprop", "GroupLasso-columns"): 0.08}
GROUP_ALPHA.update({(opt, "GroupLasso-rows-weights"): GROUP_ALPHA[opt, "GroupLasso-rows"]
                    for opt in ("sgd-momentum", "adam", "rmsprop")})


def train(case, shard=None, during=None):
    """The case's network (float64, seeded) trained full-batch; ``shard(net)`` distributes it and
    ``during`` (a context manager) wraps the training. Returns the weight matrices as whole arrays."""
    opt_name, pen_name = CASES[case]
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(WIDTHS[0], WIDTHS[1]), torch.nn.Tanh(),
                              torch.nn.Linear(WIDTHS[1], WIDTHS[2])).double()
    if shard is not None:
        shard(net)
        local = net[0].weight.to_local()
        assert local.shape[0] < WIDTHS[1], local.shape      # each rank holds some of the rows
    weights, biases = [net[0].weight, net[2].weight], [net[0].bias, net[2].bias]
    group_alpha = GROUP_ALPHA.get((opt_name, pen_name))
    groups = [{"params": [w], "penalty": make_penalty(pen_name, w.shape, group_alpha)} for w in weights]
    opt = Proximal(make_optimizer(opt_name, [*groups, {"params": biases}]))
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(32, WIDTHS[0], generator=gen, dtype=torch.float64)
    y = torch.randn(32, WIDTHS[2], generator=gen, dtype=torch.float64)
    with during or contextlib.nullcontext():
        for _ in range(N_STEPS):
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(x), y).backward()
            opt.step()
    return [(w.full_tensor() if hasattr(w, "full_tensor") else w).detach().numpy() for w in weights]


def _partial_is_refused(mesh):
    """Whether the prox of a DTensor holding unreduced sums (a ``Partial`` placement) raises the
    error that says so, rather than shrinking a part of a sum."""
    from torch.distributed.tensor import DTensor, Partial

    from shrinkage.torch import prox_

    partial = DTensor.from_local(torch.ones(3, 4, dtype=torch.float64), mesh, [Partial()])
    try:
        prox_(partial, L1(0.1), 0.5)
    except NotImplementedError as err:
        return "Partial" in str(err)
    return False


def main(rank, world_size, port, out):
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import DTensor

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    mesh = init_device_mesh("cpu", (world_size,))

    def shard(net):
        for layer in (net[0], net[2]):
            fully_shard(layer, mesh=mesh)
        fully_shard(net, mesh=mesh)

    gathered = []
    whole = DTensor.full_tensor

    @contextlib.contextmanager
    def counting_gathers():
        # how often the prox gathers a whole tensor: never where each shard's prox is its own
        DTensor.full_tensor = lambda self, **kw: gathered.append(1) or whole(self, **kw)
        try:
            yield
        finally:
            DTensor.full_tensor = whole

    results = {}
    for case in CASES:
        gathered.clear()
        results[case + "/0"], results[case + "/1"] = train(case, shard, counting_gathers())
        results[case + "/gathers"] = np.array(len(gathered))
    results["partial refused"] = np.array(_partial_is_refused(mesh))
    dist.destroy_process_group()
    if rank == 0:
        np.savez(out, **results)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
