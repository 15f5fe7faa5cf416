"""The ablation result as a PNG: per lever, one bar per function, three panels: INIT delta,
INIT + first invoke delta (what the cold request waited for), warm p50 delta.

matplotlib (the ``plot`` extra) is imported here only, with the Agg backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

COLOURS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
PANELS: Final = (
    ("init_ms", "INIT delta (ms)", False),
    ("cold_ms", "INIT + first invoke delta (ms)", False),
    ("warm_p50_us", "warm p50 delta (% of full build)", True),
)


def write_ablation_png(result: Mapping[str, Any], path: Path) -> Path:
    """Grouped bars (levers on the x axis, one bar per function where the lever applies),
    error bars the variant's min-max; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levers = [lever["lever"] for lever in result["levers"]]
    functions = result["functions"]
    width = 0.8 / max(1, len(functions))
    figure, axes = plt.subplots(len(PANELS), 1, figsize=(14, 11), sharex=True)
    for axis, (field, label, percent) in zip(axes, PANELS, strict=True):
        for index, row in enumerate(functions):
            full = row["full"]["stats"].get(field)
            xs: list[float] = []
            heights: list[float] = []
            errors: tuple[list[float], list[float]] = ([], [])
            for position, entry in enumerate(row["levers"]):
                if not entry["applies"] or entry["delta"].get(field) is None:
                    continue
                stat = entry["stats"][field]
                xs.append(position + (index - (len(functions) - 1) / 2) * width)
                if percent:
                    heights.append(entry["delta"][f"{field}_pct"] or 0.0)
                    errors[0].append(0.0)
                    errors[1].append(0.0)
                else:
                    heights.append(entry["delta"][field])
                    errors[0].append(max(0.0, stat["median"] - stat["min"]))
                    errors[1].append(max(0.0, stat["max"] - stat["median"]))
            name = row["function"]
            if full is not None and not percent:
                name += f" (full build {full['median']:.0f} ms)"
            axis.bar(xs, heights, width, yerr=None if percent else errors, capsize=2,
                     color=COLOURS[index % len(COLOURS)], label=name)  # fmt: skip
        axis.axhline(0, color="black", linewidth=0.8)
        axis.set_ylabel(label)
        axis.set_yscale("symlog", linthresh=10)
        axis.grid(axis="y", alpha=0.3)
        axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.005, 1.0))
    axes[0].set_title(
        f"What each lever buys: variant minus full build, medians of {result['repeats']} fresh "
        f"processes ({result['architecture']}, Python {result['python_version']}); "
        "positive = the lever saves that much"
    )
    axes[-1].set_xticks(range(len(levers)))
    axes[-1].set_xticklabels(levers, fontsize=8)
    figure.text(
        0.01, 0.005,
        "bars: the lever turned off alone (int8, and compiled for fraud/IoT: turned on, so "
        "negative = it would save that much); error bars: the variant's min-max; no bar: the "
        "lever does not apply; symmetric log scale",
        fontsize=7,
    )  # fmt: skip
    figure.tight_layout(rect=(0, 0.02, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
