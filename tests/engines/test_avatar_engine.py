"""Rendering an avatar: the idle loop, the paste-back, the composite, and real MP4 / WebM files with their sound.

The generator here is untrained (its weights are the seed's): these tests are about frames, timing,
files and bounds, which do not depend on how well the mouth moves (tests/train_jobs/test_avatar_model
judges that).
"""

import math

import av
import cv2
import numpy as np
import pytest
import torch

from livetalking.engines.avatar_engine import AvatarRenderer, IdleLoop, composite, load_idle_loop, stillest_stretch
from livetalking.engines.lipsync_runtime import OnnxGenerator
from livetalking.media.audio_io import decode_audio
from livetalking.media.face_align import colour_match
from livetalking.media.image_io import cover, read_image
from livetalking.media.talking_video import write_talking_video
from livetalking.nets.lipsync import PREVIEW_96, LipSyncGenerator
from livetalking.platform.store import LocalStore
from livetalking.train_jobs.avatar_export import write_files
from tests.fixtures.avatars import prepare_shared_take, settings_with_base_models
from tests.fixtures.media import decode_frames, shared, write_picture


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    settings = settings_with_base_models(root)
    store = LocalStore(settings.models_root)
    manifest = prepare_shared_take(settings, store, "talking_face_kh")
    torch.manual_seed(0)
    folder = root / "version"
    folder.mkdir()
    write_files(folder, LipSyncGenerator(PREVIEW_96).state_dict(), PREVIEW_96, {}, {})
    return store, manifest, OnnxGenerator(folder / "model.onnx")


def test_the_idle_loop_plays_ping_pong():
    loop = IdleLoop(*(np.zeros((4, 1)),) * 5, fps=25.0)
    assert [loop.index(k) for k in range(10)] == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3]


def test_the_stillest_stretch_avoids_motion_and_missing_faces():
    landmarks = np.zeros((30, 468, 3))
    landmarks[:10, 1, 0] = np.arange(10) * 5.0  # the nose moves in the first 10 frames
    landmarks[25] = np.nan                       # no face in frame 25
    start = stillest_stretch(landmarks, 8)
    assert 9 <= start and start + 8 <= 25


def test_colour_matching_moves_the_seam_band_to_the_frame():
    mask = np.zeros((32, 32), np.float32)
    mask[8:24, 8:24] = 0.3
    generated = np.full((32, 32, 3), 100, np.uint8)
    base = np.full((32, 32, 3), 130, np.uint8)
    assert colour_match(generated, base, mask)[16, 16].tolist() == [130, 130, 130]


def test_the_composite_uses_the_matte():
    foreground = np.full((2, 2, 3), 200, np.uint8)
    alpha = np.array([[0, 255], [128, 255]], np.uint8)
    out = composite(foreground, alpha, np.zeros((2, 2, 3), np.uint8))
    assert out[0, 0].tolist() == [0, 0, 0] and out[0, 1].tolist() == [200, 200, 200] and 95 < out[1, 0, 0] < 105
    assert composite(foreground, alpha, None).shape == (2, 2, 4)


def test_a_render_lasts_as_long_as_its_audio_with_sound_in_step(prepared, tmp_path):
    store, manifest, generator = prepared
    loop = load_idle_loop(store, manifest, 96, seconds=2.0)
    assert len(loop.crops) == 50 and loop.foreground.shape[1:] == (512, 512, 3)
    speech = decode_audio(shared("speech_en_1.wav"), 16000)
    audio = np.concatenate([np.zeros(16000, np.float32), speech])  # 1 s of silence, then 5 s of speech
    renderer = AvatarRenderer(loop, generator, PREVIEW_96)
    frames = list(renderer.frames(audio, np.zeros((512, 512, 3), np.uint8)))
    expected = math.ceil(len(audio) / 16000 * 25)  # every 1/25 s that holds audio has its frame
    assert len(frames) == renderer.frame_count(audio) == expected
    _, _, speaking = renderer.mouths(audio)
    assert not speaking[:20].any() and speaking[40:].mean() > 0.5
    still = composite(loop.foreground[loop.index(5)], loop.alpha[loop.index(5)], np.zeros((512, 512, 3), np.uint8))
    assert np.array_equal(frames[5], still)  # silence keeps the real frame
    spoken = [k for k in range(40, expected) if speaking[k]][0]
    redrawn = composite(loop.foreground[loop.index(spoken)], loop.alpha[loop.index(spoken)],
                        np.zeros((512, 512, 3), np.uint8))
    changed = np.abs(frames[spoken].astype(int) - redrawn.astype(int)).sum(axis=2) > 0
    rows, cols = np.nonzero(changed)
    assert changed.any() and changed.mean() < 0.1  # only the mouth region is pasted
    mouth = loop.landmarks[loop.index(spoken)][[13, 14], :2].mean(0)
    assert abs(rows.mean() - mouth[1]) < 40 and abs(cols.mean() - mouth[0]) < 40
    path = tmp_path / "render.mp4"
    assert write_talking_video(path, iter(frames), loop.fps, audio, 16000) == expected
    with av.open(str(path)) as container:
        video, sound = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264" and sound.codec_context.name == "aac"
        assert float(video.average_rate) == 25.0 and video.frames == expected
        video_s = float(video.duration * video.time_base)
        audio_s = float(sound.duration * sound.time_base)
        assert abs(video_s - expected / 25) < 0.01 and abs(audio_s - len(audio) / 16000) < 0.05
        assert abs(video_s - audio_s) < 1 / 25
        assert abs(float(video.start_time * video.time_base) - float(sound.start_time * sound.time_base)) < 0.03


def test_a_render_over_an_image_shows_the_image_away_from_the_person(prepared, tmp_path):
    store, manifest, generator = prepared
    loop = load_idle_loop(store, manifest, 96, seconds=1.0)
    height, width = loop.foreground.shape[1:3]
    background = cover(read_image(write_picture(tmp_path / "studio.jpg", 300, 800)), height, width)
    audio = decode_audio(shared("speech_en_1.wav"), 16000)[:16000]
    path = tmp_path / "render.mp4"
    frames = AvatarRenderer(loop, generator, PREVIEW_96).frames(audio, background)
    assert write_talking_video(path, frames, loop.fps, audio, 16000) == 25
    # pixels at least 16 px from anything the matte ever shows, and from the red | blue border of the picture
    person = (loop.alpha > 0).any(axis=0).astype(np.uint8)
    far = cv2.dilate(person, np.ones((33, 33), np.uint8)) == 0
    far[:, width // 2 - 16:width // 2 + 16] = False
    assert far[:, :width // 2].mean() > 0.05 and far[:, width // 2:].mean() > 0.05  # both colours are seen
    for frame in decode_frames(path)[::6]:
        assert frame.shape == background.shape
        assert np.abs(frame[far].astype(int) - background[far]).mean() < 3


def test_a_transparent_render_keeps_the_matte_in_vp9(prepared, tmp_path):
    store, manifest, generator = prepared
    loop = load_idle_loop(store, manifest, 96, seconds=1.0)
    audio = decode_audio(shared("speech_en_1.wav"), 16000)[:16000]
    frames = AvatarRenderer(loop, generator, PREVIEW_96).frames(audio, None)
    path = tmp_path / "render.webm"
    assert write_talking_video(path, frames, loop.fps, audio, 16000, transparent=True) == 25
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp9" and container.streams.audio[0].codec_context.name == "opus"
        decoder = av.CodecContext.create("libvpx-vp9", "r")
        decoded = [f for packet in container.demux(stream) for f in decoder.decode(packet)]
    rgba = decoded[0].to_ndarray(format="rgba")
    assert decoded[0].format.name == "yuva420p" and rgba[..., 3].min() < 10 and rgba[..., 3].max() > 245


def test_a_failed_render_leaves_no_file(tmp_path):
    def broken():
        yield np.zeros((64, 64, 3), np.uint8)
        raise RuntimeError("the generator failed")

    path = tmp_path / "render.mp4"
    with pytest.raises(RuntimeError):
        write_talking_video(path, broken(), 25.0, np.zeros(16000, np.float32), 16000)
    assert not path.exists()
