"""features: STFT log magnitude, IBM, source magnitudes, VAD weights in 100-frame chunks, and waveform segments."""

from cocktail.atomic import atomic_dir
from cocktail.features import Normaliser, SpectralSettings, build_features
from cocktail.mixing import MixtureSet
from cocktail.params import number_in_range
from cocktail.shards import save_npz
from cocktail.stage import run_stage
from cocktail.stft import StftConfig

IN = "data/mixtures"
OUT = "data/features"


def main(params):
    section = params.section("features")
    cfg = StftConfig.from_params(section)
    sample_rate = int(params["corpus.sample_rate"])
    segment = int(round(number_in_range(section, "segment_seconds", float, 0.1) * sample_rate))
    chunk_frames = number_in_range(section, "chunk_frames", int, 1)
    normaliser = None
    with atomic_dir(OUT) as out:
        for split in ("train", "valid"):
            features = build_features(
                MixtureSet.load(f"{IN}/{split}.npz"), cfg, float(section["vad_db"]), chunk_frames, segment
            )
            normaliser = normaliser or Normaliser.fit(features["log_mag"])
            save_npz(out / f"{split}.npz", **features)
            print(f"{split}: {len(features['log_mag'])} chunks, {len(features['mix_wave'])} waveform segments")
        SpectralSettings(cfg, float(section["vad_db"]), sample_rate, normaliser).save(out / "spectral.json")


if __name__ == "__main__":
    run_stage(main, __doc__)
