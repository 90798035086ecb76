"""Progress: steps through any callable, stages as bars on a terminal, silent elsewhere."""

from __future__ import annotations

import io

import pytest
from tqdm import tqdm

from spatial import progress
from spatial.progress import Bars, Reporter, Timings, in_stage, reporting, stage


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_plain_callable_gets_the_steps_and_never_the_stages():
    calls = []
    with reporting(lambda *args: calls.append(args)) as reporter:
        reporter(1, 2, "one")
        with stage("inner", total=10) as bar:
            bar.update(4)
        reporter(2, 2, "two")
    assert calls == [(1, 2, "one"), (2, 2, "two")]


def test_outside_a_run_stages_are_silent_and_the_reporter_is_reset():
    timings = Timings()
    with reporting(timings):
        assert progress.current() is timings
    assert progress.current() is not timings
    with stage("alone", total=3) as bar:
        bar.update(1)
    assert timings.stages == []


@pytest.mark.parametrize(
    ("updates", "total", "done"), [([], 5, 5), ([2], 5, 5), ([2, 3], 5, 5), ([], None, 0)]
)
def test_a_stage_that_ends_is_complete(updates, total, done):
    timings = Timings()
    with reporting(timings), stage("work", total=total) as bar:
        for n in updates:
            bar.update(n)
    assert bar.n == done
    assert [(name, count) for name, _, count in timings.stages] == [("work", total)]


def test_a_stage_that_fails_is_not_completed_nor_timed():
    timings = Timings()
    with pytest.raises(KeyError), reporting(timings), stage("work", total=5) as bar:
        bar.update(2)
        raise KeyError("x")
    assert bar.n == 2
    assert timings.stages == []


def test_in_stage_returns_the_result_and_times_the_call():
    timings = Timings()
    with reporting(timings):
        assert in_stage("adding", 3, "numbers")(sum)([1, 2, 3]) == 6
    assert [(name, count) for name, _, count in timings.stages] == [("adding", 3)]
    assert timings.stages[0][1] >= 0


def test_not_a_terminal_gets_step_lines_and_no_bars():
    out = io.StringIO()
    reporter = Bars(file=out)
    with reporting(reporter):
        reporter(1, 2, "reading")
        with stage("measuring", total=1000, unit="enterprises") as bar:
            bar.update(1000)
        reporter(2, 2, "writing")
    assert out.getvalue() == "[1/2] reading\n[2/2] writing\n"


def test_a_terminal_gets_a_bar_with_count_and_rate():
    out = Terminal()
    reporter = progress.terminal(file=out)
    with reporting(reporter):
        reporter(1, 1, "measuring")
        with stage("measuring geodesic distances", total=200_000, unit="enterprises") as bar:
            bar.update(50_000)
    text = out.getvalue()
    assert "[1/1] measuring" in text
    assert "measuring geodesic distances" in text
    assert "200k/200k" in text  # completed with its count when the stage ended
    assert "enterprises/s" in text  # the rate


def test_bars_can_be_forced_for_a_notebook():
    out = io.StringIO()  # a notebook's stream is not a terminal
    reporter = Bars(file=out, tqdm_class=tqdm, bars=True, steps=False)
    with reporting(reporter), stage("policies", total=10, unit="decisions"):
        pass
    assert "10/10" in out.getvalue()


def test_notebook_reporter_uses_tqdm_auto():
    from tqdm.auto import tqdm as auto

    reporter = progress.notebook()
    assert reporter.tqdm is auto and reporter.bars is True


def test_as_reporter_keeps_a_reporter():
    reporter = Reporter()
    assert progress.as_reporter(reporter) is reporter
    assert isinstance(progress.as_reporter(None), Reporter)


def test_a_run_reports_its_stages(demo_run):
    timings = demo_run.timings  # the shared demo run reported to a Timings (no figures)
    names = [name for name, _, _ in timings.stages]
    for expected in (
        "reading enterprises",
        "reading context layers",
        "measuring geodesic distances",
        "Dingxiang zones",
        "applying policies",
        "summarising decisions",
        "geodesic display buffers",
        "emission table",
        "writing screening.gpkg",
        "writing lists.xlsx",
        "writing map.html",
    ):
        assert expected in names
    assert "drawing figures" not in names
    assert [step for step, _, _ in timings.steps] == [1, 2, 3, 4, 5]
    counts = dict((name, count) for name, _, count in timings.stages)
    assert counts["reading enterprises"] == 2111  # every row read, rejected ones included


@pytest.mark.parametrize(
    "make",
    [
        Reporter,
        Timings,
        lambda: Bars(file=Terminal()),
        lambda: Bars(file=io.StringIO(), tqdm_class=tqdm, bars=True),
    ],
    ids=["silent", "timings", "terminal", "notebook"],
)
def test_every_reporter_gives_a_bar_with_the_same_methods(make):
    # the library sets a stage's total once it knows it (rows read, figures to draw): a bar
    # drawn by tqdm lacked set_total, and a run on a terminal stopped at its first stage
    reporter = make()
    with reporting(reporter), stage("drawing figures", None, "figures") as bar:
        bar.set_total(3)
        bar.update(1)
        assert (bar.total, bar.n) == (3, 1)
    assert (bar.total, bar.n) == (3, 3)  # completed when the stage ended
    if isinstance(reporter, Bars):
        assert "3/3" in reporter.file.getvalue()


def test_a_slow_stage_shows_its_rate_as_count_per_second():
    # tqdm turns a rate below one into "10.00s/ figures"; the bars say "0.10 figures/s"
    out = Terminal()
    with reporting(progress.terminal(file=out)), stage("drawing figures", None, "figures") as bar:
        bar.set_total(117)
        assert bar.bar.bar_format == progress._BAR_FORMAT
    meter = tqdm.format_meter(
        1, 117, 10.0, unit=" figures", bar_format=progress._BAR_FORMAT, ncols=100
    )
    assert "1/117" in meter and "0.10 figures/s" in meter and "s/ figures" not in meter
