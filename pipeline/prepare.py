"""prepare: read the corpus named by corpus.name at corpus.root, resample to the pipeline rate, split speakers."""

from cocktail.atomic import atomic_dir
from cocktail.prepare import prepare_corpus, summary
from cocktail.stage import run_stage

OUT = "data/prepared"


def main(params):
    with atomic_dir(OUT) as out:
        manifest = prepare_corpus(params, out, OUT)
    print(summary(manifest))


if __name__ == "__main__":
    run_stage(main, __doc__)
