"""Finding the packages installed in a root filesystem.

:func:`scan` reads the OS package databases at their fixed paths (dpkg, apk, rpm) and
walks the tree once, handing each entry to the scanner it concerns: Python metadata
directories, npm ``package.json`` files under ``node_modules``, executables (Go build
info) and Java archives. The result is sorted and de-duplicated, so the same tree always
gives the same list.
"""

from __future__ import annotations

import logging
import time

from kaniko.attest.packages import Package, unique_sorted
from kaniko.attest.scan.apk import scan_apk
from kaniko.attest.scan.distro import Distro, read_distro
from kaniko.attest.scan.dpkg import scan_dpkg
from kaniko.attest.scan.golang import scan_binary
from kaniko.attest.scan.java import is_archive, scan_archive
from kaniko.attest.scan.npm import is_package_json, read_package
from kaniko.attest.scan.python import is_metadata_entry, read_distribution
from kaniko.attest.scan.rpm import scan_rpm
from kaniko.attest.tree import RootTree

log = logging.getLogger(__name__)

__all__ = ["Distro", "ScanResult", "scan"]


class ScanResult:
    """The packages of one tree and the distribution it is."""

    def __init__(self, packages: list[Package], distro: Distro) -> None:
        self.packages = packages
        self.distro = distro


def scan(tree: RootTree) -> ScanResult:
    """Every package found in ``tree``."""
    started = time.monotonic()
    distro = read_distro(tree)
    found: list[Package] = []
    found += scan_dpkg(tree, distro)
    found += scan_apk(tree, distro)
    found += scan_rpm(tree, distro)
    for entry in tree.walk():
        if entry.is_dir:
            if is_metadata_entry(entry):
                package = read_distribution(tree, entry)
                if package is not None:
                    found.append(package)
            continue
        if is_metadata_entry(entry):
            package = read_distribution(tree, entry)
            if package is not None:
                found.append(package)
        elif is_package_json(entry):
            package = read_package(tree, entry)
            if package is not None:
                found.append(package)
        elif is_archive(entry):
            found += scan_archive(tree, entry)
        elif entry.executable:
            found += scan_binary(tree, entry)
    packages = unique_sorted(found)
    log.info("SBOM: %d packages found in %.1fs", len(packages), time.monotonic() - started)
    return ScanResult(packages, distro)
