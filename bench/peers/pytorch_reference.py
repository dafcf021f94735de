#!/usr/bin/env python3
"""The rekindle benchmark's model trained by plain PyTorch, for comparing tokens/s on one machine.

Same model and batch as bench/src/Configs.ts: a pre-LayerNorm BERT-style encoder (token + position
embeddings; per block LN -> self-attention with biases on Q, K, V, O -> residual, LN -> FF
act(x W_in) W_out without biases -> residual; final LN), masked-LM head (with bias) applied at the
~15% target positions only, mean cross-entropy, Adam (lr 1e-3). Synthetic uniform tokens.

    python3 bench/peers/pytorch_reference.py [--config reference] [--threads 2] [--steps 6] [--warmup 2]

Prints one JSON line: {"bench": "pytorch-reference", "config", "threads", "tokensPerSec",
"stepMs": {"median", "min", "max"}, "torch", "blas"}. Thread count: torch.set_num_threads.
Tips (from measurements on the project's 2-core VM): Debian's python3-torch links the reference BLAS
unless libopenblas0-openmp is installed (~13x slower); GLIBC_TUNABLES=glibc.malloc.hugetlb=1 cuts
page-fault time (these VMs fault expensively).
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    "tiny": dict(d=128, heads=4, layers=2, d_ff=512, seq=64, vocab=4096, batch=16),
    "reference": dict(d=256, heads=4, layers=4, d_ff=1024, seq=128, vocab=8192, batch=16),
    "wide": dict(d=256, heads=4, layers=4, d_ff=4096, seq=128, vocab=8192, batch=16),
}


class Block(nn.Module):
    def __init__(self, d, heads, d_ff, activation):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.qkv = nn.Linear(d, 3 * d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.w_in = nn.Linear(d, d_ff, bias=False)
        self.w_out = nn.Linear(d_ff, d, bias=False)
        self.act = activation

    def forward(self, x):
        b, t, d = x.shape
        h = self.ln1(x)
        q, k, v = self.qkv(h).split(d, dim=-1)
        split = lambda z: z.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        scores = (q * (1.0 / math.sqrt(d // self.heads))) @ k.transpose(-2, -1)
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(ctx)
        return x + self.w_out(self.act(self.w_in(self.ln2(x))))


class Model(nn.Module):
    def __init__(self, c, activation):
        super().__init__()
        self.tok = nn.Embedding(c["vocab"], c["d"])
        self.pos = nn.Parameter(torch.randn(c["seq"], c["d"]) * 0.02)
        self.blocks = nn.ModuleList(Block(c["d"], c["heads"], c["d_ff"], activation) for _ in range(c["layers"]))
        self.ln = nn.LayerNorm(c["d"], eps=1e-5)
        self.head = nn.Linear(c["d"], c["vocab"])

    def loss(self, ids, positions, targets):
        x = self.tok(ids) + self.pos
        for blk in self.blocks:
            x = blk(x)
        x = self.ln(x).reshape(-1, x.shape[-1])[positions]
        return F.cross_entropy(self.head(x), targets)


def batch(c, g):
    n = c["batch"] * c["seq"]
    ids = torch.randint(5, c["vocab"], (n,), generator=g)
    mask = torch.rand(n, generator=g) < 0.15
    positions = mask.nonzero().squeeze(1)
    targets = ids[positions].clone()
    ids[positions] = 4
    return ids.view(c["batch"], c["seq"]), positions, targets


def blas():
    try:
        return torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0]
    except Exception:  # noqa: BLE001
        return "unknown"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", default="reference", choices=sorted(CONFIGS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--activation", default="relu", choices=["relu", "gelu"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    c = CONFIGS[a.config]
    model = Model(c, nn.ReLU() if a.activation == "relu" else nn.GELU(approximate="tanh"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1234)
    batches = [batch(c, g) for _ in range(2)]
    times = []
    for i in range(a.warmup + a.steps):
        ids, positions, targets = batches[i % 2]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model.loss(ids, positions, targets)
        loss.backward()
        opt.step()
        loss.item()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    tokens = c["batch"] * c["seq"]
    med = statistics.median(times)
    print(json.dumps({
        "bench": "pytorch-reference", "config": a.config, "threads": a.threads, "activation": a.activation,
        "tokensPerSec": tokens / (med / 1000), "stepMs": {"median": med, "min": min(times), "max": max(times)},
        "parameters": sum(p.numel() for p in model.parameters()), "torch": torch.__version__, "blas": blas(),
    }))


if __name__ == "__main__":
    main()
