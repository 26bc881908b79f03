"""Pieces shared by the optional PyTorch scripts in bench/ (pytorch_reference.py,
torch_reference.py, torch_checkpoint.py): the PyTorch import check, thread
control for torch and OpenBLAS, the common options, the interleaved timing loop
and LeNet-5 with curv's parameter names.

The scripts put their own directory on sys.path and import this module before
torch, so a missing PyTorch gives the message below rather than a traceback.
"""

import ctypes
import ctypes.util
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write("PyTorch is not importable by %s: apt-get install python3-torch is needed"
                     " (Debian's package serves /usr/bin/python3)\n" % sys.executable)
    sys.exit(1)


# --------------------------------------------------------------------------
# BLAS threads. Debian's torch calls OpenBLAS for its GEMMs (BLAS_INFO=generic)
# and torch.set_num_threads does not reach OpenBLAS's own thread pool, so the
# thread count is set there too, through the library already loaded by torch.

def _openblas():
    for name in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_num_threads.restype = ctypes.c_int
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib
        except (OSError, AttributeError):
            pass
    return None


def set_threads(threads):
    """Sets torch's and OpenBLAS's thread counts when threads > 0.
    Returns the OpenBLAS library, or None when it is not found."""
    blas = _openblas()
    if threads > 0:
        torch.set_num_threads(threads)
        if blas is not None:
            blas.openblas_set_num_threads(threads)
    return blas


def threads_line(blas):
    """'PyTorch VERSION, torch threads: N, OpenBLAS threads: M (OPENBLAS VERSION)'."""
    blas_desc = "not found"
    if blas is not None:
        blas_desc = "%d (%s)" % (blas.openblas_get_num_threads(),
                                 blas.openblas_get_config().decode().split(" ")[1])
    return ("PyTorch %s, torch threads: %d, OpenBLAS threads: %s"
            % (torch.__version__, torch.get_num_threads(), blas_desc))


# --------------------------------------------------------------------------
# Options.

def add_round_args(ap):
    """--rounds and --warmup, for time_interleaved."""
    ap.add_argument("--rounds", type=int, default=30, help="timed rounds (medians reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed rounds first")


def add_thread_seed_args(ap):
    """--threads (for set_threads) and --seed."""
    ap.add_argument("--threads", type=int, default=0,
                    help="torch and OpenBLAS threads (0: leave the defaults)")
    ap.add_argument("--seed", type=int, default=0)


# --------------------------------------------------------------------------
# Timing.

def time_interleaved(fns, rounds, warmup):
    """Runs warmup + rounds rounds, each calling every function of fns once, in order.
    Returns each function's median time [s] over the last `rounds` rounds, and
    each one's last result (kept until after the clock stops, so releasing the
    previous result is not timed)."""
    times = [[] for _ in fns]
    last = [None] * len(fns)
    for r in range(warmup + rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            out = fn()
            t1 = time.perf_counter()
            if r >= warmup:
                times[i].append(t1 - t0)
            last[i] = out
    return [statistics.median(t) for t in times], last


# --------------------------------------------------------------------------
# LeNet-5 with curv's parameter names and layouts, so that state_dict keys
# match curv's checkpoint tensors.

class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)  # (N,6,14,14)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2, 2)  # (N,16,5,5)
        h = h.reshape(h.shape[0], -1)                  # (N,400)
        h = F.relu(self.fc1(h))
        h = F.relu(self.fc2(h))
        return self.fc3(h)
