"""Loaded by Python at start-up where tests put this folder on PYTHONPATH: records every params key a stage reads
(a leaf value, read through Params or a section of it) in the file COCKTAIL_PARAMS_READ names, as
`<script> <key>` lines, so tests/pipeline/test_stage_params.py can hold them against dvc.yaml's params lists."""

import atexit
import os
import sys

from cocktail import params

READ: set[str] = set()
LOG = os.environ["COCKTAIL_PARAMS_READ"]


def recording(read_key):
    def getitem(self, key):
        value = read_key(self, key)
        if not isinstance(value, dict):
            READ.add(f"{self.name}.{key}" if isinstance(self, params.SectionView) else key)
        return value

    return getitem


def write() -> None:
    if READ:
        with open(LOG, "a") as log:
            log.writelines(f"{sys.argv[0]} {key}\n" for key in sorted(READ))


params.Params.__getitem__ = recording(params.Params.__getitem__)
params.SectionView.__getitem__ = recording(params.SectionView.__getitem__)
atexit.register(write)
