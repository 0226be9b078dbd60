#!/usr/bin/env python3
"""PyTorch-on-CPU reference for `pnpm bench:perf` (optional; not a dependency).

Times the same training steps as `chainz bench perf` with PyTorch on the CPU,
one thread by default (the tfjs wasm backend runs one thread in Node). Use
Debian's interpreter (`/usr/bin/python3` if pyenv or a venv shadows it) and
OpenBLAS as the system BLAS (`apt-get install -y libopenblas0-pthread`; with
Debian's default reference BLAS every matmul is ~20x slower):

  relu          ReLU MLP, Adam step
  cr            ChainzRule MLP: cubic polynomial activation per unit, tanh guard
                (u = tanh(z/3)), written with torch ops (autograd)
  cr+dreg       + DREG frobenius: lambda * sum_l mean_b(sum_j sigma'(z_bj)^2 ||W[:, j]||^2) / n_l,
                sigma' analytic (first-order autograd only)
  softplus      softplus MLP, no penalty
  softplus+igpen        + input-gradient penalty (double backprop, create_graph=True)
  softplus+projection   + random-projection Jacobian estimate (1 projection per sample)

Median of --steps interleaved steps after --warmup rounds, shapes
64-256-256-10 (batch 256) and 8-32-32-2 (batch 64), timed as process CPU time
(time.process_time: not counting the time the process waits for a core on a
shared machine; one thread, so it is the step's cost) and as wall time. Prints
a table and one JSON line. Install on Debian: apt-get install -y python3-torch.

  /usr/bin/python3 scripts/perf_torch.py [--threads 1] [--steps 30] [--warmup 5] [--repeats 3]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def _threads_from_argv(default=1):
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return str(default)


# Debian's torch calls the system BLAS (update-alternatives: the reference BLAS is ~20x
# slower than OpenBLAS, `apt-get install -y libopenblas0-pthread`); pin its threads too,
# before torch loads it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", _threads_from_argv())
os.environ.setdefault("OMP_NUM_THREADS", _threads_from_argv())

import torch  # noqa: E402

SHAPES = [("mlp-64-256-256-10-b256", [64, 256, 256, 10], 256), ("pima-8-32-32-2-b64", [8, 32, 32, 2], 64)]
LAMBDA_DREG = 10 ** -2.5
LAMBDA_PEN = 1e-2
SCALE = 3.0


def glorot(fan_in, fan_out, gen):
    limit = math.sqrt(6 / (fan_in + fan_out))
    return (torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) * limit


class Mlp:
    """Weights W [d_in, d_out] (x @ W + b, as in the TS code), optional cubic coefficients per unit."""

    def __init__(self, dims, activation, gen):
        self.activation = activation
        self.W = [glorot(dims[i], dims[i + 1], gen).requires_grad_() for i in range(len(dims) - 1)]
        self.b = [torch.zeros(dims[i + 1], requires_grad=True) for i in range(len(dims) - 1)]
        # cubic near identity (a0 + a1 u + a2 u^2 + a3 u^3 of u = tanh(z/s)); the values do not change the cost
        self.a = [torch.tensor([[0.0, SCALE, 0.3, 0.1]] * dims[l + 1], requires_grad=True) for l in range(len(dims) - 2)] if activation == "poly" else []

    def params(self):
        return self.W + self.b + self.a

    def forward(self, x):
        traces = []
        h = x
        last = len(self.W) - 1
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            z = h @ W + b
            if l == last:
                return z, traces
            if self.activation == "relu":
                h = torch.relu(z)
            elif self.activation == "softplus":
                h = torch.nn.functional.softplus(z)
            else:
                a = self.a[l]
                u = torch.tanh(z / SCALE)
                g1 = (1 - u * u) / SCALE
                h = ((a[:, 3] * u + a[:, 2]) * u + a[:, 1]) * u + a[:, 0]
                dy = ((3 * a[:, 3] * u + 2 * a[:, 2]) * u + a[:, 1]) * g1
                traces.append((dy, W))
        return h, traces


def make_step(name, dims, batch, x, y, seed):
    gen = torch.Generator().manual_seed(seed)
    activation = "relu" if name == "relu" else "softplus" if name.startswith("softplus") else "poly"
    model = Mlp(dims, activation, gen)
    opt = torch.optim.Adam(model.params(), lr=1e-3)
    ce = torch.nn.functional.cross_entropy
    state = {"t": 0}

    def step():
        opt.zero_grad(set_to_none=True)
        if name in ("relu", "cr", "softplus"):
            logits, _ = model.forward(x)
            loss = ce(logits, y)
        elif name == "cr+dreg":
            logits, traces = model.forward(x)
            pen = sum((dy * dy * (W * W).sum(0)).sum(1).mean() / dy.shape[1] for dy, W in traces)
            loss = ce(logits, y) + LAMBDA_DREG * pen
        elif name == "softplus+igpen":
            xx = x.clone().requires_grad_()
            logits, _ = model.forward(xx)
            per_sample = ce(logits, y, reduction="none")
            (g,) = torch.autograd.grad(per_sample.sum(), xx, create_graph=True)
            loss = per_sample.mean() + LAMBDA_PEN * (g * g).sum(1).mean()
        elif name == "softplus+projection":
            xx = x.clone().requires_grad_()
            logits, _ = model.forward(xx)
            v = torch.randn(logits.shape, generator=torch.Generator().manual_seed(state["t"]))
            v = v / v.norm(dim=1, keepdim=True)
            (g,) = torch.autograd.grad((v * logits).sum(), xx, create_graph=True)
            loss = ce(logits, y) + LAMBDA_PEN * logits.shape[1] * (g * g).sum(1).mean()
        else:
            raise ValueError(name)
        loss.backward()
        opt.step()
        state["t"] += 1

    return step


VARIANTS = ["relu", "cr", "cr+dreg", "softplus", "softplus+igpen", "softplus+projection"]
RATIOS = {
    "polyVsRelu": ("cr", "relu"),
    "dregOverhead": ("cr+dreg", "cr"),
    "igpenVsDreg": ("softplus+igpen", "cr+dreg"),
    "projectionVsDreg": ("softplus+projection", "cr+dreg"),
    "igpenOverSoftplus": ("softplus+igpen", "softplus"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    o = ap.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(0)
    blas = next((line.strip() for line in torch.__config__.show().splitlines() if "BLAS_INFO" in line), "")
    report = {"torch": torch.__version__, "threads": o.threads, "blas": blas, "protocol": {"steps": o.steps, "warmup": o.warmup, "repeats": o.repeats}, "shapes": []}
    for sname, dims, batch in SHAPES:
        gen = torch.Generator().manual_seed(7)
        x = torch.randn(batch, dims[0], generator=gen)
        y = torch.randint(0, dims[-1], (batch,), generator=gen)
        steps = {v: make_step(v, dims, batch, x, y, 1) for v in VARIANTS}
        for _ in range(o.warmup):
            for v in VARIANTS:
                steps[v]()
        samples = {v: [] for v in VARIANTS}
        walls = {v: [] for v in VARIANTS}
        blocks = []
        for r in range(o.repeats):
            block = {v: [] for v in VARIANTS}
            for s in range(o.steps):
                k = (r * o.steps + s) % len(VARIANTS)
                for v in VARIANTS[k:] + VARIANTS[:k]:
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    steps[v]()
                    dt = (time.process_time() - c0) * 1000
                    walls[v].append((time.perf_counter() - t0) * 1000)
                    block[v].append(dt)
                    samples[v].append(dt)
            med = {v: statistics.median(block[v]) for v in VARIANTS}
            blocks.append({k: med[a] / med[b] for k, (a, b) in RATIOS.items()})
        med = {v: statistics.median(samples[v]) for v in VARIANTS}
        wall = {v: statistics.median(walls[v]) for v in VARIANTS}
        ratios = {k: med[a] / med[b] for k, (a, b) in RATIOS.items()}
        wall_ratios = {k: wall[a] / wall[b] for k, (a, b) in RATIOS.items()}
        ranges = {k: [min(b[k] for b in blocks), max(b[k] for b in blocks)] for k in RATIOS}
        print(f"\n## {sname} (torch {torch.__version__}, {o.threads} thread(s))\n")
        print("| variant | median ms (cpu) | median ms (wall) |")
        print("| --- | --- | --- |")
        for v in VARIANTS:
            print(f"| {v} | {med[v]:.2f} | {wall[v]:.2f} |")
        print("\n| ratio | value (cpu) | range over blocks | value (wall) |")
        print("| --- | --- | --- | --- |")
        for k in RATIOS:
            print(f"| {k} | {ratios[k]:.2f} | {ranges[k][0]:.2f}–{ranges[k][1]:.2f} | {wall_ratios[k]:.2f} |")
        report["shapes"].append({"name": sname, "dims": dims, "batch": batch, "clock": "cpu", "medianMs": med, "wallMedianMs": wall, "ratios": ratios, "ratioRanges": ranges, "wallRatios": wall_ratios})
    print()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
