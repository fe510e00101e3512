"""botocore's list of available services, from one scan of each data folder per process.

A botocore Loader answers `list_available_services(type_name)` by walking every folder of its
search path: each service folder, each API version entry in it, a file check for
`<type_name>.json` (or `.json.gz`) in each. It caches the answer per loader and type name only,
so loading a client's model (service-2), its endpoint rules (endpoint-rule-set-1), a boto3
resource (resources-1) and moto's own copy of a model (its Loader searches moto's package folder
too) walk the same thousands of folders four times: tens of ms a process. Here each folder is
walked once and the answer for any type name is read from that walk: the same services, found
by the same rules (a folder of the search path that exists; a service folder, symlinks
followed; any entry of it holding a regular file `<type_name><extension>`).
"""

from __future__ import annotations

import os

import botocore.loaders

# Data folder -> service folder name -> names of the regular files in each of its entries.
_TREES: dict[str, dict[str, list[frozenset[str]]]] = {}


def list_from_one_scan(loader: botocore.loaders.Loader) -> None:
    """Make `loader.list_available_services` read its answers from one walk per folder."""

    def list_available_services(type_name: str) -> list[str]:
        wanted = [type_name + extension for extension in botocore.loaders._JSON_OPEN_METHODS]
        services = set()
        for path in loader._potential_locations():
            for service, entries in _tree(path).items():
                if any(name in files for files in entries for name in wanted):
                    services.add(service)
        return sorted(services)

    # Loader.list_available_services is cached per instance and type name: so is this.
    cached: dict[str, list[str]] = {}

    def cached_list(type_name: str) -> list[str]:
        if type_name not in cached:
            cached[type_name] = list_available_services(type_name)
        return cached[type_name]

    loader.list_available_services = cached_list  # type: ignore[method-assign]


def _tree(path: str) -> dict[str, list[frozenset[str]]]:
    if path not in _TREES:
        _TREES[path] = {
            service.name: [_files(entry) for entry in _entries(service.path) if _is_dir(entry)]
            for service in _entries(path)
            if _is_dir(service)
        }
    return _TREES[path]


def _entries(folder: str) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        return list(entries)


def _files(folder: os.DirEntry[str]) -> frozenset[str]:
    """Names of the regular files (symlinks followed) in `folder`; none if it cannot be read."""
    try:
        return frozenset(entry.name for entry in _entries(folder.path) if _is_file(entry))
    except OSError:  # as os.path.isfile: a folder that cannot be read holds no file
        return frozenset()


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # symlinks followed, as os.path.isdir
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()  # symlinks followed, as os.path.isfile
    except OSError:
        return False
