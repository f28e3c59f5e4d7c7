"""Take preparation: files, manifest and checksums, chunk resume, and the quality verdicts on bad takes."""

import json

import numpy as np
import pytest

from livetalking.media.video_io import frame_count, iter_frames
from livetalking.platform.store import LocalStore, scoped_key
from livetalking.train_jobs.avatar_prepare import plan_chunks, prepare_take, run_in_process
from tests.fixtures.media import decode_frames, encode_video, green_person_frames, loop_frames, shared

TENANT = "00000000-0000-0000-0000-00000000000a"


def put_take(store, path, name="take"):
    stored = store.put_file(scoped_key(TENANT, "takes", name, "source.mp4"), path)
    return stored.key, stored.sha256


def prepare(settings, store, path, done=None, runner=run_in_process, name="take"):
    key, sha = put_take(store, path, name)
    calls = []
    manifest = prepare_take(settings, store, TENANT, "avatar", name, key, sha, done if done is not None else {},
                            lambda d, total: calls.append((sorted(d), total)), runner)
    return manifest, calls


@pytest.fixture(scope="module")
def real_take(tmp_path_factory):
    """Real green-screen footage with its speech, 12 s (two chunks)."""
    source = shared("greenscreen_child_speech.mp4")
    from livetalking.media.audio_io import decode_audio

    audio = decode_audio(source, 16000)
    path = tmp_path_factory.mktemp("take") / "child12.mp4"
    frames = decode_frames(source)
    return encode_video(path, loop_frames(frames, 300), audio=np.concatenate([audio, audio[: 3 * 16000]]))


def test_chunks_cover_the_take_with_warmup():
    chunks = plan_chunks(612, 25.0)
    assert [(c.start, c.count, c.warmup) for c in chunks] == [(0, 250, 0), (250, 250, 12), (500, 112, 12)]
    assert sum(c.count for c in chunks) == 612


def test_a_real_take_is_prepared_into_verified_files(prep_settings, real_take):
    store = LocalStore(prep_settings.models_root)
    manifest, calls = prepare(prep_settings, store, real_take)
    assert manifest["frames"] == 300 and len(manifest["chunks"]) == 2 and calls[-1] == ([0, 1], 2)
    quality = manifest["quality"]
    assert quality["verdict"] == "accepted" and quality["measurements"]["face_present_share"] == 1.0
    assert quality["measurements"]["audio"]["present"] and quality["measurements"]["audio"]["speech_share"] > 0.5
    stored = json.loads(store.get_bytes(manifest["manifest"]["key"], manifest["manifest"]["sha256"]))
    assert stored["parameters"]["key"]["key_excess"] > 0.05
    for chunk in stored["chunks"]:
        for info in chunk["files"].values():
            store.get_bytes(info["key"], info["sha256"])
        with store.open_local(chunk["files"]["alpha.mkv"]["key"]) as alpha_file:
            assert frame_count(alpha_file)[0] == chunk["frames"]
            alpha = next(iter_frames(alpha_file))
            assert alpha[10, 10, 0] == 0 and alpha[300, 256, 0] == 255
        with store.open_local(chunk["files"]["crop_96.mp4"]["key"]) as crops:
            assert next(iter_frames(crops)).shape == (96, 96, 3)
        with store.open_local(chunk["files"]["tracks.npz"]["key"]) as tracks_file:
            tracks = np.load(tracks_file)
            assert tracks["landmarks"].shape == (chunk["frames"], 468, 3)
            assert tracks["transform_256"].shape == (chunk["frames"], 2, 3)
            assert np.isfinite(tracks["landmarks"]).all()
    with store.open_local(stored["files"]["audio.npz"]["key"]) as audio_file:
        audio = np.load(audio_file)
        assert audio["mel"].shape[1] == 80 and len(audio["mel_window_start"]) == 300
    assert store.get_bytes(stored["files"]["preview.png"]["key"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_restart_continues_after_the_finished_chunks(prep_settings, real_take):
    store = LocalStore(prep_settings.models_root)
    first, _ = prepare(prep_settings, store, real_take)
    done = {0: first["chunks"][0]}
    ran = []

    def counting_runner(calls):
        ran.extend(chunk.index for chunk, _ in calls)
        yield from run_in_process(calls)

    second, _ = prepare(prep_settings, store, real_take, done=done, runner=counting_runner)
    assert ran == [1]
    assert second["chunks"][0] == first["chunks"][0]
    assert second["quality"]["measurements"]["frames"] == 300


def two_faces_frames():
    man = decode_frames(shared("greenscreen_man_noaudio.mp4"))[:50]
    child = decode_frames(shared("greenscreen_child_speech.mp4"))[:50]
    return [np.concatenate([m, c], axis=1) for m, c in zip(man, child, strict=True)]


def leaving_frames():
    frame = decode_frames(shared("greenscreen_man_noaudio.mp4"))[0]
    backdrop = np.empty_like(frame)
    backdrop[:] = (69, 151, 103)
    frames = []
    for shift in np.linspace(0, 512, 50).astype(int):
        moved = backdrop.copy()
        moved[:, shift:] = frame[:, : 512 - shift]
        frames.append(moved)
    return frames


@pytest.mark.parametrize("case,code", [
    ("no face", "quality.face_missing"),
    ("two faces", "quality.multiple_faces"),
    ("face leaving the frame", "quality.face_missing"),
    ("silent audio", "quality.silent_audio"),
    ("backdrop not green", "quality.not_green"),
])
def test_bad_takes_get_a_clear_verdict(prep_settings, tmp_path, case, code):
    man = decode_frames(shared("greenscreen_man_noaudio.mp4"))[:50]
    path = tmp_path / "bad.mp4"
    if case == "no face":
        encode_video(path, green_person_frames(320, 240, 50))
    elif case == "two faces":
        encode_video(path, two_faces_frames())
    elif case == "face leaving the frame":
        encode_video(path, leaving_frames())
    elif case == "backdrop not green":
        encode_video(path, decode_frames(shared("talking_face_3.mp4"))[:50])
    else:
        encode_video(path, man, audio=np.zeros(16000 * 2, np.float32))
    store = LocalStore(prep_settings.models_root)
    manifest, _ = prepare(prep_settings, store, path, name=case.replace(" ", "-"))
    quality = manifest["quality"]
    assert quality["verdict"] == "rejected"
    assert code in [r["code"] for r in quality["reasons"]]
    assert all(r["message"] and "measured" in r for r in quality["reasons"])
