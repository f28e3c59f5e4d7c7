"""The xtts engine on a tiny random XTTS-v2 checkpoint: load, condition, synthesise, stream, Mandarin."""

import numpy as np
import pytest
import torch

from livetalking.engines.xtts_engine import (INFERENCE_FILES, SAMPLE_RATE, XttsEngine, base_folder, conditioning,
                                             load_model, require_files)
from livetalking.errors import InvalidInput, MissingBaseModel
from tests.fixtures.media import librivox


@pytest.fixture(scope="module")
def engine(tiny_xtts_models):
    model = load_model(base_folder(tiny_xtts_models), "cpu")
    latents = conditioning(model, [path for path, _ in librivox()[:2]])
    return XttsEngine(model, latents, "en"), latents


def test_a_missing_base_model_names_the_folder_and_the_files(tmp_path):
    with pytest.raises(MissingBaseModel) as raised:
        require_files(base_folder(tmp_path))
    error = raised.value
    assert error.code == "base_model.missing" and str(base_folder(tmp_path)) in error.message
    assert error.details["missing"] == list(INFERENCE_FILES)


def test_conditioning_latents_have_the_model_shapes(engine):
    _, latents = engine
    assert latents["gpt_cond_latent"].shape[-1] == 64 and latents["speaker_embedding"].shape[1] == 512


def test_synthesize_and_stream(engine):
    xtts, _ = engine
    audio = xtts.synthesize("Hello there, how are you today?")
    assert audio.dtype == np.float32 and audio.size > SAMPLE_RATE * 0.1 and np.isfinite(audio).all()
    torch.manual_seed(0)
    chunks = list(xtts.stream("Hello there."))
    assert len(chunks) >= 2 and all(c.sample_rate == SAMPLE_RATE for c in chunks)
    assert all(len(c.samples) == 480 for c in chunks[:-1]) and 0 < len(chunks[-1].samples) <= 480
    assert [round(c.start_s, 3) for c in chunks] == [round(0.02 * i, 3) for i in range(len(chunks))]
    with pytest.raises(InvalidInput) as raised:
        xtts.synthesize("   ")
    assert raised.value.code == "tts.empty_text"


def test_mandarin_text_is_spoken_by_xtts(engine):
    xtts, latents = engine
    mandarin = XttsEngine(xtts.model, latents, "zh-cn")
    audio = mandarin.synthesize("床前明月光，疑是地上霜。")
    assert audio.size > 0 and np.isfinite(audio).all()
