"""The font the figures draw Chinese with: Noto Sans CJK SC, shipped by a Python dependency.

Chinese in the figures must not depend on what fonts a machine happens to have. The project
depends on the PyPI package ``noto-cjk-sans-otc``, whose wheel carries Google's
``NotoSansCJK-Regular.ttc`` unchanged (SIL Open Font License 1.1; the collection holds the SC,
TC, HK, JP and KR faces). :func:`cjk_font` registers that file with matplotlib's font manager and
returns the family name to put first in ``font.family``. Debian's ``fonts-noto-cjk``, when
installed, adds the Bold weight; without it bold titles are drawn in the Regular face (the
package has no Bold), registered for the bold weight too so that matplotlib does not log a
"Failed to find font weight bold" line for every figure.

When neither is there (the package was installed without its dependencies), one warning says
so and how to fix it, another CJK font is used if matplotlib knows one, and matplotlib's
per-glyph "Glyph … missing from font" warnings are silenced: one line, never hundreds.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from pathlib import Path

__all__ = ["CJK_FONT", "cjk_font", "packaged_font_file"]

CJK_FONT = "Noto Sans CJK SC"
PACKAGE = "noto-cjk-sans-otc"
# Other CJK fonts, in order of preference, used (with a warning) when Noto Sans CJK SC is absent.
_CJK_FALLBACKS = (
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
# Where Debian's fonts-noto-cjk puts the font, in case matplotlib's font cache predates it.
_SYSTEM_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)


def packaged_font_file() -> Path | None:
    """The Noto Sans CJK collection inside the installed ``noto-cjk-sans-otc``, or None."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:
        return None
    path = Path(str(FONT_PATH))
    return path if path.is_file() else None


def regular_stands_for_bold(family: str) -> bool:
    """Let the regular face of ``family`` stand for its bold weight where it has none; False
    when matplotlib knows no face of ``family``.

    Bold text is then drawn with the regular face (the packaged font has no Bold, and the
    figures' PDF subsets are one face each); saying so here spares matplotlib's "Failed to find
    font weight bold" log line on every figure.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    faces = [f for f in manager.ttflist if f.name == family]
    if not faces:
        return False
    if not any(f.weight in (600, 700, 800, 900, "bold") for f in faces):
        manager.ttflist.append(dataclasses.replace(faces[0], weight=700))
    return True


@functools.cache
def cjk_font() -> str | None:
    """Register the CJK font with matplotlib and return its family name (None: there is none).

    Warns once per process when Noto Sans CJK SC cannot be had.

    >>> cjk_font()
    'Noto Sans CJK SC'
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {f.fname for f in manager.ttflist}
    packaged = packaged_font_file()
    files = [str(packaged)] if packaged else []
    files += [path for path in _SYSTEM_FILES if Path(path).is_file()]
    for path in files:
        if path not in known:
            manager.addfont(path)
    if regular_stands_for_bold(CJK_FONT):
        return CJK_FONT
    names = {f.name for f in manager.ttflist}
    fix = f"pip install {PACKAGE} (a dependency of spatial-screening)"
    for name in _CJK_FALLBACKS:
        if name in names:
            warnings.warn(f"{CJK_FONT} not found ({fix}); the figures use {name}", stacklevel=2)
            return name
    warnings.warn(
        f"no CJK font found ({CJK_FONT}; {fix}): Chinese in the figures shows as empty boxes",
        stacklevel=2,
    )
    warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
    return None
