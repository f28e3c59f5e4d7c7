"""The take quality report: measurements per frame and for the audio, then verdicts with stable codes.

Hard rules (the take is rejected, the capture guide explains each code):
- quality.face_missing: a face in fewer than 90 % of frames.
- quality.multiple_faces: more than one face in over 10 % of the frames the detector ran on.
- quality.not_green: the backdrop's key colour has no green excess (key excess < 0.03).
- quality.silent_audio: the take has sound but speech fills under 5 % of it.
Warnings (accepted, reported): blur, exposure, uneven backdrop, strong spill, low audio SNR, clipping,
wide head pose.
"""

from dataclasses import dataclass, field

import cv2
import numpy as np

from livetalking.media.chroma_key import KeyModel
from livetalking.media.face_regions import LEFT_EYE, NOSE_TIP, RIGHT_EYE

MIN_FACE_SHARE = 0.9
MAX_MULTI_FACE_SHARE = 0.1
MIN_KEY_EXCESS = 0.03
MIN_SPEECH_SHARE = 0.05
MIN_SHARPNESS = 40.0
DARK_FACE, BRIGHT_FACE = 60.0, 200.0
UNEVEN_SPREAD = 0.12
STRONG_SPILL = 0.35
MIN_SNR_DB = 20.0
MAX_CLIPPED = 0.001
WIDE_POSE_DEG = 25.0


@dataclass
class FrameStats:
    """What the report needs from each frame."""

    face: bool
    faces_detected: int | None
    roll_deg: float = float("nan")
    yaw_deg: float = float("nan")
    pitch_ratio: float = float("nan")
    sharpness: float = float("nan")
    face_luma: float = float("nan")
    spill: float = 0.0


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(roll in degrees, yaw in degrees (approx.), pitch ratio) from the eye line and the nose."""
    right = landmarks[list(RIGHT_EYE), :2].mean(0)
    left = landmarks[list(LEFT_EYE), :2].mean(0)
    eye_vector = left - right
    distance = float(np.linalg.norm(eye_vector)) or 1.0
    roll = float(np.degrees(np.arctan2(eye_vector[1], eye_vector[0])))
    unit = eye_vector / distance
    normal = np.array([-unit[1], unit[0]])
    nose = landmarks[NOSE_TIP, :2] - (right + left) / 2
    yaw = float(np.degrees(np.arcsin(np.clip(2 * float(nose @ unit) / distance, -1, 1))))
    return roll, yaw, float(nose @ normal) / distance


def crop_stats(crop: np.ndarray) -> tuple[float, float]:
    """(sharpness = variance of the Laplacian, mean luma) of the central face region of a 256 crop."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    size = grey.shape[0]
    centre = grey[size // 4: 3 * size // 4, size // 4: 3 * size // 4]
    return float(cv2.Laplacian(centre, cv2.CV_64F).var()), float(centre.mean())


@dataclass(frozen=True)
class AudioStats:
    present: bool
    speech_share: float = 0.0
    snr_db: float = float("nan")
    clipped_share: float = 0.0


def audio_stats(raw: np.ndarray, speech_flags: np.ndarray, frame: int = 320) -> AudioStats:
    """SNR, clipping and speech share of the take's original audio.

    SNR is the mean level of the speech frames over the 10th percentile of all frame levels: the
    quietest tenth is the background in the pauses, or the noise itself when it never stops.
    """
    if raw.size == 0:
        return AudioStats(False)
    count = min(len(speech_flags), len(raw) // frame)
    frames = raw[: count * frame].reshape(count, frame)
    level = 10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1e-10))
    flags = speech_flags[:count]
    speech = float(np.mean(level[flags])) if flags.any() else float("nan")
    noise = float(np.percentile(level, 10)) if count else -100.0
    return AudioStats(True, float(flags.mean()) if count else 0.0, speech - noise,
                      float(np.mean(np.abs(raw) >= 0.999)))


@dataclass
class Report:
    verdict: str
    reasons: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    measurements: dict = field(default_factory=dict)


def _finite(values: list[float]) -> np.ndarray:
    array = np.asarray(values, np.float64)
    return array[np.isfinite(array)]


def build_report(frames: list[FrameStats], key: KeyModel, audio: AudioStats) -> Report:
    """Measurements and verdicts for a whole take."""
    face_share = float(np.mean([f.face for f in frames])) if frames else 0.0
    detections = [f.faces_detected for f in frames if f.faces_detected is not None]
    multi_share = float(np.mean([d > 1 for d in detections])) if detections else 0.0
    roll, yaw = _finite([f.roll_deg for f in frames]), _finite([f.yaw_deg for f in frames])
    pitch = _finite([f.pitch_ratio for f in frames])
    sharpness, luma = _finite([f.sharpness for f in frames]), _finite([f.face_luma for f in frames])
    spill = float(np.mean([f.spill for f in frames])) / 255.0 / max(key.key_excess, 1e-6) if frames else 0.0
    m = {
        "frames": len(frames), "face_present_share": round(face_share, 4),
        "multiple_faces_share": round(multi_share, 4),
        "roll_deg": [round(float(roll.min()), 1), round(float(roll.max()), 1)] if roll.size else None,
        "yaw_deg": [round(float(yaw.min()), 1), round(float(yaw.max()), 1)] if yaw.size else None,
        "pitch_ratio": [round(float(pitch.min()), 3), round(float(pitch.max()), 3)] if pitch.size else None,
        "sharpness_median": round(float(np.median(sharpness)), 1) if sharpness.size else None,
        "face_luma_median": round(float(np.median(luma)), 1) if luma.size else None,
        "backdrop": key.as_dict(), "spill_ratio": round(spill, 3),
        "audio": {"present": audio.present, "speech_share": round(audio.speech_share, 3),
                  "snr_db": None if not np.isfinite(audio.snr_db) else round(audio.snr_db, 1),
                  "clipped_share": round(audio.clipped_share, 5)},
    }
    report = Report("accepted", measurements=m)

    def rule(code: str, broken: bool, message: str, measured, expected, hard: bool) -> None:
        if broken:
            (report.reasons if hard else report.warnings).append(
                {"code": code, "message": message, "measured": measured, "expected": expected})

    rule("quality.face_missing", face_share < MIN_FACE_SHARE, "the face is missing in too many frames",
         m["face_present_share"], f">= {MIN_FACE_SHARE}", True)
    rule("quality.multiple_faces", multi_share > MAX_MULTI_FACE_SHARE, "more than one face is in the picture",
         m["multiple_faces_share"], f"<= {MAX_MULTI_FACE_SHARE}", True)
    rule("quality.not_green", key.key_excess < MIN_KEY_EXCESS, "the backdrop is not green",
         round(key.key_excess, 4), f">= {MIN_KEY_EXCESS}", True)
    rule("quality.silent_audio", audio.present and audio.speech_share < MIN_SPEECH_SHARE,
         "the take has a sound track but almost no speech", m["audio"]["speech_share"], f">= {MIN_SPEECH_SHARE}",
         True)
    rule("quality.blurry", sharpness.size > 0 and float(np.median(sharpness)) < MIN_SHARPNESS,
         "the face is soft (focus or motion blur)", m["sharpness_median"], f">= {MIN_SHARPNESS}", False)
    rule("quality.exposure", luma.size > 0 and not DARK_FACE <= float(np.median(luma)) <= BRIGHT_FACE,
         "the face is too dark or too bright", m["face_luma_median"], f"{DARK_FACE}..{BRIGHT_FACE}", False)
    rule("quality.uneven_backdrop", key.spread > UNEVEN_SPREAD, "the backdrop is unevenly lit",
         round(key.spread, 4), f"<= {UNEVEN_SPREAD}", False)
    rule("quality.spill", spill > STRONG_SPILL, "strong green spill on the subject's edges", m["spill_ratio"],
         f"<= {STRONG_SPILL}", False)
    rule("quality.audio_snr", audio.present and np.isfinite(audio.snr_db) and audio.snr_db < MIN_SNR_DB,
         "background noise is loud against the speech", m["audio"]["snr_db"], f">= {MIN_SNR_DB} dB", False)
    rule("quality.audio_clipping", audio.clipped_share > MAX_CLIPPED, "the audio clips",
         m["audio"]["clipped_share"], f"<= {MAX_CLIPPED}", False)
    wide = yaw.size > 0 and float(np.abs(yaw).max()) > WIDE_POSE_DEG
    rule("quality.head_pose", wide, "the head turns far from the camera", m["yaw_deg"], f"|yaw| <= {WIDE_POSE_DEG}",
         False)
    if report.reasons:
        report.verdict = "rejected"
    return report
