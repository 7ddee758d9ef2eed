"""Is a vmap-batched ensemble (torch.func.stack_module_state + vmap) faster than a loop over
K models on a CPU? Prints ms per training step for both (same data, Adam, small CNN).

    python benchmarks/bench_nets_ensemble.py --threads 1 --models 4 --width 16 --architecture sum
"""

import argparse
import copy
import time

import torch
from torch.func import functional_call, stack_module_state

from memcomp.nets.models import build_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models", type=int, default=4)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--architecture", default="sum")
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    k = a.models
    x, y = torch.rand(k, 64, 3, 28, 28), torch.rand(k, 64) * 27
    models = [build_model(a.architecture, "small_cnn", 32, width=a.width, seed=s) for s in range(k)]
    opts = [torch.optim.Adam(m.parameters(), 1e-3) for m in models]

    def loop_step() -> None:
        for i, (m, o) in enumerate(zip(models, opts)):
            loss = ((m(x[i]) - y[i]) ** 2).mean()
            o.zero_grad()
            loss.backward()
            o.step()

    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    opt = torch.optim.Adam(list(params.values()), 1e-3)
    batched = torch.vmap(lambda p, b, xx: functional_call(base, (p, b), (xx,)))

    def vmap_step() -> None:
        loss = ((batched(params, buffers, x) - y) ** 2).mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    times = {}
    for name, step in (("loop", loop_step), ("vmap", vmap_step)):
        for _ in range(3):
            step()
        t = time.perf_counter()
        for _ in range(a.steps):
            step()
        times[name] = (time.perf_counter() - t) / a.steps * 1000
        print(f"{a.architecture} K={k} width={a.width} threads={a.threads} {name}: {times[name]:.1f} ms/step")
    print(f"vmap speed-up over loop: {times['loop'] / times['vmap']:.2f}x")


if __name__ == "__main__":
    main()
