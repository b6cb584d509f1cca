"""Benchmark (a): our trainer vs a bare PyTorch loop, same model, same in-memory tensors.

Both sides shuffle, normalize, train with SGD-Nesterov and validate once per epoch on the same
uint8 tensors on the device. ``same_work`` turns our augmentation, clipping and AMP off so the
ratio is the trainer's own overhead (target >= 0.95); ``full_recipe`` is our default recipe
(crop + flip on the device, clipping, AMP and channels-last on CUDA) against the same bare loop.
Ratio = our training throughput / the bare loop's, medians of interleaved repeats.
"""
from __future__ import annotations

from trainer_common import clock_name, find_shared_data, interleaved, median, parser, save, setup  # noqa: I001

import torch
from torch import nn

from nas.data import DataConfig, load_proxy_data
from nas.data.tensors import ProxyData
from nas.train import TrainConfig, train
from search_spaces.catalog import resolve, space_for

DEFAULT_SPEC = ("cell:normal=conv_3x3@0+skip_connect@1,conv_3x3@1+skip_connect@2;"
                "reduce=max_pool_3x3@0+conv_3x3@1,skip_connect@2+max_pool_3x3@1;N=1;F=16;stem=cifar;"
                "wiring=darts;classes=10;res=32;stem_mult=3")


def bare_loop(build, data: ProxyData, epochs: int, batch_size: int, lr: float, device: torch.device) -> float:
    """The plainest correct loop over the same tensors; returns the last validation accuracy."""
    torch.manual_seed(0)
    model = build().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=3e-4)
    train_x, train_y = data.train.images.to(device), data.train.labels.to(device)
    val_x, val_y = data.val.images.to(device), data.val.labels.to(device)
    mean = torch.tensor(data.train.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(data.train.std, device=device).view(1, 3, 1, 1)
    n = len(train_y)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, device=device)
        for i in range(n // batch_size):
            idx = order[i * batch_size:(i + 1) * batch_size]
            x = (train_x[idx].float() / 255 - mean) / std
            loss = nn.functional.cross_entropy(model(x), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for s in range(0, len(val_y), 512):
                x = (val_x[s:s + 512].float() / 255 - mean) / std
                correct += (model(x).argmax(1) == val_y[s:s + 512]).sum()
    return int(correct) / len(val_y)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--spec", default=DEFAULT_SPEC)
    p.add_argument("--per-class", type=int, default=100, help="CIFAR-10 training images per class")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()
    device = setup(args)
    data = load_proxy_data(DataConfig(dataset=str(find_shared_data() / "cifar10-jpeg.tar.gz"),
                                      per_class=args.per_class, val_fraction=0.2, cache_dir=args.cache_dir))
    spec = resolve(args.spec)
    space = space_for(spec)
    build = lambda: space.build(spec)  # noqa: E731
    data = data.to(device)
    common = dict(epochs=args.epochs, batch_size=args.batch_size, lr=0.05, weight_decay=3e-4, device=str(device))
    same = TrainConfig(**common, crop_padding=0, flip=False, grad_clip=None, amp=False, channels_last=False)
    full = TrainConfig(**common)
    times = interleaved({"bare_loop": lambda: bare_loop(build, data, args.epochs, args.batch_size, 0.05, device),
                         "trainer_same_work": lambda: train(build, data, same),
                         "trainer_full_recipe": lambda: train(build, data, full)}, device, args.repeats)
    images = args.epochs * (len(data.train) // args.batch_size) * args.batch_size
    throughput = {k: images / median(v) for k, v in times.items()}
    save("trainer_overhead", {
        "spec": spec.to_str(), "train_images": len(data.train), "val_images": len(data.val),
        "epochs": args.epochs, "batch_size": args.batch_size, "clock": clock_name(device), "seconds": times,
        "images_per_s": throughput,
        "ratio_same_work": throughput["trainer_same_work"] / throughput["bare_loop"],
        "ratio_full_recipe": throughput["trainer_full_recipe"] / throughput["bare_loop"],
        "target": ">= 0.95 (ratio_same_work)"}, args.out, device)


if __name__ == "__main__":
    main()
