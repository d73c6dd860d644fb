"""features: STFT log magnitude, IBM, source magnitudes, VAD weights in 100-frame chunks, and waveform segments,
written as shards mixture by mixture so memory does not grow with the split."""

from cocktail.atomic import atomic_dir
from cocktail.data.features import RunningMoments, write_features
from cocktail.data.mixture_set import iter_mixtures
from cocktail.data.shards import megabytes
from cocktail.dsp.spectral import SpectralSettings
from cocktail.dsp.stft import StftConfig
from cocktail.stage import run_stage


def main(params, paths):
    section = params.section("features")
    cfg = StftConfig.from_params(section)
    sample_rate = int(params["corpus.sample_rate"])
    segment = int(round(section["segment_seconds"] * sample_rate))
    chunk_frames = section["chunk_frames"]
    shard_bytes = megabytes(section, "shard_megabytes")
    moments = RunningMoments()
    with atomic_dir(paths.out) as out:
        for split in ("train", "valid"):
            counts = write_features(
                iter_mixtures(f"{paths.mixtures}/{split}"), out / split, cfg, float(section["vad_db"]), chunk_frames, segment, shard_bytes,
                moments if split == "train" else None,
            )
            print(f"{split}: {sum(counts['spectral'])} chunks, {sum(counts['waveform'])} waveform segments "
                  f"in {len(counts['spectral'])} + {len(counts['waveform'])} shards")
        SpectralSettings(cfg, float(section["vad_db"]), sample_rate, moments.normaliser()).save(out / "spectral.json")


if __name__ == "__main__":
    run_stage(main, __doc__, {"mixtures": "the mix stage's folder (its train and valid splits are read)", "out": "the features folder it writes"})
