"""The compound-scaled family of a base network (Tan & Le 2019, "EfficientNet", section 3.3,
step 2): for phi = 1..7, depth d = alpha^phi, width w = beta^phi, resolution r = gamma^phi applied
to the base through ``search_spaces.scaling.scale`` (filters rounded to multiples of 8, never
more than 10% below target, repeats rounded up; cell networks: N = ceil(N d), F rounded to
multiples of 4; input side round(side * r)).

The released EfficientNet-B1..B7 are *not* this formula's output: the paper's table was rounded
by hand and grows faster from B4 on (``search_spaces.scaling`` lists both side by side);
``paper_differences`` reports where an emitted family member departs from that table.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from search_spaces.blocks.spec import BlockSpec
from search_spaces.catalog import space_for
from search_spaces.cell.spec import CellSpec
from search_spaces.scaling import COEFFICIENTS, compound, flops_factor, scale

PHIS = tuple(range(1, 8))


@dataclass(frozen=True)
class Member:
    """One member of the family: its multipliers, its spec and the spec's analytic cost."""

    phi: float
    depth: float
    width: float
    resolution_mult: float
    spec: Any
    params: int
    macs: int

    def row(self) -> dict:
        spec = self.spec
        size = (f"N={spec.n} F={spec.filters}" if isinstance(spec, CellSpec) else
                f"stem {spec.stem}, {'/'.join(str(s.repeats) for s in spec.stages)} layers, "
                f"{'/'.join(str(s.out_chs) for s in spec.stages)} chs, head {spec.head}"
                if isinstance(spec, BlockSpec) else "")
        return {"phi": self.phi, "depth": round(self.depth, 4), "width": round(self.width, 4),
                "resolution_mult": round(self.resolution_mult, 4), "resolution": spec.resolution,
                "size": size, "params": self.params, "macs": self.macs, "spec": spec.to_str()}


def check_coefficients(alpha: float, beta: float, gamma: float) -> None:
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 1.0:
            raise ValueError(f"{name} must be a number >= 1 (EfficientNet's constraint), got {value!r}")


def member(base: Any, phi: float, alpha: float, beta: float, gamma: float) -> Member:
    """``base`` scaled by the coefficients at compound coefficient ``phi``."""
    check_coefficients(alpha, beta, gamma)
    depth, width, res = compound(phi, alpha, beta, gamma)
    spec = base if phi == 0 else scale(base, width=width, depth=depth, resolution=res)
    cost = space_for(spec).cost(spec)
    return Member(phi, depth, width, res, spec, cost.params, cost.macs)


def family(base: Any, alpha: float, beta: float, gamma: float, phis: Iterable[float] = PHIS) -> list[Member]:
    """The base (phi = 0) followed by the members at ``phis``."""
    phis = list(phis)
    if any(isinstance(p, bool) or not isinstance(p, (int, float)) or p <= 0 for p in phis):
        raise ValueError(f"phis must be positive numbers, got {phis}")
    return [member(base, p, alpha, beta, gamma) for p in [0, *phis]]


_COLUMNS = ("phi", "depth", "width", "resolution_mult", "resolution", "size", "params", "macs")


def markdown(members: Sequence[Member], coefficients: tuple[float, float, float]) -> str:
    a, b, g = coefficients
    base_macs = members[0].macs or 1
    lines = [f"Compound scaling with alpha={a}, beta={b}, gamma={g} "
             f"(alpha*beta^2*gamma^2 = {flops_factor(a, b, g):.3f})", "",
             "| phi | depth | width | res. mult | resolution | size | params | MACs | MACs / base |",
             "|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for m in members:
        r = m.row()
        lines.append(f"| {r['phi']} | {r['depth']:.3f} | {r['width']:.3f} | {r['resolution_mult']:.3f} | "
                     f"{r['resolution']} | {r['size']} | {m.params / 1e6:.2f}M | {m.macs / 1e6:.1f}M | "
                     f"{m.macs / base_macs:.2f} |")
    return "\n".join(lines) + "\n"


def csv_text(members: Sequence[Member]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*_COLUMNS, "spec"], lineterminator="\n")
    writer.writeheader()
    for m in members:
        writer.writerow(m.row())
    return buf.getvalue()


def write_family(members: Sequence[Member], out_dir: str | Path, coefficients: tuple[float, float, float],
                 extra: dict | None = None) -> dict[str, Path]:
    """``family.md``, ``family.csv``, ``family.json`` and one rebuildable spec file per member
    (``phi<k>.json``, readable by ``nas train``/``nas export``) in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "family.md", "csv": out / "family.csv", "json": out / "family.json"}
    paths["markdown"].write_text(markdown(members, coefficients))
    paths["csv"].write_text(csv_text(members))
    a, b, g = coefficients
    summary = {"alpha": a, "beta": b, "gamma": g, "flops_factor": flops_factor(a, b, g), **(extra or {}),
               "members": [m.row() for m in members]}
    paths["json"].write_text(json.dumps(summary, indent=2) + "\n")
    for m in members:
        path = out / f"phi{m.phi:g}.json"
        path.write_text(json.dumps({"spec": m.spec.to_dict(), "spec_string": m.spec.to_str(), "phi": m.phi,
                                    "params": m.params, "macs": m.macs}, indent=2) + "\n")
        paths[f"phi{m.phi:g}"] = path
    return paths


def paper_differences(members: Sequence[Member]) -> list[str]:
    """Where members phi=1..7 of an EfficientNet-B0 family depart from the released B1..B7 table
    (member phi=k is compared with B(k)): depth and width multipliers and resolution."""
    notes = []
    for m in members:
        key = f"b{m.phi:g}"
        if m.phi == 0 or key not in COEFFICIENTS:
            continue
        ref = COEFFICIENTS[key]
        diffs = [f"{name} {ours:.3g} vs table {theirs:g}" for name, ours, theirs in
                 (("depth", m.depth, ref.depth), ("width", m.width, ref.width),
                  ("resolution", m.spec.resolution, ref.resolution)) if abs(ours - theirs) > 1e-9]
        if diffs:
            notes.append(f"phi={m.phi:g} / B{m.phi:g}: " + ", ".join(diffs))
    return notes
