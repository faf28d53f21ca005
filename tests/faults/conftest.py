"""Fixtures of the fault corpus: one case workspace per test, and the one tiny trained and
exported model that every case may read (trained once per session, and checked unchanged at
its end)."""
import pytest

from fault_support import Workspace, tree_digest
from helpers import TINY_CONFIG


@pytest.fixture(scope="session")
def fault_model(tmp_path_factory, blob_records):
    """``{"run": training run folder, "export": export folder}`` of the tiny config trained
    one step on the blob records. Cases read it; none may change it."""
    from deepcee.serving.export import export
    from deepcee.training.train import train
    root = tmp_path_factory.mktemp("fault_model")
    train(TINY_CONFIG, root / "run", data_dir=blob_records, steps=1, eval_every=0,
          log=lambda _: None)
    export(root / "run", root / "export", log=lambda _: None)
    before = tree_digest(root)
    yield {"run": root / "run", "export": root / "export"}
    assert tree_digest(root) == before, "a fault case changed the shared model"


@pytest.fixture
def workspace(tmp_path, request):
    """A case folder with an output folder of earlier results (``Workspace``)."""
    return Workspace(tmp_path / "case", request)


@pytest.fixture
def no_network(monkeypatch):
    """Every HTTP request fails as on a machine without a network (name resolution)."""
    import socket

    import requests

    def offline(session, method, url, **kwargs):
        raise requests.ConnectionError(f"Max retries exceeded with url: {url}") from \
            socket.gaierror(-2, "Name or service not known")
    monkeypatch.setattr(requests.Session, "request", offline)
