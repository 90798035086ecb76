"""Progress of a run: counted steps, and a bar with counts and rates on each long stage.

The library reports, the caller decides how it is shown. Two levels:

- **steps**: ``progress(step, total, text)``, the contract of :func:`spatial.pipeline.run`
  (any callable; the CLI prints ``[1/5] reading enterprises ...``);
- **stages** inside a step (measuring distances, applying the policies, writing the
  GeoPackage, the map, ...): ``with stage("applying policies", total=n) as bar: ...``.
  The library calls :func:`stage` wherever a piece of work can take more than a few seconds;
  what it shows depends on the reporter of the run, set with :func:`reporting`:

  - a plain callable (tests, scripts): stages are silent, only the steps are called;
  - :func:`terminal` (the CLI): a tqdm bar per stage with its count, elapsed time and rate
    (``120k/200k enterprises [00:03, 61.2k enterprises/s]``) when stderr is a terminal; when
    it is not (CI, a pipe, a log file) only the step lines, no bars;
  - :func:`notebook` (Jupyter): ``tqdm.auto``, a notebook widget bar;
  - :class:`Timings`: the seconds of each stage, for benchmarks.

A stage whose work is one call (no updates in between) is completed with its count when it
ends, so its rate is still shown. The reporter is a context variable: threads started by the
library (the geodesic engine's workers) and Dask workers report nothing.

>>> with reporting(Timings()) as timings:
...     with stage("counting", total=3, unit="rows") as bar:
...         bar.update(3)
>>> [name for name, _, _ in timings.stages]
['counting']
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

Progress = Callable[[int, int, str], None]


def quiet(step: int, total: int, text: str) -> None:
    """A progress reporter that says nothing."""


class Bar:
    """What a stage hands to the code doing the work: ``update(n)`` when n more are done,
    ``total`` (settable) the count expected. This one shows nothing."""

    def __init__(self, total: int | None = None) -> None:
        self.total = total
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_total(self, total: int | None) -> None:
        self.total = total


class Reporter:
    """The base reporter: steps go to ``callback`` (if any), stages show nothing."""

    def __init__(self, callback: Progress | None = None) -> None:
        self.callback = callback

    def __call__(self, step: int, total: int, text: str) -> None:
        if self.callback is not None:
            self.callback(step, total, text)

    @contextlib.contextmanager
    def stage(self, text: str, total: int | None = None, unit: str = "it") -> Iterator[Bar]:
        bar = Bar(total)
        yield bar
        _complete(bar)


def _complete(bar: Any) -> None:
    """A stage that ended without error has done its whole count."""
    if bar.total is not None and bar.n < bar.total:
        bar.update(bar.total - bar.n)


class Timings(Reporter):
    """Records ``(text, seconds, count)`` of every stage and ``(step, text, time)`` of every
    step (``time.perf_counter``), for benchmarks; shows nothing."""

    def __init__(self, callback: Progress | None = None) -> None:
        super().__init__(callback)
        self.stages: list[tuple[str, float, int | None]] = []
        self.steps: list[tuple[int, str, float]] = []

    def __call__(self, step: int, total: int, text: str) -> None:
        self.steps.append((step, text, time.perf_counter()))
        super().__call__(step, total, text)

    @contextlib.contextmanager
    def stage(self, text: str, total: int | None = None, unit: str = "it") -> Iterator[Bar]:
        start = time.perf_counter()
        with super().stage(text, total, unit) as bar:
            yield bar
        self.stages.append((text, time.perf_counter() - start, bar.total))


class Bars(Reporter):
    """A tqdm bar per stage (counts, elapsed time, rate); steps as lines above the bars.

    Parameters
    ----------
    file
        Where to write (default: stderr, so stdout stays clean for the summary).
    tqdm_class
        ``tqdm.tqdm`` (terminal) or ``tqdm.auto.tqdm`` (notebook widget when in Jupyter).
    bars
        None: bars only when ``file`` is a terminal; True / False: always / never.
    steps
        Also write each step as a line ``[step/total] text``.
    """

    def __init__(
        self,
        file: TextIO | None = None,
        tqdm_class: Any = None,
        bars: bool | None = None,
        steps: bool = True,
    ) -> None:
        super().__init__()
        if tqdm_class is None:
            from tqdm import tqdm as tqdm_class
        self.file = file
        self.tqdm = tqdm_class
        self.bars = bars
        self.steps = steps

    def _file(self) -> TextIO:
        return self.file if self.file is not None else sys.stderr

    def _show_bars(self) -> bool:
        if self.bars is not None:
            return self.bars
        isatty = getattr(self._file(), "isatty", None)
        return bool(isatty and isatty())

    def __call__(self, step: int, total: int, text: str) -> None:
        if self.steps:
            line = f"[{step}/{total}] {text}"
            if self._show_bars():
                self.tqdm.write(line, file=self._file())
            else:
                print(line, file=self._file(), flush=True)

    @contextlib.contextmanager
    def stage(self, text: str, total: int | None = None, unit: str = "it") -> Iterator[Any]:
        if not self._show_bars():
            with super().stage(text, total, unit) as bar:
                yield bar
            return
        bar = self.tqdm(
            total=total,
            desc=text,
            unit=f" {unit}",
            unit_scale=total is None or total >= 10_000,  # 200k, not 200000.0
            file=self._file(),
            leave=True,
            dynamic_ncols=True,
            mininterval=0.5,
            # the rate as count per second even when slow ("0.99 figures/s", not "1.01s/ figures");
            # a stage of unknown count keeps tqdm's own format until it is told its total
            bar_format=None if total is None else _BAR_FORMAT,
        )
        try:
            shown = _Shown(bar)
            yield shown
            _complete(shown)
        finally:
            bar.close()


_BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_noinv_fmt}]"


class _Shown(Bar):
    """A :class:`Bar` drawn by a tqdm bar: the same ``update``, ``set_total``, ``total`` and
    ``n`` as the bar every stage gets, whichever reporter shows it."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    @property
    def total(self) -> int | None:
        return self.bar.total

    @property
    def n(self) -> int:
        return self.bar.n

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def set_total(self, total: int | None) -> None:
        self.bar.total = total
        self.bar.unit_scale = total is None or total >= 10_000  # 200k, not 200000.0
        self.bar.bar_format = None if total is None else _BAR_FORMAT
        self.bar.refresh()


def terminal(file: TextIO | None = None) -> Bars:
    """The CLI's reporter: step lines, and bars when ``file`` (stderr) is a terminal."""
    return Bars(file=file)


def notebook() -> Bars:
    """A reporter for Jupyter: ``tqdm.auto`` bars (a widget in a notebook), step lines printed.

    >>> from spatial.pipeline import demo_config, run  # doctest: +SKIP
    >>> result = run(demo_config("out"), progress=notebook())  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    return Bars(file=sys.stdout, tqdm_class=tqdm, bars=True)


_SILENT = Reporter()
_current: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "spatial_progress", default=None
)


def as_reporter(progress: Progress | None) -> Reporter:
    """A :class:`Reporter` for any ``progress(step, total, text)`` callable (stages silent)."""
    if isinstance(progress, Reporter):
        return progress
    return Reporter(progress)


@contextlib.contextmanager
def reporting(progress: Progress | None) -> Iterator[Reporter]:
    """Make ``progress`` the reporter of the stages run inside the block; yields it."""
    reporter = as_reporter(progress)
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


def current() -> Reporter:
    """The reporter of the block being run (a silent one outside :func:`reporting`)."""
    return _current.get() or _SILENT


@contextlib.contextmanager
def stage(text: str, total: int | None = None, unit: str = "enterprises") -> Iterator[Bar]:
    """A stage of the current run: yields a bar to ``update(n)``; completed when the block
    ends without error."""
    with current().stage(text, total, unit) as bar:
        yield bar


def in_stage(text: str, total: int | None = None, unit: str = "enterprises") -> Callable:
    """``in_stage(text, n)(function)(*args)``: ``function(*args)`` run as a :func:`stage`.

    >>> in_stage("adding", 2)(sum)([1, 2])
    3
    """

    def wrap(function: Callable) -> Callable:
        def staged(*args: Any, **kwargs: Any) -> Any:
            with stage(text, total, unit):
                return function(*args, **kwargs)

        return staged

    return wrap


__all__ = [
    "Bar",
    "Bars",
    "Progress",
    "Reporter",
    "Timings",
    "as_reporter",
    "current",
    "in_stage",
    "notebook",
    "quiet",
    "reporting",
    "stage",
    "terminal",
]
