"""mix: draw mixtures of distinct speakers per split at a uniform source-to-source ratio (seeded)."""

import pandas as pd

from cocktail.atomic import atomic_dir
from cocktail.mixing import make_mixtures
from cocktail.prepare import SPLITS
from cocktail.shards import load_npz, unpack
from cocktail.stage import run_stage

IN = "data/prepared"
OUT = "data/mixtures"


def main(params):
    shard = load_npz(f"{IN}/audio.npz")
    audio = unpack(shard["audio"], shard["offsets"])
    manifest = pd.read_csv(f"{IN}/manifest.csv", keep_default_na=False)
    section = params.section("mix")
    with atomic_dir(OUT) as out:
        for split in SPLITS:
            mixtures = make_mixtures(
                audio, manifest, split, int(section[f"{split}_mixtures"]), int(section["n_sources"]),
                float(section["ratio_db"]), section["length"], int(params["corpus.sample_rate"]), int(params["seed"]),
            )
            mixtures.save(out / f"{split}.npz")
            print(f"{split}: {len(mixtures)} mixtures, {mixtures.table['duration'].sum() / 60:.1f} min")


if __name__ == "__main__":
    run_stage(main, __doc__)
