"""Time and memory of xentref's softmax cross-entropy beside plain NumPy, SciPy and PyTorch.

Usage: ``python tools/bench.py [--repeat N] [--quick] [--only main|scaling|huge|linear] [--save FILE]``
(``make bench``). Each implementation runs in a fresh process: it allocates
the inputs, records its resident memory, resets the peak (Linux
``/proc/self/clear_refs``), calls the implementation `repeat` times and
reports the median and the spread of the wall-clock times and the peak
resident memory above that baseline (``VmHWM``), which includes every
temporary and output. GB/s is the size of the logits (or of the hidden
states and the matrix) over the median time. Nothing here is a test: the
machine may be shared, so the load average is printed with the results,
and the spread shows how steady they were.

``--save FILE`` also writes the scaling run (time and memory against the
number of classes) as JSON, with the machine, the versions and the date,
for the book's chapter on accuracy and cost to plot without timing
anything itself (``make bench BENCH="--quick --only scaling --save
book/data/bench.json"``).

Implementations, for integer labels and ``reduction="mean"``:

- ``xentref``: :func:`xentref.softmax_cross_entropy` (and
  :func:`xentref.value_and_grad.softmax_cross_entropy` for the loss and
  the gradient, from one pass);
- ``numpy``: the shifted formula in plain NumPy, whole arrays at once;
- ``scipy``: ``scipy.special.logsumexp`` (and ``softmax`` for the gradient);
- ``torch``: ``torch.nn.functional.cross_entropy`` on the same memory
  (``torch.from_numpy``), with ``backward`` for the gradient;
- for the classifier head (hidden states times a matrix): ``xentref fused``
  (:func:`xentref.linear_softmax_cross_entropy`, and its
  ``value_and_grad``), ``xentref`` on the logits formed first, and
  ``torch`` on ``hidden @ weight.T``.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _inputs(n, k, dtype, d=None):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, k, n)
    if d is None:
        logits = np.empty((n, k), dtype=dtype)
        for start in range(0, n, 64):
            logits[start:start + 64] = rng.standard_normal((min(64, n - start), k), dtype=np.float32) * 3
        return (logits, labels)
    hidden = rng.standard_normal((n, d)).astype(dtype)
    weight = (rng.standard_normal((k, d)) / np.sqrt(d)).astype(dtype)
    return (hidden, weight, labels)


def _calls(implementation, gradient, inputs):
    """The call to time, on inputs already in memory."""
    if implementation in ("xentref", "xentref fused"):
        import xentref

        if len(inputs) == 3 and implementation == "xentref":
            hidden, weight, labels = inputs
            if gradient:
                def call():
                    loss, g = xentref.value_and_grad.softmax_cross_entropy(hidden @ weight.T, labels)
                    return loss, g @ weight, g.T @ hidden
                return call
            return lambda: xentref.softmax_cross_entropy(hidden @ weight.T, labels)
        function = xentref.linear_softmax_cross_entropy if len(inputs) == 3 else xentref.softmax_cross_entropy
        if gradient:
            together = getattr(xentref.value_and_grad, function.__name__)
            return lambda: together(*inputs)
        return lambda: function(*inputs)
    if implementation == "numpy":
        logits, labels = inputs
        rows = np.arange(len(labels))

        def call():
            top = np.max(logits, axis=1, keepdims=True)
            exps = np.exp(logits - top)
            total = np.sum(exps, axis=1, keepdims=True)
            loss = np.mean(np.log(total[:, 0]) + top[:, 0] - logits[rows, labels])
            if not gradient:
                return loss
            grad = exps / total
            grad[rows, labels] -= 1
            return loss, grad / len(labels)
        return call
    if implementation == "scipy":
        from scipy import special

        logits, labels = inputs
        rows = np.arange(len(labels))

        def call():
            loss = np.mean(special.logsumexp(logits, axis=1) - logits[rows, labels])
            if not gradient:
                return loss
            grad = special.softmax(logits, axis=1)
            grad[rows, labels] -= 1
            return loss, grad / len(labels)
        return call
    if implementation == "torch":
        import torch

        tensors = [torch.from_numpy(a) for a in inputs]
        labels = tensors[-1]

        def call():
            if len(tensors) == 3:
                hidden, weight = (t.requires_grad_(gradient) for t in tensors[:2])
                logits = hidden @ weight.T
            else:
                logits = tensors[0].requires_grad_(gradient)
            loss = torch.nn.functional.cross_entropy(logits, labels)
            if gradient:
                loss.backward()
                for t in tensors[:-1]:
                    t.grad = None
            return loss
        return call
    raise ValueError(f"unknown implementation {implementation!r}")


def worker(implementation, gradient, n, k, dtype, d, repeat):
    """Run in a fresh process: print a JSON line with the times and the peak extra memory."""
    inputs = _inputs(n, k, np.dtype(dtype), d)
    call = _calls(implementation, gradient, inputs)
    baseline = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
        del result
    print(json.dumps({"times": times, "peak": _status("VmHWM") - baseline}))


def measure(implementation, gradient, n, k, dtype, d=None, repeat=5):
    command = [sys.executable, __file__, "--worker", implementation, str(int(gradient)), str(n), str(k), dtype,
               str(d or 0), str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def load():
    return os.getloadavg()[0]


def machine():
    """What the numbers were measured on: processor, cores, memory, system and versions."""
    info = {field: "" for field in ("model name", "MemTotal")}
    for name in ("/proc/cpuinfo", "/proc/meminfo"):
        for line in Path(name).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in info and not info[key.strip()]:
                info[key.strip()] = value.strip()
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for module in ("scipy", "torch", "xentref"):
        versions[module] = __import__(module).__version__
    return {
        "processor": info["model name"] or platform.processor(),
        "cpus": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory": info["MemTotal"],
        "system": platform.platform(),
        "versions": versions,
    }


def _row(name, result, size, reference, data_bytes):
    if "error" in result:
        return f"  {name:<15} failed: {result['error']}"
    times = result["times"]
    median = statistics.median(times)
    spread = f"{min(times):.3f}-{max(times):.3f}"
    ratio = f"{median / reference:5.2f}" if reference else "    -"
    return (f"  {name:<15} {median:8.3f} s  ({spread:>13})  {data_bytes / median / 1e9:6.2f} GB/s  "
            f"x torch {ratio}  peak +{result['peak'] / 2**20:7.0f} MiB ({100 * result['peak'] / size:5.1f}%)")


def table(title, implementations, n, k, dtype, repeat, d=None):
    size = n * (d or k) * np.dtype(dtype).itemsize + (k * d * np.dtype(dtype).itemsize if d else 0)
    logits_bytes = n * k * np.dtype(dtype).itemsize
    for gradient in (False, True):
        what = "loss and gradient" if gradient else "loss"
        print(f"\n{title}, {what}  (load {load():.2f}; memory relative to the inputs, {size / 2**20:.0f} MiB)")
        results = {name: measure(name, gradient, n, k, dtype, d, repeat) for name in implementations}
        torch_result = results.get("torch", {})
        reference = statistics.median(torch_result["times"]) if "times" in torch_result else None
        for name, result in results.items():
            print(_row(name, result, size, reference, logits_bytes if not d else size))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller shapes, to try the tool")
    parser.add_argument("--only", choices=["main", "scaling", "huge", "linear"])
    parser.add_argument("--save", type=Path, metavar="FILE",
                        help="write the scaling run, with the machine and the date, to FILE as JSON")
    parser.add_argument("--worker", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        implementation, gradient, n, k, dtype, d, repeat = args.worker
        worker(implementation, bool(int(gradient)), int(n), int(k), dtype, int(d) or None, int(repeat))
        return
    if args.save is not None and args.only not in (None, "scaling"):
        parser.error(f"--save writes the scaling run, which --only {args.only} leaves out")
    scale = 16 if args.quick else 1
    everyone = ["xentref", "numpy", "scipy", "torch"]
    print(f"load averages {os.getloadavg()}, {os.cpu_count()} CPUs")
    if args.only in (None, "main"):
        for n, dtype in ((4096 // scale, "float32"), (2048 // scale, "float64")):
            table(f"({n} x 32000) {dtype} logits", everyone, n, 32000, dtype, args.repeat)
    if args.only in (None, "linear"):
        n = 2048 // scale
        table(f"classifier head: ({n} x 256) hidden, (32000 x 256) weight, float32",
              ["xentref fused", "xentref", "torch"], n, 32000, "float32", args.repeat, d=256)
    scaling = []
    if args.only in (None, "scaling"):
        for gradient in (False, True):
            what = "loss and gradient" if gradient else "loss"
            print(f"\nscaling with the number of classes: float32, 2^27 / K rows, {what}  (load {load():.2f})")
            for k in (1024, 4096, 16384, 65536, 262144, 2**20):
                n = 2**27 // k // scale
                for name in everyone:
                    result = measure(name, gradient, n, k, "float32", repeat=args.repeat)
                    print(_row(f"{name} K={k}", result, n * k * 4, None, n * k * 4))
                    scaling.append({"implementation": name, "gradient": gradient, "rows": n, "classes": k,
                                    "dtype": "float32", "load": load(), **result})
    if args.save is not None:
        record = {
            "recorded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": "python tools/bench.py " + " ".join(sys.argv[1:]),
            "repeat": args.repeat,
            "machine": machine(),
            "notes": "times in seconds (every repeat); peak: bytes of resident memory above the "
                     "inputs' baseline (VmHWM); each call in a fresh process",
            "scaling": scaling,
        }
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(record, indent=1) + "\n")
        print(f"\nwrote {args.save}")
    if args.only in (None, "huge") and not args.quick:
        for n, k, note in ((4096, 262144, "a row per block"), (512, 2**21, "rows in 8 chunks, merged online")):
            size = n * k * 4
            print(f"\n({n} x {k}) float32 logits, {size / 2**30:.0f} GiB, {note}  (load {load():.2f})")
            for gradient in (False, True):
                result = measure("xentref", gradient, n, k, "float32", repeat=max(2, args.repeat // 2))
                print(_row("loss+grad" if gradient else "loss", result, size, None, size))


if __name__ == "__main__":
    main()
