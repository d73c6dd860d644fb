"""prepare: read the corpus named by corpus.name, resample to the pipeline rate, split speakers."""

from cocktail.atomic import atomic_dir
from cocktail.corpora import read_corpus
from cocktail.prepare import build_manifest, check_not_silent, summary, write_prepared
from cocktail.stage import run_stage

OUT = "data/prepared"


def main(params):
    sample_rate = int(params["corpus.sample_rate"])
    utterances = read_corpus(params, sample_rate, int(params["seed"]))
    check_not_silent(utterances)
    manifest = build_manifest(
        utterances, sample_rate, params["corpus.speaker_set"],
        int(params["corpus.valid_speakers"]), int(params["corpus.test_speakers"]), int(params["seed"]),
    )
    with atomic_dir(OUT) as out:
        write_prepared(out, utterances, manifest)
    print(summary(manifest))


if __name__ == "__main__":
    run_stage(main, __doc__)
