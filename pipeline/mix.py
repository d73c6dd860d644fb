"""mix: draw mixtures of distinct speakers (or of mix.classes) per split at a uniform source-to-source ratio
(seeded), or build the mixtures the corpus lists itself (wsj0-2mix lists, premixed folders)."""

from cocktail.atomic import atomic_dir
from cocktail.mixing import mixtures_from_params
from cocktail.prepared import SPLITS, load_mix_list, load_prepared
from cocktail.stage import run_stage

IN = "data/prepared"
OUT = "data/mixtures"


def main(params):
    audio, manifest = load_prepared(IN)
    mix_list = load_mix_list(IN)
    section = params.section("mix")
    with atomic_dir(OUT) as out:
        for split in SPLITS:
            mixtures = mixtures_from_params(
                audio, manifest, section, split, int(section["n_sources"]), int(params["corpus.sample_rate"]),
                int(params["seed"]), mix_list,
            )
            mixtures.save(out / f"{split}.npz")
            print(f"{split}: {len(mixtures)} mixtures, {mixtures.table['duration'].sum() / 60:.1f} min")


if __name__ == "__main__":
    run_stage(main, __doc__)
