"""localbus.service_listing: botocore's service list, from one walk per data folder."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import botocore.exceptions
import botocore.loaders
import pytest

from localbus.service_listing import list_from_one_scan

TYPE_NAMES = ("service-2", "endpoint-rule-set-1", "paginators-1", "resources-1", "waiters-2")


def _data_folder(root: Path) -> Path:
    """A search-path folder with the shapes botocore's listing tells apart."""
    (root / "plain" / "2020-01-01").mkdir(parents=True)
    (root / "plain" / "2020-01-01" / "service-2.json").write_text("{}")
    (root / "plain" / "2021-01-01").mkdir()
    (root / "plain" / "2021-01-01" / "paginators-1.json").write_text("{}")
    (root / "zipped" / "2020-01-01").mkdir(parents=True)
    (root / "zipped" / "2020-01-01" / "service-2.json.gz").write_bytes(gzip.compress(b"{}"))
    (root / "folder-not-file" / "2020-01-01" / "service-2.json").mkdir(parents=True)
    (root / "version-is-a-file").mkdir()
    (root / "version-is-a-file" / "2020-01-01").write_text("not a folder")
    (root / "empty").mkdir()
    (root / "a-file.json").write_text("{}")
    (root / "linked-target" / "2020-01-01").mkdir(parents=True)
    (root / "linked-target" / "2020-01-01" / "waiters-2.json").write_text("{}")
    os.symlink(root / "linked-target", root / "linked")
    os.symlink(root / "missing", root / "plain" / "dangling")
    return root


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_the_list_is_botocores_for_each_type_name(tmp_path: Path, type_name: str):
    # Given a loader searching a folder of odd shapes first, then botocore's own data
    search_path = str(_data_folder(tmp_path / "models"))
    theirs = botocore.loaders.create_loader(search_path)
    ours = botocore.loaders.create_loader(search_path)
    list_from_one_scan(ours)

    # When both list the services of a type, ours asked for every type first
    for other in TYPE_NAMES:
        ours.list_available_services(other)

    # Then the answers are the same
    assert ours.list_available_services(type_name) == theirs.list_available_services(type_name)


def test_a_model_loads_as_before(tmp_path: Path):
    # Given a loader listing from one scan
    loader = botocore.loaders.create_loader(str(_data_folder(tmp_path / "models")))
    list_from_one_scan(loader)

    # Then a model loads, and an unknown service is refused with botocore's error
    assert loader.load_service_model("plain", "service-2") == {}
    assert "operations" in loader.load_service_model("dynamodb", "service-2")
    with pytest.raises(botocore.exceptions.UnknownServiceError):
        loader.load_service_model("no-such-service", "service-2")
