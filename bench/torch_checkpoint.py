#!/usr/bin/env python3
"""Train LeNet-5 on Fashion-MNIST in PyTorch and write a safetensors checkpoint that curv loads.

Optional: needs only python3 and PyTorch (Debian: `apt-get install python3-torch`).
curv itself never depends on it, and the safetensors package is not needed:
the file is written by the small writer below.

The model is curv's `lenet5` with curv's parameter names and layouts
(conv1, conv2: Conv2d weight [out, in, kh, kw]; fc1, fc2, fc3: Linear weight
[out, in]; each with .bias):

  conv1 1->6 5x5 pad 2, ReLU, max-pool 2, conv2 6->16 5x5, ReLU, max-pool 2,
  flatten, fc1 400-120, ReLU, fc2 120-84, ReLU, fc3 84-10

Data: the raw IDX files in ${CURV_DATA:-~/.cache/curv}/fashion-mnist/ (as
datasets/fetch.sh leaves them; .gz versions are read too), inputs pixel/255
with no normalisation, NCHW (N,1,28,28), as curv reads them.

Training: softmax cross-entropy (mean), SGD lr 0.05, momentum 0.9, batch 128,
the training set shuffled each epoch, for --epochs (default 2). The test
accuracy is then measured in PyTorch and the parameters are written to --out
as float32 safetensors, with no curv metadata, so curv needs the architecture
named:

    /usr/bin/python3 bench/torch_checkpoint.py --epochs 2 --out lenet5_torch.safetensors
    build/tools/curv eval --checkpoint lenet5_torch.safetensors --data fashion-mnist --model lenet5

The last lines printed are the PyTorch test loss and test accuracy, e.g.
`pytorch test accuracy: 89.71%`; curv eval's test_accuracy (a fraction) and
test_loss should agree to within ~0.1 point and a few 1e-6.
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in bench/
# First: exits with a message when PyTorch is not importable.
from torch_common import LeNet5, add_thread_seed_args, set_threads

import torch
import torch.nn.functional as F


# --------------------------------------------------------------------------
# safetensors writer (and a reader, to check what was written).
#   8 bytes   little-endian u64 N, the header's length
#   N bytes   JSON {"__metadata__": {str: str}, "NAME": {"dtype", "shape", "data_offsets"}, ...},
#             padded with spaces to a multiple of 8
#   the rest  the tensors' raw little-endian bytes, offsets relative to its start
# Tensors are laid out as the safetensors library does: by decreasing dtype
# alignment, then by name (only F32 and F64 are written here).

_DTYPES = {torch.float32: ("F32", "<f4", 4), torch.float64: ("F64", "<f8", 8)}


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: torch tensor (float32 or float64)}; metadata: {str: str} or None."""
    entries = []
    for name, t in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError("safetensors: invalid tensor name %r" % (name,))
        if t.dtype not in _DTYPES:
            raise ValueError("safetensors: %s: expected float32 or float64, found %s" % (name, t.dtype))
        dtype, np_dtype, size = _DTYPES[t.dtype]
        data = t.detach().cpu().contiguous().numpy().astype(np_dtype, copy=False).tobytes()
        entries.append((-size, name, dtype, list(t.shape), data))
    entries.sort(key=lambda e: (e[0], e[1]))

    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError("safetensors: metadata keys and values must be strings, found %r: %r" % (k, v))
        header["__metadata__"] = dict(metadata)
    offset = 0
    for _, name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # keeps the data 8-byte aligned

    tmp = path + ".tmp"
    with open(tmp, "wb") as f:  # written beside the target, then renamed over it
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for e in entries:
            f.write(e[4])
    os.replace(tmp, path)
    return 8 + len(text) + offset


def read_safetensors(path):
    """Returns ({name: torch tensor}, metadata dict)."""
    import numpy as np
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    out = {}
    for name, e in header.items():
        np_dtype = {"F32": "<f4", "F64": "<f8"}[e["dtype"]]
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=np_dtype).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, metadata


# --------------------------------------------------------------------------
# Fashion-MNIST from IDX files.

def _open(path):
    if os.path.exists(path):
        return open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    sys.stderr.write("%s: expected an IDX file (or %s.gz), found none"
                     " (datasets/fetch.sh fashion-mnist fetches it)\n" % (path, path))
    sys.exit(1)


def read_idx(path, dims):
    with _open(path) as f:
        blob = f.read()
    magic = struct.unpack(">I", blob[:4])[0]
    if magic != 0x0800 | dims:
        sys.stderr.write("%s: expected IDX magic 0x%x, found 0x%x\n" % (path, 0x0800 | dims, magic))
        sys.exit(1)
    shape = struct.unpack(">%dI" % dims, blob[4:4 + 4 * dims])
    body = blob[4 + 4 * dims:]
    count = 1
    for s in shape:
        count *= s
    if len(body) != count:
        sys.stderr.write("%s: expected %d data bytes, found %d\n" % (path, count, len(body)))
        sys.exit(1)
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)


def load_split(root, prefix):
    images = read_idx(os.path.join(root, prefix + "-images-idx3-ubyte"), 3)
    labels = read_idx(os.path.join(root, prefix + "-labels-idx1-ubyte"), 1)
    if images.shape[0] != labels.shape[0]:
        sys.stderr.write("%s: expected as many labels as images, found %d and %d\n"
                         % (root, labels.shape[0], images.shape[0]))
        sys.exit(1)
    x = images.to(torch.float32).div_(255.0).unsqueeze(1)  # (N,1,28,28), pixel/255
    return x, labels.to(torch.int64)


# --------------------------------------------------------------------------

def evaluate(model, x, y, batch=1000):
    """Test accuracy [%] and mean cross-entropy."""
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            logits = model(x[i:i + batch])
            correct += (logits.argmax(dim=1) == y[i:i + batch]).sum().item()
            loss += F.cross_entropy(logits.double(), y[i:i + batch], reduction="sum").item()
    return 100.0 * correct / x.shape[0], loss / x.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--out", default="lenet5_torch.safetensors", help="the safetensors file to write")
    ap.add_argument("--data", default=None,
                    help="the fashion-mnist directory (default: ${CURV_DATA:-~/.cache/curv}/fashion-mnist)")
    add_thread_seed_args(ap)
    args = ap.parse_args()
    if args.epochs < 0:
        ap.error("--epochs must be non-negative")

    set_threads(args.threads)

    root = args.data
    if root is None:
        cache = os.environ.get("CURV_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "curv")
        root = os.path.join(cache, "fashion-mnist")
    x_train, y_train = load_split(root, "train")
    x_test, y_test = load_split(root, "t10k")
    print("PyTorch %s, torch threads: %d; fashion-mnist from %s: %d train, %d test"
          % (torch.__version__, torch.get_num_threads(), root, x_train.shape[0], x_test.shape[0]))

    torch.manual_seed(args.seed)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(args.seed)
    batch = 128
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total, seen = 0.0, 0
        for i in range(0, x_train.shape[0], batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * idx.shape[0]
            seen += idx.shape[0]
        model.eval()
        acc, test_loss = evaluate(model, x_test, y_test)
        print("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.2f%% (%.1f s)"
              % (epoch + 1, total / seen, test_loss, acc, time.perf_counter() - t0))

    tensors = {k: v.detach().to(torch.float32) for k, v in model.state_dict().items()}
    size = write_safetensors(args.out, tensors, {"format": "pt"})
    back, _ = read_safetensors(args.out)
    if sorted(back) != sorted(tensors) or any(not torch.equal(back[k], tensors[k]) for k in tensors):
        sys.stderr.write("%s: expected to read back the tensors written, found a mismatch\n" % args.out)
        sys.exit(1)
    print("wrote %s: %d tensors, %d bytes (no curv metadata: use --model lenet5)"
          % (args.out, len(tensors), size))
    print("  " + ", ".join("%s %s" % (k, list(v.shape)) for k, v in sorted(tensors.items())))

    model.eval()
    acc, test_loss = evaluate(model, x_test, y_test)
    print("pytorch test loss: %.6f" % test_loss)
    print("pytorch test accuracy: %.2f%%" % acc)


if __name__ == "__main__":
    main()
