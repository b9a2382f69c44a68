"""The training log: a row every few iterations, plain text, no progress bar in a log file
(issue 14, item 10)."""

import io
import sys

import numpy as np
import pytest

from disentangle import VAE, InfoGANCR
from disentangle._engine import log_interval, training_callbacks

TABLE = np.random.RandomState(0).randn(40, 5)


def _rows(printed):
    """The log's header and its rows as lists of cells ('' for a blank cell)."""
    lines = printed.splitlines()
    header = lines[0].split()
    widths = [len(cell) for cell in lines[1].split("  ")]
    rows = []
    for line in lines[2:]:
        cells, start = [], 0
        for width in widths:
            cells.append(line[start:start + width].strip())
            start += width + 2
        rows.append(cells)
    return header, rows


def test_the_log_prints_means_over_the_iterations_since_the_last_row(capsys):
    model = VAE(objective="beta", max_iter=40, batch_size=8, random_state=0, verbose=1).fit(TABLE)
    out, err = capsys.readouterr()
    assert "\x1b[" not in out + err  # no colour codes: the output is not a terminal
    assert "\r" not in err  # and no progress bar
    header, rows = _rows(out)
    assert header == ["iteration", "train_loss", *model._loss_names(), "dur"]
    assert [int(row[0]) for row in rows] == list(range(2, 41, 2))  # log_interval(40) = 2
    batches = [batch for epoch in model.history_ for batch in epoch["batches"]]
    for row in rows:
        end = int(row[0])
        for key, cell in zip(header[1:-1], row[1:-1], strict=True):
            mean = np.mean([batch[key] for batch in batches[end - 2:end]])
            assert float(cell) == pytest.approx(mean, abs=5e-5), (end, key)
        assert float(row[-1]) >= 0


def test_cr_accuracy_is_blank_until_the_cr_discriminator_trains(capsys):
    InfoGANCR(max_iter=10, batch_size=8, cr_start=0.5, random_state=0, verbose=1).fit(TABLE)
    header, rows = _rows(capsys.readouterr().out)
    accuracy = [row[header.index("cr_accuracy")] for row in rows]
    assert accuracy[:5] == [""] * 5
    assert all(0 <= float(value) <= 1 for value in accuracy[5:])


def test_a_fit_that_stops_between_two_rows_prints_a_last_one(capsys):
    VAE(objective="beta", max_iter=43, batch_size=8, random_state=0, verbose=1).fit(TABLE)
    header, rows = _rows(capsys.readouterr().out)
    assert [int(row[0]) for row in rows][-3:] == [35, 40, 43]  # log_interval(43) = 5


@pytest.mark.parametrize(("n_iter", "every"),
                         [(3, 1), (40, 2), (43, 5), (150, 10), (7_000, 500), (322_560, 20_000)])
def test_log_interval_is_a_round_twentieth(n_iter, every):
    assert log_interval(n_iter) == every


@pytest.mark.parametrize("terminal", [True, False])
def test_a_progress_bar_only_on_a_terminal(monkeypatch, terminal):
    stream = io.StringIO()
    stream.isatty = lambda: terminal
    monkeypatch.setattr(sys, "stderr", stream)
    names = [name for name, _ in training_callbacks(1, 10, ["a_loss"], 5)]
    assert ("progress_bar" in names) == terminal and "print_log" in names
    assert [name for name, _ in training_callbacks(0, 10, ["a_loss"], 5)] == ["a_loss"]
