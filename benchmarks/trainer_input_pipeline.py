"""Benchmark (b): our decode-once tensors + batched device augmentation vs the standard
torchvision pipeline (``ImageFolder`` over the JPEG folder, per-sample ``RandomCrop`` /
``RandomHorizontalFlip`` / ``ToTensor`` / ``Normalize``, ``DataLoader`` with workers), same model,
same images, same epochs, validation included on both sides.

Reports the end-to-end speed-up (torchvision seconds / ours) and the input pipeline alone
(images per second delivered, no model), plus the one-time decode cost of our cache.
"""
from __future__ import annotations

from trainer_common import find_shared_data, interleaved, median, parser, save, setup, timed  # noqa: I001

import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from nas.data import DataConfig, load_proxy_data
from nas.data.archive import FolderSource
from nas.data.cache import resolve_cache_dir
from nas.train import TrainConfig, train
from search_spaces.catalog import resolve, space_for

from trainer_overhead import DEFAULT_SPEC


def link_folder(source: FolderSource, per_class: int, classes_dir: Path) -> None:
    """An ImageFolder tree of symlinks to exactly the images our loader uses (first per_class)."""
    files = source.files("train")
    names = [n for v in files.values() for n in v[:per_class]]
    root = source.materialize(names)
    for name in names:
        cls, fname = Path(name).parts[-2:]
        (classes_dir / cls).mkdir(parents=True, exist_ok=True)
        (classes_dir / cls / fname).symlink_to(root / name)


def torchvision_run(build, loader: DataLoader, val_loader: DataLoader, epochs: int, device: torch.device) -> None:
    torch.manual_seed(0)
    model = build().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=3e-4)
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        model.eval()
        with torch.no_grad():
            for x, y in val_loader:
                model(x.to(device)).argmax(1).eq(y.to(device)).sum()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-b-") as scratch:
        run(Path(scratch))


def run(scratch: Path) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--spec", default=DEFAULT_SPEC)
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    args = p.parse_args()
    device = setup(args)
    archive = find_shared_data() / "cifar10-jpeg.tar.gz"
    cache = scratch / "cache" if args.cache_dir is None else Path(args.cache_dir)
    cfg = DataConfig(dataset=str(archive), per_class=args.per_class, val_fraction=0.2, cache_dir=str(cache))
    decode_s = timed(lambda: load_proxy_data(cfg), torch.device("cpu"))[0]  # first: decode (or cache hit)
    cached_s = timed(lambda: load_proxy_data(cfg), torch.device("cpu"))[0]
    data = load_proxy_data(cfg)

    tree = scratch / "folder"
    link_folder(FolderSource(archive, resolve_cache_dir(str(cache))), args.per_class, tree)
    norm = transforms.Normalize(data.train.mean, data.train.std)
    train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), norm])
    full = datasets.ImageFolder(str(tree), transform=train_tf)
    val_full = datasets.ImageFolder(str(tree), transform=transforms.Compose([transforms.ToTensor(), norm]))
    # the same train/validation images as our stratified split (both sort classes and files)
    train_idx, val_idx = _split_indices(data, full)
    pin = device.type == "cuda"
    loader = DataLoader(torch.utils.data.Subset(full, train_idx), batch_size=args.batch_size, shuffle=True,
                        drop_last=True, num_workers=args.workers, pin_memory=pin,
                        persistent_workers=args.workers > 0)
    val_loader = DataLoader(torch.utils.data.Subset(val_full, val_idx), batch_size=512,
                            num_workers=args.workers, pin_memory=pin, persistent_workers=args.workers > 0)
    spec = resolve(args.spec)
    space = space_for(spec)
    build = lambda: space.build(spec)  # noqa: E731
    ours_cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=0.05, device=str(device),
                           amp=False, channels_last=False)
    on_device = data.to(device)
    gen = torch.Generator(device=device).manual_seed(0)
    aug = ours_cfg.augment

    def our_pipeline() -> None:
        order = torch.randperm(len(on_device.train), generator=gen, device=device)
        for i in range(len(order) // args.batch_size):
            idx = order[i * args.batch_size:(i + 1) * args.batch_size]
            aug(on_device.train.images[idx], gen, on_device.train.mean, on_device.train.std)

    def their_pipeline() -> None:
        for x, _ in loader:
            x.to(device)

    # wall clock: the DataLoader's decoding runs in worker processes
    pipeline = interleaved({"ours": our_pipeline, "torchvision": their_pipeline}, device, args.repeats, "wall")
    end_to_end = interleaved({"ours": lambda: train(build, data, ours_cfg),
                              "torchvision": lambda: torchvision_run(build, loader, val_loader, args.epochs, device)},
                             device, args.repeats, "wall")
    n = len(train_idx)
    save("trainer_input_pipeline", {
        "spec": spec.to_str(), "train_images": n, "val_images": len(val_idx), "epochs": args.epochs,
        "batch_size": args.batch_size, "dataloader_workers": args.workers, "clock": "wall",
        "our_first_load_s": decode_s, "our_cached_load_s": cached_s,
        "pipeline_images_per_s": {k: n / median(v) for k, v in pipeline.items()},
        "pipeline_speedup": median(pipeline["torchvision"]) / median(pipeline["ours"]),
        "end_to_end_seconds": end_to_end,
        "end_to_end_speedup": median(end_to_end["torchvision"]) / median(end_to_end["ours"])}, args.out, device)


def _split_indices(data, folder: datasets.ImageFolder) -> tuple[list[int], list[int]]:
    """Map our stratified split onto ImageFolder indices by re-running it on the same labels."""
    from nas.data.tensors import stratified_split

    labels = torch.tensor(folder.targets)
    train_idx, val_idx = stratified_split(labels, 0.2, 0)
    if len(train_idx) != len(data.train) or not torch.equal(labels[val_idx], data.val.labels.cpu()):
        raise SystemExit("the ImageFolder tree does not hold the images our loader uses")
    return train_idx.tolist(), val_idx.tolist()


if __name__ == "__main__":
    main()
