"""One measured figure beside its baseline and target, and the table they print as."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """``value`` against ``baseline`` (both measured in this run).

    ``check`` decides the target from the figure (``None``: reported, no target).
    """

    section: str
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    target: str = ""
    check: Callable[[Figure], bool] | None = field(default=None, compare=False)
    notes: tuple[str, ...] = ()

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def passed(self) -> bool | None:
        return None if self.check is None else self.check(self)


def ratio_at_most(limit: float) -> Callable[[Figure], bool]:
    return lambda figure: figure.ratio <= limit


def ratio_at_least(limit: float) -> Callable[[Figure], bool]:
    return lambda figure: figure.ratio >= limit


def value_at_most(limit: float) -> Callable[[Figure], bool]:
    return lambda figure: figure.value <= limit


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def verdict(figure: Figure) -> str:
    return {True: "PASS", False: "MISS", None: "-"}[figure.passed]


def render(figures: Sequence[Figure]) -> str:
    rows = [("figure", "value", "baseline (same run)", "ratio", "target", "")]
    for figure in figures:
        rows.append(
            (
                f"{figure.section}: {figure.name}",
                f"{_number(figure.value)} {figure.unit}",
                f"{figure.baseline_name} {_number(figure.baseline)} {figure.unit}",
                f"{figure.ratio:.2f}x",
                figure.target or "-",
                verdict(figure),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown(figures: Sequence[Figure]) -> str:
    """The README table."""
    lines = [
        "| figure | value | baseline (same run) | ratio | target | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for figure in figures:
        lines.append(
            f"| {figure.section}: {figure.name} | {_number(figure.value)} {figure.unit} "
            f"| {figure.baseline_name} {_number(figure.baseline)} {figure.unit} | {figure.ratio:.2f}x "
            f"| {figure.target or '-'} | {verdict(figure)} |"
        )
    return "\n".join(lines)
