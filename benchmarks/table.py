"""Print benchmark results as a plain table."""

import numbers
import statistics


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def cell(value) -> str:
    """Floats with two decimals, or three significant digits when small; everything else as text."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, int, numbers.Integral)):
        return f"{value:.2f}" if value == 0 or abs(value) >= 0.1 else f"{value:.3g}"
    return str(value)


def print_table(title: str, header: list[str], rows: list[list]) -> None:
    cells = [header] + [[cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * w for w in widths))
