#!/usr/bin/env python3
"""PyTorch reference timings for `curv bench`.

Optional: needs only python3 and PyTorch (Debian: `apt-get install python3-torch`).
curv itself never depends on it.

Builds the same two models as `curv bench` (MLP 784-256-256-10 ReLU and
LeNet-5), batch 128, float32, softmax cross-entropy averaged over the batch,
with PyTorch's default initialisation, inputs uniform in [0, 1) and random
labels, and times, interleaved round-robin (each round runs every job of every
selected model once; medians over the rounds are reported after warm-up):

  gradient             forward + loss + torch.autograd.grad w.r.t. the parameters
  H·v (own forward)    forward, grads with create_graph=True, then
                       autograd.grad(grads, params, v) (double backward)
  G·v (own fwd, forward-mode)
                       forward-mode J·v (torch.autograd.forward_ad dual
                       tensors: one forward pass yields the logits and J·v),
                       then H_out·(J·v) with H_out = (diag(p) - p p^T)/N per
                       example, then the vjp J^T(...) by reverse mode
  G·v (own fwd, double-vjp)
                       the same product with J·v taken by the double-vjp trick
                       (reverse mode twice through a dummy cotangent u)
  H·v / G·v (cached forward)
                       the forward graph is built once outside the timed region
                       and retained; each product reuses it (the first
                       backward of H·v is redone, as it must be; G·v uses the
                       double-vjp trick since forward mode needs a new forward)

A correctness check runs first on the MLP in float64: H·v by double backward
against a central finite difference of gradients, and the two G·v methods
against each other; the relative errors are printed.

    python3 bench/pytorch_reference.py --threads 1 --rounds 30 --model mlp lenet5
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in bench/
# First: exits with a message when PyTorch is not importable.
from torch_common import (add_round_args, add_thread_seed_args, set_threads, threads_line,
                          time_interleaved)

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.autograd.forward_ad as fwAD

BATCH = 128
CLASSES = 10


# --------------------------------------------------------------------------
# Models: nn.Modules give PyTorch's default initialisation; the forward passes
# are written functionally over an explicit parameter list so that the same
# code runs with plain, float64 or dual (forward-mode) parameters.

def make_mlp():
    layers = [nn.Linear(784, 256), nn.Linear(256, 256), nn.Linear(256, CLASSES)]
    params = [t for l in layers for t in (l.weight, l.bias)]

    def forward(p, x):
        h = x.reshape(x.shape[0], -1)
        h = F.relu(F.linear(h, p[0], p[1]))
        h = F.relu(F.linear(h, p[2], p[3]))
        return F.linear(h, p[4], p[5])

    return params, forward


def make_lenet5():
    c1 = nn.Conv2d(1, 6, 5, padding=2)
    c2 = nn.Conv2d(6, 16, 5)
    f1 = nn.Linear(16 * 5 * 5, 120)
    f2 = nn.Linear(120, 84)
    f3 = nn.Linear(84, CLASSES)
    params = [t for l in (c1, c2, f1, f2, f3) for t in (l.weight, l.bias)]

    def forward(p, x):
        h = F.max_pool2d(F.relu(F.conv2d(x, p[0], p[1], padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, p[2], p[3])), 2)
        h = h.reshape(h.shape[0], -1)
        h = F.relu(F.linear(h, p[4], p[5]))
        h = F.relu(F.linear(h, p[6], p[7]))
        return F.linear(h, p[8], p[9])

    return params, forward


MODELS = {"mlp": make_mlp, "lenet5": make_lenet5}


# --------------------------------------------------------------------------
# Products.

def gradient(forward, params, x, y):
    loss = F.cross_entropy(forward(params, x), y)
    return torch.autograd.grad(loss, params)


def hvp_double_backward(forward, params, x, y, v):
    loss = F.cross_entropy(forward(params, x), y)
    g = torch.autograd.grad(loss, params, create_graph=True)
    return torch.autograd.grad(g, params, v)


def output_hessian(logits, jv):
    """Softmax cross-entropy (mean over the batch) output Hessian applied to jv:
    (diag(p) - p p^T) jv / N for each example."""
    p = torch.softmax(logits.detach(), dim=1)
    pjv = p * jv
    return (pjv - p * pjv.sum(dim=1, keepdim=True)) / logits.shape[0]


def gvp_forward_mode(forward, params, x, v):
    with fwAD.dual_level():
        dual = [fwAD.make_dual(p, t) for p, t in zip(params, v)]
        out = fwAD.unpack_dual(forward(dual, x))
        logits, jv = out.primal, out.tangent
        # The primal keeps its reverse-mode graph back to params.
        u = output_hessian(logits, jv.detach())
        return torch.autograd.grad(logits, params, u)


def jvp_double_vjp(logits, params, v, retain):
    dummy = torch.zeros_like(logits, requires_grad=True)
    g = torch.autograd.grad(logits, params, dummy, create_graph=True, retain_graph=True)
    (jv,) = torch.autograd.grad(g, dummy, v, retain_graph=retain)
    return jv


def gvp_double_vjp(forward, params, x, v):
    logits = forward(params, x)
    jv = jvp_double_vjp(logits, params, v, retain=True)
    return torch.autograd.grad(logits, params, output_hessian(logits, jv))


def make_cached(forward, params, x, y, v):
    """Forward graph built once, kept alive; products reuse it."""
    logits = forward(params, x)
    loss = F.cross_entropy(logits, y)

    def hvp_cached():
        g = torch.autograd.grad(loss, params, create_graph=True, retain_graph=True)
        return torch.autograd.grad(g, params, v, retain_graph=True)

    def gvp_cached():
        jv = jvp_double_vjp(logits, params, v, retain=True)
        return torch.autograd.grad(logits, params, output_hessian(logits, jv),
                                   retain_graph=True)

    return hvp_cached, gvp_cached


# --------------------------------------------------------------------------
# Correctness check (MLP, float64).

def rel_err(a, b):
    num = sum(((s - t) ** 2).sum() for s, t in zip(a, b)).sqrt()
    den = sum((t ** 2).sum() for t in b).sqrt()
    return (num / den).item()


def check(seed):
    torch.manual_seed(seed)
    params32, forward = make_mlp()
    params = [p.detach().double().requires_grad_(True) for p in params32]
    x = torch.rand(BATCH, 1, 28, 28, dtype=torch.float64)
    y = torch.randint(0, CLASSES, (BATCH,))
    v = [torch.randn_like(p) for p in params]

    hv = hvp_double_backward(forward, params, x, y, v)
    eps = 1e-6 / (sum((t ** 2).sum() for t in v).sqrt().item() / len(v) ** 0.5)

    def grad_at(sign):
        shifted = [(p + sign * eps * t).detach().requires_grad_(True) for p, t in zip(params, v)]
        return gradient(forward, shifted, x, y)

    fd = [(a - b) / (2 * eps) for a, b in zip(grad_at(+1), grad_at(-1))]
    gv_fwd = gvp_forward_mode(forward, params, x, v)
    gv_vjp = gvp_double_vjp(forward, params, x, v)
    print("check (mlp, float64): H·v double backward vs central finite difference"
          " of gradients: relative error %.2e" % rel_err(hv, fd))
    print("check (mlp, float64): G·v forward-mode vs double-vjp:"
          " relative error %.2e" % rel_err(gv_fwd, gv_vjp))


# --------------------------------------------------------------------------

JOBS = [
    ("gradient (fwd + bwd)", "grad"),
    ("H·v (own forward)", "hvp"),
    ("G·v (own fwd, forward-mode)", "gvp"),
    ("G·v (own fwd, double-vjp)", "gvp2"),
    ("H·v (cached forward)", "hvp_c"),
    ("G·v (cached forward)", "gvp_c"),
]


def build_jobs(name, seed):
    torch.manual_seed(seed)
    params, forward = MODELS[name]()
    params = [p.detach().requires_grad_(True) for p in params]
    x = torch.rand(BATCH, 1, 28, 28)
    y = torch.randint(0, CLASSES, (BATCH,))
    v = [torch.randn_like(p) for p in params]
    hvp_c, gvp_c = make_cached(forward, params, x, y, v)
    fns = {
        "grad": lambda: gradient(forward, params, x, y),
        "hvp": lambda: hvp_double_backward(forward, params, x, y, v),
        "gvp": lambda: gvp_forward_mode(forward, params, x, v),
        "gvp2": lambda: gvp_double_vjp(forward, params, x, v),
        "hvp_c": hvp_c,
        "gvp_c": gvp_c,
    }
    return sum(p.numel() for p in params), fns


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", nargs="+", choices=sorted(MODELS), default=["mlp", "lenet5"])
    add_round_args(ap)
    add_thread_seed_args(ap)
    ap.add_argument("--no-check", action="store_true", help="skip the correctness check")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be positive")

    blas = set_threads(args.threads)
    print(threads_line(blas))
    print("G·v method: forward-mode J·v (torch.autograd.forward_ad dual tensors,"
          " one forward pass), then H_out, then reverse-mode vjp;"
          " double-vjp row and cached row: J·v by the double-vjp trick")
    if not args.no_check:
        check(args.seed)
    print()

    models = []
    for i, name in enumerate(args.model):
        n, fns = build_jobs(name, args.seed + 1 + i)
        models.append((name, n, fns))

    order = [(mi, key) for mi in range(len(models)) for _, key in JOBS]
    medians, _ = time_interleaved([models[mi][2][key] for mi, key in order],
                                  args.rounds, args.warmup)
    median = dict(zip(order, medians))

    for mi, (name, n, _) in enumerate(models):
        print("%s, batch %d, float32, %d parameters, median of %d interleaved rounds"
              % (name, BATCH, n, args.rounds))
        print("  %-28s %9s %9s" % ("product", "time [ms]", "ratio"))
        base = median[(mi, "grad")]
        for label, key in JOBS:
            t = median[(mi, key)]
            extra = "  (%.1f k samples/s)" % (BATCH / base / 1e3) if key == "grad" else ""
            print("  %-28s %9.3f %9.3f%s" % (label, t * 1e3, t / base, extra))
        print()


if __name__ == "__main__":
    main()
