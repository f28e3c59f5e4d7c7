"""Voice cloning per engine on this machine: cloning time for 1 and 5 minutes of reference, real-time factor,
time to the first 20 ms chunk, speaker similarity to held-out speech (clone vs base voice), WER.

The reference is one LibriVox reader (Debian's pocketsphinx-testdata, 25 s in five clips): four clips
are joined into takes and repeated to reach 1 and 5 minutes (so 5 minutes holds the same 20 s of
sentences twelve times: it measures time, not what more material would teach); the fifth clip is the
held-out take. xtts is measured only when models/base/xtts_v2 holds real weights.
"""

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.table import print_table
from livetalking.engines.loader import engine_for
from livetalking.engines.piper_engine import PiperEngine
from livetalking.engines.xtts_engine import base_folder
from livetalking.media.audio_io import decode_audio, write_wav
from livetalking.platform.db import session_scope
from livetalking.platform.tables import ModelVersion
from livetalking.serve_apps.api.app import build_context
from livetalking.settings import Settings
from livetalking.train_jobs.voice_clone import clone_speaker
from livetalking.train_jobs.voice_takes import ReferenceTake
from tests.fixtures.media import librivox
from tests.fixtures.voices import new_voice_target

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ("Good morning, and welcome to the show.", "Today we look at three new phones and one old favourite.",
             "Stay with us, the best part comes right after the break.", "Thank you for watching, see you tomorrow.",
             "Prices start at nineteen dollars and ninety nine cents.")
TAKE_S = 60.0
LONG = ("Welcome back to the evening show, where tonight we will look at the three phones everybody has been "
        "asking about, compare their cameras in the dark, and tell you which one is worth your money this winter.")


def reference_takes(folder: Path, minutes: float) -> list[ReferenceTake]:
    """Takes of up to a minute each, made of the first four clips in turn, then the held-out fifth clip."""
    clips = librivox()
    gap = np.zeros(int(0.4 * 16000), np.float32)
    pieces = [decode_audio(path, 16000) for path, _ in clips[:4]]
    takes, current, total = [], [], 0.0
    index = 0
    while total < minutes * 60:
        piece = pieces[index % 4]
        current += [piece, gap]
        total += (len(piece) + len(gap)) / 16000
        index += 1
        if sum(len(p) for p in current) / 16000 >= TAKE_S or total >= minutes * 60:
            path = write_wav(folder / f"take-{len(takes)}.wav", np.concatenate(current), 16000)
            takes.append(ReferenceTake(path))
            current = []
    return takes + [ReferenceTake(clips[4][0], clips[4][1])]


def streaming(engine) -> tuple[float, float]:
    """(median ms to the first 20 ms chunk, median real-time factor) over the sentences."""
    first, factors = [], []
    for sentence in SENTENCES:
        started = time.perf_counter()
        chunks = engine.stream(sentence)
        next(chunks)
        first.append((time.perf_counter() - started) * 1000)
        samples = sum(len(c.samples) for c in chunks) + 480
        factors.append((time.perf_counter() - started) / (samples / engine.sample_rate))
    return statistics.median(first), statistics.median(factors)


def first_chunk_ms(engine, text: str, runs: int = 3) -> float:
    """Median ms to the first 20 ms chunk of `text` (after one warm-up)."""
    next(iter(engine.stream(text)))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        next(iter(engine.stream(text)))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def clone_row(engine_name: str, minutes: float, scratch: Path, long_rows: list) -> list:
    settings = Settings(data_root=scratch / "data", models_root=scratch / "models",
                        voice_gate_min_similarity=0.0, voice_gate_max_wer=1.0)
    if engine_name == "xtts":
        (scratch / "models" / "base").mkdir(parents=True, exist_ok=True)
        (scratch / "models" / "base" / "xtts_v2").symlink_to(base_folder(ROOT / "models").resolve())
    context = build_context(settings)
    target = new_voice_target(context, "bench", "bench")
    takes = reference_takes(scratch, minutes)
    started = time.perf_counter()
    version = clone_speaker(takes, engine=engine_name, target=target, settings=settings)
    seconds = time.perf_counter() - started
    with session_scope(context.engine) as session:
        model = session.get(ModelVersion, version.model_id)
    engine = engine_for(model, context.store, settings)
    first_ms, rtf = streaming(engine)
    if minutes == 1.0:
        long_rows.append([engine_name, first_chunk_ms(engine, SENTENCES[0]), first_chunk_ms(engine, LONG)])
    m = version.metrics
    context.engine.dispose()
    return [engine_name, f"{minutes:g} min", seconds, rtf, first_ms, m["similarity"], m.get("base_similarity", "-"),
            m.get("wer", "-"), m.get("base_wer", "-"), m.get("cepstral_distortion_db", "-")]


def main() -> None:
    header = ["engine", "reference", "clone s", "RTF", "first chunk ms", "similarity", "base similarity", "WER",
              "base WER", "MCD dB"]
    rows, long_rows = [], []
    engines = ["offline"] + (["xtts"] if (base_folder(ROOT / "models") / "model.pth").is_file() else [])
    for engine_name in engines:
        for minutes in (1.0, 5.0):
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(clone_row(engine_name, minutes, Path(tmp), long_rows))
    piper = PiperEngine()
    base_first, base_rtf = streaming(piper)
    long_rows.append(["piper base voice", first_chunk_ms(piper, SENTENCES[0]), first_chunk_ms(piper, LONG)])
    rows.append(["piper base voice", "-", "-", base_rtf, base_first, "-", "-", "-", "-", "-"])
    print_table("Voice cloning (median over 5 sentences for RTF and first chunk; similarity to the held-out clip)",
                header, rows)
    print_table(f"Time to the first 20 ms chunk (ms, median of 3): a 7-word and a {len(LONG.split())}-word sentence",
                ["engine", "7 words", f"{len(LONG.split())} words"], long_rows)
    if "xtts" not in engines:
        print("xtts not measured: models/base/xtts_v2 holds no model.pth (no weights on this machine)")


if __name__ == "__main__":
    main()
