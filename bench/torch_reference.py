#!/usr/bin/env python3
"""PyTorch training-step throughput on curv's model architectures.

Optional: needs only python3 and PyTorch (Debian: `apt-get install python3-torch`).
curv itself never depends on it.

Builds four of curv's models in float32. They use the same parameter names as
curv and the same layouts (Linear weight [out, in], Conv2d weight
[out, in, kh, kw]), so the modules' state_dict keys match curv's checkpoint
tensors:

  mlp          fc1 784-256, ReLU, fc2 256-256, ReLU, fc3 256-10;
               batch 128, softmax cross-entropy (mean)
  lenet5       conv1 1->6 5x5 pad 2, ReLU, max-pool 2, conv2 6->16 5x5, ReLU,
               max-pool 2, fc1 400-120, ReLU, fc2 120-84, ReLU, fc3 84-10;
               batch 128, softmax cross-entropy (mean)
  autoencoder  enc1..enc4 784-1000-500-250-30 (linear code),
               dec1..dec4 30-250-500-1000-784, sigmoid after every layer but
               enc4 and dec4; batch 128, BCE with logits against the input,
               summed over the 784 pixels and averaged over the batch
  transformer  decoder-only character LM, vocab 83, d 128, context 64,
               2 pre-LayerNorm blocks with 4 heads (tok, pos, blocks.L.{ln1,
               qkv, proj, ln2, fc1, fc2}, ln, head), exact GELU, attention
               written out with matmuls, a causal mask and softmax;
               batch 32 x 64 tokens, cross-entropy (mean) over all positions

Inputs are uniform in [0, 1) (images) or random token ids, with random labels
or targets. The image models use PyTorch's default initialisation, the
transformer GPT-2's (weights and embeddings N(0, 0.02), biases 0, LayerNorm
1 and 0), as curv does.

One training step = zero the gradients, forward, loss, backward, optimizer
step: SGD (lr 0.01, momentum 0.9) for mlp, lenet5 and autoencoder, AdamW
(lr 1e-3, PyTorch's default weight decay 0.01) for the transformer. The steps
of the selected models run interleaved round-robin (each round runs one step
of every model); medians over the rounds are reported after warm-up, with
steps/s and samples/s (tokens/s for the transformer).

    /usr/bin/python3 bench/torch_reference.py --threads 1 --rounds 30
    /usr/bin/python3 bench/torch_reference.py --threads 2 --model mlp transformer
"""

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in bench/
# First: exits with a message when PyTorch is not importable.
from torch_common import (LeNet5, add_round_args, add_thread_seed_args, set_threads, threads_line,
                          time_interleaved)

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 128
CLASSES = 10

# Transformer sizes (curv's defaults).
VOCAB = 83
D_MODEL = 128
CONTEXT = 64
LAYERS = 2
HEADS = 4
LM_BATCH = 32


# --------------------------------------------------------------------------
# Models. Attribute names are curv's parameter names (LeNet5: torch_common).

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 256)
        self.fc3 = nn.Linear(256, CLASSES)

    def forward(self, x):
        h = x.reshape(x.shape[0], -1)
        h = F.relu(self.fc1(h))
        h = F.relu(self.fc2(h))
        return self.fc3(h)


AE_WIDTHS = [784, 1000, 500, 250, 30, 250, 500, 1000, 784]
AE_NAMES = ["enc1", "enc2", "enc3", "enc4", "dec1", "dec2", "dec3", "dec4"]


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        for l, name in enumerate(AE_NAMES):
            setattr(self, name, nn.Linear(AE_WIDTHS[l], AE_WIDTHS[l + 1]))

    def forward(self, x):
        h = x.reshape(x.shape[0], -1)
        for name in AE_NAMES:
            h = getattr(self, name)(h)
            if name not in ("enc4", "dec4"):  # the code and the output stay linear
                h = torch.sigmoid(h)
        return h  # (N,784) logits


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def attention(self, qkv, mask):
        # qkv (N,T,3d) packed as [q | k | v], heads contiguous blocks of dh columns.
        n, t, d3 = qkv.shape
        d = d3 // 3
        dh = d // self.heads
        q, k, v = qkv.split(d, dim=2)
        q = q.reshape(n, t, self.heads, dh).transpose(1, 2)  # (N,H,T,dh)
        k = k.reshape(n, t, self.heads, dh).transpose(1, 2)
        v = v.reshape(n, t, self.heads, dh).transpose(1, 2)
        s = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(dh))  # (N,H,T,T)
        s = s.masked_fill(mask[:t, :t], float("-inf"))
        p = torch.softmax(s, dim=-1)
        o = torch.matmul(p, v)                                # (N,H,T,dh)
        return o.transpose(1, 2).reshape(n, t, d)

    def forward(self, h, mask):
        h = h + self.proj(self.attention(self.qkv(self.ln1(h)), mask))
        h = h + self.fc2(F.gelu(self.fc1(self.ln2(h))))  # exact (erf) GELU
        return h


class Transformer(nn.Module):
    def __init__(self, vocab=VOCAB, d=D_MODEL, context=CONTEXT, layers=LAYERS, heads=HEADS):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(context, d)  # learned positions, pos.weight (T_max,d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)
        # True above the diagonal: the positions a query may not see.
        self.register_buffer("mask", torch.triu(torch.ones(context, context, dtype=torch.bool), 1),
                             persistent=False)
        # GPT-2 initialisation, as curv.
        for name, p in self.named_parameters():
            if name.startswith(("tok.", "pos.")) or (name.endswith(".weight") and p.dim() == 2):
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)
            else:
                nn.init.ones_(p)  # LayerNorm weights

    def forward(self, ids):
        n, t = ids.shape
        h = self.tok(ids) + self.pos.weight[:t]  # (N,T,d)
        for b in self.blocks:
            h = b(h, self.mask)
        logits = self.head(self.ln(h))           # (N,T,V)
        return logits.reshape(n * t, -1)         # (N·T,V)


# --------------------------------------------------------------------------
# One training step per model: (module, optimizer, closure, samples per step, unit).

def ce_loss(model, x, y):
    return F.cross_entropy(model(x), y)


def bce_loss(model, x, _):
    logits = model(x)
    target = x.reshape(x.shape[0], -1)
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / x.shape[0]


def lm_loss(model, ids, targets):
    return F.cross_entropy(model(ids), targets.reshape(-1))


def make_setup(name, seed):
    torch.manual_seed(seed)
    if name == "transformer":
        model = Transformer()
        x = torch.randint(0, VOCAB, (LM_BATCH, CONTEXT))
        y = torch.randint(0, VOCAB, (LM_BATCH, CONTEXT))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        desc = "batch %d x %d tokens, AdamW lr 1e-3 (weight decay %g)" % (
            LM_BATCH, CONTEXT, opt.defaults["weight_decay"])
        return model, opt, lm_loss, x, y, LM_BATCH * CONTEXT, "tokens", desc
    model = {"mlp": Mlp, "lenet5": LeNet5, "autoencoder": Autoencoder}[name]()
    x = torch.rand(BATCH, 1, 28, 28)
    y = torch.randint(0, CLASSES, (BATCH,))
    loss = bce_loss if name == "autoencoder" else ce_loss
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    desc = "batch %d, SGD lr 0.01 momentum 0.9" % BATCH
    return model, opt, loss, x, y, BATCH, "samples", desc


MODELS = ["mlp", "lenet5", "autoencoder", "transformer"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", nargs="+", choices=MODELS, default=MODELS)
    add_round_args(ap)
    add_thread_seed_args(ap)
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be positive")
    if args.warmup < 0:
        ap.error("--warmup must be non-negative")

    blas = set_threads(args.threads)
    print(threads_line(blas))
    print("training step: zero grads, forward, loss, backward, optimizer step; float32")
    print()

    setups = []
    for i, name in enumerate(args.model):
        model, opt, loss_fn, x, y, samples, unit, desc = make_setup(name, args.seed + 1 + i)
        n = sum(p.numel() for p in model.parameters())

        def step(model=model, opt=opt, loss_fn=loss_fn, x=x, y=y):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model, x, y)
            loss.backward()
            opt.step()
            return loss

        setups.append((name, n, samples, unit, desc, step))

    medians, last_loss = time_interleaved([s[5] for s in setups], args.rounds, args.warmup)

    print("median of %d interleaved rounds after %d warm-up rounds" % (args.rounds, args.warmup))
    print("  %-12s %10s %10s %10s %14s  %s"
          % ("model", "params", "step [ms]", "steps/s", "per s", "setup"))
    for i, (name, n, samples, unit, desc, _) in enumerate(setups):
        t = medians[i]
        loss = last_loss[i].item()
        if not math.isfinite(loss):
            sys.stderr.write("%s: expected a finite loss, found %r\n" % (name, loss))
            sys.exit(1)
        rate = "%.1f k %s" % (samples / t / 1e3, unit)
        print("  %-12s %10d %10.3f %10.1f %14s  %s" % (name, n, t * 1e3, 1 / t, rate, desc))


if __name__ == "__main__":
    main()
