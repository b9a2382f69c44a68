import pytest
import torch


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` are skipped, with the reason, where torch sees no GPU."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA: torch.cuda.is_available() is False here "
                                   f"(torch {torch.__version__})")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """One intra-op thread for the whole suite: the test networks are tiny, and on a busy
    2-core machine OpenMP threads waiting on each other made test files 10-20 times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def progress_bars(monkeypatch):
    """Progress bars render as on a terminal (captured stderr is not one); returns the list
    of every bar the package creates, shown or not, to read their counts after the call."""
    from tqdm import tqdm

    from disentangle import _progress

    bars = []

    class Recorded(tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.shown = not self.disable  # close() disables every bar
            bars.append(self)

    monkeypatch.setattr(_progress, "renders_progress_bar", lambda: True)
    monkeypatch.setattr(_progress, "tqdm", Recorded)
    return bars


@pytest.fixture(scope="session", autouse=True)
def no_dsprites_download():
    """``DSprites()`` renders in tests unless a test puts the official file in its data home:
    the official file is 26 MB and CI has no network, so no test downloads it (those that test
    downloads serve a file from a local server)."""
    import dataclasses

    from disentangle.datasets import REMOTE_FILES

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(REMOTE_FILES, "dsprites",
                      dataclasses.replace(REMOTE_FILES["dsprites"], url=None))
        yield
