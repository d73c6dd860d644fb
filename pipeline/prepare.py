"""prepare: read the corpus named by corpus.name at corpus.root, resample to the pipeline rate, split speakers."""

from cocktail.atomic import atomic_dir
from cocktail.data.corpora import reader_settings
from cocktail.data.prepare import prepare_corpus, summary
from cocktail.stage import run_stage


def main(params, paths):
    with atomic_dir(paths.out) as out:
        manifest = prepare_corpus(params.section("corpus"), reader_settings(params), int(params["seed"]), out, paths.out)
    print(summary(manifest))


if __name__ == "__main__":
    run_stage(main, __doc__, {"out": "the prepared corpus folder it writes"})
