"""Batched augmentation on the training device: random crop with zero padding and horizontal
flip (the CIFAR recipe of He et al. 2016 that the NAS papers train with) and optional cutout
(DeVries & Taylor 2017, used by NASNet/DARTS final training), then normalization.

Crop and flip are one gather: each sample's output pixel (y, x) reads padded pixel
(y + dy, x + dx), or (y + dy, W - 1 - x + dx) when flipped, so there is no per-sample Python
and no padded copy beyond one ``F.pad`` of the batch. All randomness comes from the caller's
``torch.Generator`` (on the images' device), so a run is reproducible from its seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence, Union

if TYPE_CHECKING:
    import torch

# torch is imported inside the functions: the ``Augment`` settings are part of the config, which
# loads (and validates) without torch.
Stats = Union[Sequence[float], Any]


def normalizer(mean: Stats, std: Stats, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) of shape (1, C, 1, 1) on ``device`` such that ``x * scale + shift`` equals
    ``(x / 255 - mean) / std``. Build once per run: a host list copied to a GPU every step would
    cost a synchronisation each time."""
    import torch
    std_t = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    return (1.0 / (255.0 * std_t)).to(device), (-mean_t / std_t).to(device)


def normalize(images: torch.Tensor, mean: Stats, std: Stats,
              stats: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """uint8 NCHW -> float32 ``(x / 255 - mean) / std``, one fused multiply-add; pass ``stats``
    from ``normalizer`` in loops."""
    import torch
    scale, shift = stats if stats is not None else normalizer(mean, std, images.device)
    return torch.addcmul(shift, images.float(), scale)


@dataclass(frozen=True)
class Augment:
    """``crop_padding``: pixels of zero padding before the random crop (0: no crop);
    ``flip``: random horizontal flip; ``cutout``: side of the zeroed square (0: off)."""

    crop_padding: int = 4
    flip: bool = True
    cutout: int = 0

    def __post_init__(self) -> None:
        if self.crop_padding < 0 or self.cutout < 0:
            raise ValueError(f"crop_padding and cutout must be >= 0, got {self.crop_padding}, {self.cutout}")

    def __call__(self, images: torch.Tensor, generator: torch.Generator, mean: Stats, std: Stats,
                 stats: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        x = self.crop_flip(images, generator)
        x = normalize(x, mean, std, stats)
        if self.cutout:
            x = x * self.cutout_mask(x.shape[0], x.shape[-2], x.shape[-1], generator, x.device)
        return x

    def crop_flip(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        import torch
        import torch.nn.functional as F
        b, c, h, w = images.shape
        p = self.crop_padding
        if p == 0 and not self.flip:
            return images
        dev = images.device
        padded = F.pad(images, (p, p, p, p)) if p else images
        hp, wp = h + 2 * p, w + 2 * p
        dy = torch.randint(0, 2 * p + 1, (b, 1), generator=generator, device=dev)
        dx = torch.randint(0, 2 * p + 1, (b, 1), generator=generator, device=dev)
        cols = torch.arange(w, device=dev).expand(b, w)
        if self.flip:
            flipped = torch.rand((b, 1), generator=generator, device=dev) < 0.5
            cols = torch.where(flipped, (w - 1) - cols, cols)
        rows = torch.arange(h, device=dev).view(1, h) + dy
        index = (rows.unsqueeze(2) * wp + (cols + dx).unsqueeze(1)).view(b, 1, h * w)
        out = padded.reshape(b, c, hp * wp).gather(2, index.expand(b, c, h * w))
        return out.view(b, c, h, w)

    def cutout_mask(self, b: int, h: int, w: int, generator: torch.Generator,
                    device: torch.device) -> torch.Tensor:
        """(B, 1, H, W) float mask, 0 inside a square of side ``cutout`` centred anywhere in the
        image (clipped at the borders, as in the reference implementation)."""
        import torch
        cy = torch.randint(0, h, (b, 1, 1), generator=generator, device=device)
        cx = torch.randint(0, w, (b, 1, 1), generator=generator, device=device)
        top, left = cy - self.cutout // 2, cx - self.cutout // 2
        ys = torch.arange(h, device=device).view(1, h, 1)
        xs = torch.arange(w, device=device).view(1, 1, w)
        inside = (ys >= top) & (ys < top + self.cutout) & (xs >= left) & (xs < left + self.cutout)
        return (~inside).unsqueeze(1).float()
