"""features: STFT log magnitude, IBM, source magnitudes, VAD weights in 100-frame chunks, and waveform segments."""

from cocktail.atomic import atomic_dir
from cocktail.features import Normaliser, SpectralSettings, build_features
from cocktail.mixing import MixtureSet
from cocktail.shards import save_npz
from cocktail.stage import run_stage
from cocktail.stft import StftConfig

IN = "data/mixtures"
OUT = "data/features"


def main(params):
    section = params.section("features")
    cfg = StftConfig.from_params(section)
    sample_rate = int(params["corpus.sample_rate"])
    segment = int(round(float(section["segment_seconds"]) * sample_rate))
    normaliser = None
    with atomic_dir(OUT) as out:
        for split in ("train", "valid"):
            features = build_features(
                MixtureSet.load(f"{IN}/{split}.npz"), cfg, float(section["vad_db"]), int(section["chunk_frames"]), segment
            )
            normaliser = normaliser or Normaliser.fit(features["log_mag"])
            save_npz(out / f"{split}.npz", **features)
            print(f"{split}: {len(features['log_mag'])} chunks, {len(features['mix_wave'])} waveform segments")
        SpectralSettings(cfg, float(section["vad_db"]), sample_rate, normaliser).save(out / "spectral.json")


if __name__ == "__main__":
    run_stage(main, __doc__)
