"""A per-county emission panel for ``map.html``: tonnes avoided, under review and plants lacking
data, per pollutant (from :func:`spatial.emissions.county_panel`).

Kept apart from :mod:`spatial.export.webmap`: the panel is plain HTML and CSS (no script, no
resource from any host), every text from the data escaped, inserted into the finished page before
``</body>`` and the page rewritten atomically. It sits at the top left under the map's buttons,
folded until clicked.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from spatial.export.atomic import atomic_path

PANEL_ID = "sm-emission-panel"
COLUMNS = ("采暖季减排量（吨）", "年减排量（吨）", "待研判排放量（吨）", "缺少排放量数据（家）")
STYLE = f"""<style>
#{PANEL_ID} {{ position: fixed; top: 170px; left: 10px; z-index: 1000; max-width: 560px;
  max-height: calc(100vh - 360px); overflow: auto; background: rgba(255,255,255,0.95);
  border: 2px solid rgba(0,0,0,0.2); border-radius: 4px; padding: 4px 8px;
  font: 12px/1.4 "Noto Sans CJK SC", "Noto Sans SC", sans-serif; }}
#{PANEL_ID} summary {{ cursor: pointer; font-weight: bold; }}
#{PANEL_ID} table {{ border-collapse: collapse; margin: 2px 0 6px; }}
#{PANEL_ID} th, #{PANEL_ID} td {{ border-bottom: 1px solid #ddd; padding: 1px 6px;
  text-align: right; white-space: nowrap; }}
#{PANEL_ID} th:first-child, #{PANEL_ID} td:first-child {{ text-align: left; }}
#{PANEL_ID} p {{ margin: 2px 0; color: #555; max-width: 520px; }}
</style>"""
NOTE = (
    "限产、停产按采暖季计，关停、淘汰、整改按年计，两者口径不同不相加；"
    "缺少年排放量数据的企业不计为0吨，按家数列出。测算方法见 lists.xlsx “减排量测算”表。"
)


def _number(value: object, digits: int = 1) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}"


def panel_html(panel: dict[str, dict]) -> str:
    """The panel's HTML: per pollutant a folded table of counties (the first pollutant open)."""
    pollutants: list[str] = []
    for county in panel.values():
        pollutants += [p for p in county if p not in pollutants]
    with_data = sum(
        values.get("有排放量数据（家）", 0)
        for county in panel.values()
        for values in county.values()
    )
    parts = [STYLE, f'<details id="{PANEL_ID}"><summary>减排量（按县区）</summary>']
    if not panel or not with_data:
        parts.append("<p>企业清单未提供年排放量数据（颗粒物、二氧化硫、氮氧化物、VOCs 年排放量），")
        parts.append("无法测算减排量。</p></details>")
        return "".join(parts)
    parts.append(f"<p>{html.escape(NOTE)}</p>")
    for k, pollutant in enumerate(pollutants):
        parts.append(f"<details{' open' if k == 0 else ''}><summary>{html.escape(pollutant)}")
        parts.append("</summary><table><tr><th>县（区、市）</th>")
        parts += [f"<th>{html.escape(c)}</th>" for c in COLUMNS]
        parts.append("</tr>")
        for county, values in sorted(panel.items()):
            row = values.get(pollutant)
            if row is None:
                continue
            parts.append(f"<tr><td>{html.escape(county)}</td>")
            parts += [f"<td>{_number(row.get(c, 0))}</td>" for c in COLUMNS]
            parts.append("</tr>")
        parts.append("</table></details>")
    parts.append("</details>")
    return "".join(parts)


def add_emission_panel(path: str | Path, panel: dict[str, dict] | None) -> Path:
    """Insert the panel into the written ``map.html`` (nothing when ``panel`` is None)."""
    path = Path(path)
    if panel is None:
        return path
    # the map of a million plants is ~130 MB: the file is copied through, never held whole
    # (reading it as text and writing it back took 0.7 GB more than the run's peak, issue 19)
    with path.open("rb") as source:
        end = _last_offset(source, b"</body>")
        if end is None:
            raise RuntimeError(
                f"{path}: the written map has no </body> tag to put the panel before"
            )
        with atomic_path(path) as tmp, tmp.open("wb") as target:
            source.seek(0)
            remaining = end
            while remaining:
                block = source.read(min(remaining, _BLOCK))
                target.write(block)
                remaining -= len(block)
            target.write((panel_html(panel) + "\n").encode("utf-8"))
            shutil.copyfileobj(source, target, _BLOCK)
    return path


_BLOCK = 1 << 20


def _last_offset(source, needle: bytes) -> int | None:
    """Offset of the last ``needle`` in the binary file ``source``, read backwards by blocks
    (the closing tags of a map lie in its last bytes)."""
    end = source.seek(0, 2)
    while end > 0:
        start = max(0, end - _BLOCK)
        source.seek(start)
        block = source.read(end - start + len(needle) - 1)  # overlaps the next block's start
        at = block.rfind(needle)
        if at >= 0:
            return start + at
        end = start
    return None
