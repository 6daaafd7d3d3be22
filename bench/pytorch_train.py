#!/usr/bin/python3
"""PyTorch CPU peer of bench/train.ts: the same "model A" on the same MNIST bytes.

Set up as a speed-caring user would on Debian: python3-torch with libopenblas0-pthread (libblas.so.3
-> OpenBLAS), torch.set_num_threads(os.cpu_count()), OPENBLAS_NUM_THREADS=1 (torch parallelises
itself; nested OpenBLAS threads only oversubscribe). Prints exactly one JSON line on stdout.

usage: pytorch_train.py --images F --labels F --count N [--test-images F --test-labels F]
                        [--runs R] [--batch 64] [--infer-batch 256] [--seed 0]
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
from torch import nn


def read_idx(path, count=None):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic >> 8 != 0x08:  # 0x00000803 images / 0x00000801 labels: unsigned bytes
        raise ValueError(f"{path}: IDX magic {magic:#010x} is not an unsigned-byte IDX file")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return arr if count is None else arr[:count]


def model_a():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10),
    )  # softmax is inside CrossEntropyLoss (same maths as tfjs softmax + categoricalCrossentropy)


def blas_library():
    """The BLAS shared object actually mapped into this process (after torch ran a matmul)."""
    libs = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                p = line.split()[-1]
                if "blas" in os.path.basename(p):
                    libs.add(os.path.realpath(p))
    except OSError:
        pass
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--test-images")
    ap.add_argument("--test-labels")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--infer-batch", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)

    x = torch.from_numpy(read_idx(args.images, args.count).astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(read_idx(args.labels, args.count).astype(np.int64))
    n = x.shape[0]
    if args.test_images and args.test_labels:
        tx = torch.from_numpy(read_idx(args.test_images).astype(np.float32) / 255.0).unsqueeze(1)
        ty = torch.from_numpy(read_idx(args.test_labels).astype(np.int64))
    else:
        tx, ty = x, y

    model = model_a()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def train_epoch(limit=None):
        model.train()
        perm = torch.randperm(n)
        seen = 0
        start = time.perf_counter()
        for i in range(0, n, args.batch):
            idx = perm[i : i + args.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            seen += idx.shape[0]
            if limit is not None and seen >= limit:
                break
        return seen / (time.perf_counter() - start)

    def infer():
        model.eval()
        correct = 0
        start = time.perf_counter()
        with torch.no_grad():
            for i in range(0, tx.shape[0], args.infer_batch):
                out = model(tx[i : i + args.infer_batch])
                correct += int((out.argmax(1) == ty[i : i + args.infer_batch]).sum())
        return tx.shape[0] / (time.perf_counter() - start), correct / tx.shape[0]

    train_epoch(limit=20 * args.batch)  # warm-up: allocator, thread pool, first-call paths
    train_runs = [train_epoch() for _ in range(args.runs)]
    infer()  # warm-up
    infer_runs = []
    accuracy = None
    for _ in range(args.runs):
        rate, accuracy = infer()
        infer_runs.append(rate)

    libs = blas_library()
    print(json.dumps({
        "name": "pytorch-cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "blas": "openblas" if any("openblas" in p for p in libs) else (os.path.basename(libs[0]) if libs else "unknown"),
        "blasLibraries": libs,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "trainImages": n,
        "epochs": args.runs,
        "warmupImages": 20 * args.batch,
        "trainImagesPerSec": statistics.median(train_runs),
        "inferImagesPerSec": statistics.median(infer_runs),
        "trainRuns": train_runs,
        "inferRuns": infer_runs,
        "testAccuracy": accuracy,
        "testImages": int(tx.shape[0]),
    }))


if __name__ == "__main__":
    sys.exit(main())
