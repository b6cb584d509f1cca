"""Zero-cost proxies: training-free scores of an untrained network on a few real batches, used to
rank candidates before (or instead of) training them. See ``nas.proxies.registry`` for the
contract (seeded, deterministic, no state leaked, NaN-free fallback) and each module for the
papers: ``gradient`` (grad_norm, SNIP, GraSP, fisher, synflow; Abdelfattah et al. 2021),
``activation`` (NASWOT, jacob_cov, Zen-NAS, MeCo), ``zico`` (ZiCo), ``combine`` (rank statistics).

    from nas.proxies import score, combine
    value = score("naswot", spec, [(inputs, labels)], seed=0)
    combined = combine(["naswot", "synflow", "macs"], specs, [(inputs, labels)], seed=0)
"""
from nas.proxies.combine import average_ranks, kendall, rank_combine, spearman
from nas.proxies.registry import (
                                  FALLBACK_SCORE,
                                  PROXIES,
                                  Proxy,
                                  ProxyScore,
                                  combine,
                                  get,
                                  names,
                                  score,
                                  score_detail,
                                  score_model,
)

__all__ = ["FALLBACK_SCORE", "PROXIES", "Proxy", "ProxyScore", "average_ranks", "combine", "get", "kendall",
           "names", "rank_combine", "score", "score_detail", "score_model", "spearman"]
