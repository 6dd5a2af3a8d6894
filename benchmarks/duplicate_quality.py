"""Precision and recall of the duplicate matcher on the labelled Padang address pairs (benchmarks/duplicate_pairs.yaml).

    python -m benchmarks.duplicate_quality [--show]

Each pair is two complaints of one category in one kecamatan; the matcher's verdict is compared with the label.
`--show` prints every pair the matcher got wrong, with the part that decided.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from suarawarga.complaints.duplicates import Verdict, compare, parse_address
from suarawarga.complaints.seed import read_seed

PAIRS = Path(__file__).with_name("duplicate_pairs.yaml")


@dataclass(frozen=True, slots=True)
class Scored:
    """One labelled pair with the matcher's verdict."""

    pair: dict[str, Any]
    verdict: Verdict

    @property
    def label(self) -> bool:
        """Return the pair's label (same place or not)."""
        return bool(self.pair["same"])


def load_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    """Return the labelled pairs."""
    pairs: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["pairs"]
    return pairs


def score(pairs: list[dict[str, Any]]) -> list[Scored]:
    """Run the matcher on every pair with the kelurahan names of the pair's kecamatan (from the seed)."""
    places = {unit.code: unit.places for unit in read_seed().units}
    scored = []
    for pair in pairs:
        names = places[pair["kec"]]  # a KeyError is a typo in the file
        verdict = compare(parse_address(pair["a"], names), parse_address(pair["b"], names))
        scored.append(Scored(pair, verdict))
    return scored


def precision_recall(scored: list[Scored]) -> tuple[float, float, int, int, int, int]:
    """Return precision, recall and the counts (true/false positives, false/true negatives)."""
    tp = sum(1 for s in scored if s.verdict.same and s.label)
    fp = sum(1 for s in scored if s.verdict.same and not s.label)
    fn = sum(1 for s in scored if not s.verdict.same and s.label)
    tn = sum(1 for s in scored if not s.verdict.same and not s.label)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn, tn


def main() -> None:
    """Print the figures (and the misses with --show)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print the pairs the matcher got wrong")
    args = parser.parse_args()
    scored = score(load_pairs())
    precision, recall, tp, fp, fn, tn = precision_recall(scored)
    same = sum(1 for s in scored if s.label)
    print(f"pairs: {len(scored)} ({same} same, {len(scored) - same} not the same)")
    print(f"true positives {tp}, false positives {fp}, false negatives {fn}, true negatives {tn}")
    print(f"precision {precision:.3f}  recall {recall:.3f}")
    if args.show:
        for s in scored:
            if s.verdict.same != s.label:
                kind = "false positive" if s.verdict.same else "false negative"
                print(f"  {kind} ({s.verdict.reason}): {s.pair['a']!r} / {s.pair['b']!r}")


if __name__ == "__main__":
    main()
