"""Speech states for lip sync: the encoder of the bundled whisper tiny.en model (CTranslate2), 50 per second, 384-d.

Whisper's encoder was trained to read words from many voices, so its states say what is being said
far more than who says it; the log-mel of audio_features says both. The audio is encoded in pieces
of at most 30 s (the encoder's span) with PAD_S of silence around the whole, so the first and last
frames have context. A video frame's window is STATE_WINDOW states (0.2 s) starting STATE_LEAD
states (60 ms) before the frame, like the mel window of the lip-sync model.
"""

import numpy as np

from livetalking.media.audio_features import RATE

STATE_RATE = 50
STATE_DIM = 384
STATE_WINDOW = 10
STATE_LEAD = 3
PIECE_S = 30
PAD_S = 0.4


def encoder_states(audio_16k: np.ndarray, device: str = "cpu") -> np.ndarray:
    """(ceil(seconds x 50), 384) float32 encoder states of 16 kHz mono audio (state i covers i / 50 s onwards)."""
    import ctranslate2

    from livetalking.media.transcribe import whisper_model

    model = whisper_model(device)
    pad = int(PAD_S * RATE)
    padded = np.pad(np.asarray(audio_16k, np.float32), (pad, pad))
    pieces = []
    for start in range(0, len(padded), PIECE_S * RATE):
        mel = model.feature_extractor(padded[start:start + PIECE_S * RATE])[:, :-1]     # (80, 100 / s)
        mel = mel[:, : mel.shape[1] // 2 * 2]
        if mel.shape[1] < 2:
            continue
        states = model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None])),
                                    to_cpu=True)
        pieces.append(np.asarray(states, np.float32)[0])                                 # (50 / s, 384)
    states = np.concatenate(pieces)
    skip = int(PAD_S * STATE_RATE)
    count = int(np.ceil(len(audio_16k) / RATE * STATE_RATE))
    return states[skip:skip + count]


def state_windows(states: np.ndarray, video_frames: int, fps: float, lead: int = STATE_LEAD) -> np.ndarray:
    """(video_frames, 10, 384): each video frame's window of states; the edge states repeat outside the audio."""
    starts = np.floor(STATE_RATE * np.arange(video_frames) / fps + 1e-9).astype(np.int64) - lead
    index = np.clip(starts[:, None] + np.arange(STATE_WINDOW)[None, :], 0, len(states) - 1)
    return states[index]
