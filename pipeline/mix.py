"""mix: draw mixtures of distinct speakers (or of mix.classes) per split at a uniform source-to-source ratio
(seeded), heard through simulated rooms and with noise where mix.reverb and mix.noise ask, or build the mixtures
the corpus lists itself (wsj0-2mix lists, premixed folders); each split is written as shards while it is drawn,
so memory does not grow with the number of mixtures."""

from cocktail.atomic import atomic_dir
from cocktail.data.mixing import mixture_stream
from cocktail.data.mixture_set import write_mixtures
from cocktail.data.prepared_data import SPLITS, load_mix_list, load_prepared
from cocktail.data.shards import megabytes
from cocktail.stage import run_stage


def main(params, paths):
    audio, manifest = load_prepared(paths.prepared)
    mix_list = load_mix_list(paths.prepared)
    section = params.section("mix")
    shard_bytes = megabytes(section, "shard_megabytes")
    with atomic_dir(paths.out) as out:
        for split in SPLITS:
            stream = mixture_stream(
                audio, manifest, section, params.section("noise"), split, int(section["n_sources"]),
                int(params["corpus.sample_rate"]), int(params["seed"]), mix_list,
            )
            table = write_mixtures(out / split, stream, shard_bytes)
            print(f"{split}: {len(table)} mixtures, {table['duration'].sum() / 60:.1f} min in {table['shard'].nunique()} shard(s)")


if __name__ == "__main__":
    run_stage(main, __doc__, {"prepared": "the prepare stage's folder", "out": "the mixtures folder it writes, one subfolder per split"})
