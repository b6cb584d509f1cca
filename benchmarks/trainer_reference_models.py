"""Benchmark (c): EfficientNet-B0 and MnasNet-B1 built from our block-space specs vs
torchvision's ``efficientnet_b0`` and ``mnasnet1_0``, training throughput (forward, backward,
SGD step on a fixed random batch) with the same settings: train mode, dropout 0.2, stochastic
depth 0.2 for EfficientNet-B0 (torchvision's default), AMP and channels-last on CUDA.
Ratio = our images per second / torchvision's (target >= 0.98), medians of interleaved repeats.
"""
from __future__ import annotations

from trainer_common import clock_name, interleaved, median, parser, save, setup  # noqa: I001

import contextlib

import torch
import torchvision
from torch import nn

from search_spaces.catalog import resolve, space_for

PAIRS = {
    "efficientnet_b0": (lambda space, spec: space.build(spec, drop_path=0.2),
                        lambda: torchvision.models.efficientnet_b0(stochastic_depth_prob=0.2, dropout=0.2)),
    "mnasnet_b1": (lambda space, spec: space.build(spec),
                   lambda: torchvision.models.mnasnet1_0(dropout=0.2)),
}


def stepper(model: nn.Module, batch: int, resolution: int, steps: int, device: torch.device):
    channels_last = device.type == "cuda"
    model = model.to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, resolution, resolution, device=device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    def amp() -> contextlib.AbstractContextManager:
        return torch.autocast("cuda", dtype=torch.bfloat16) if channels_last else contextlib.nullcontext()

    def run() -> None:
        for _ in range(steps):
            with amp():
                loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return run


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=None, help="default 8 on CPU, 128 on CUDA")
    p.add_argument("--resolution", type=int, default=None, help="default: the spec's (224)")
    p.add_argument("--steps", type=int, default=None, help="steps per timed call (default 2 CPU, 20 CUDA)")
    args = p.parse_args()
    device = setup(args)
    cuda = device.type == "cuda"
    batch = args.batch_size or (128 if cuda else 8)
    steps = args.steps or (20 if cuda else 2)
    out = {"batch_size": batch, "steps_per_call": steps, "clock": clock_name(device), "models": {}}
    for name, (ours_fn, theirs_fn) in PAIRS.items():
        spec = resolve(name)
        resolution = args.resolution or spec.resolution
        torch.manual_seed(0)
        ours, theirs = ours_fn(space_for(spec), spec), theirs_fn()
        params = (sum(p.numel() for p in ours.parameters()), sum(p.numel() for p in theirs.parameters()))
        times = interleaved({"ours": stepper(ours, batch, resolution, steps, device),
                             "torchvision": stepper(theirs, batch, resolution, steps, device)},
                            device, args.repeats)
        ips = {k: batch * steps / median(v) for k, v in times.items()}
        out["models"][name] = {"resolution": resolution, "params_ours": params[0], "params_torchvision": params[1],
                               "seconds": times, "images_per_s": ips, "ratio": ips["ours"] / ips["torchvision"]}
        print(f"{name}: ratio {ips['ours'] / ips['torchvision']:.3f}", flush=True)
        del ours, theirs
    out["target"] = ">= 0.98 per model"
    save("trainer_reference_models", out, args.out, device)


if __name__ == "__main__":
    main()
