"""The capture spec: rules a take must meet, each failure a stable code naming the rule and the measured value."""

from dataclasses import dataclass
from pathlib import Path

from livetalking.errors import InvalidInput
from livetalking.media.audio_io import normalise_wav
from livetalking.media.backdrop import estimate_backdrop
from livetalking.media.image_io import MAX_SIDE, ImageInfo, probe_image, read_image
from livetalking.media.probe import AudioInfo, VideoInfo, probe_audio, probe_video, sample_frames

VIDEO_EXTENSIONS = (".mp4", ".mov")
VIDEO_CONTAINER = "mov,mp4,m4a,3gp,3g2,mj2"
VIDEO_CODECS = ("h264", "hevc")
ALLOWED_FPS = (25.0, 30.0)
FPS_TOLERANCE = 0.05
MAX_FRAME_INTERVAL_SPREAD = 0.1
AUDIO_EXTENSIONS = (".wav",)
AUDIO_RATES = (16000, 24000)
MIN_NORMALISABLE_RATE = 16000
MIN_BACKDROP_SHARE = 0.5
BACKDROP_SAMPLE_FRAMES = 6
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
IMAGE_FORMATS = {"png": "png", "mjpeg": "jpeg"}
IMAGE_MIN_SIDE = 64
IMAGE_MAX_SIDE = MAX_SIDE
EXTENSIONS = {"video": VIDEO_EXTENSIONS, "audio": AUDIO_EXTENSIONS, "image": IMAGE_EXTENSIONS}


@dataclass(frozen=True)
class CaptureSpec:
    """Limits that depend on settings and tenant."""

    min_short_side: int
    video_min_duration_s: float
    video_max_duration_s: float
    audio_min_duration_s: float
    audio_max_duration_s: float


def _fail(code: str, rule: str, measured, expected, message: str) -> InvalidInput:
    return InvalidInput(message, code=code, details={"rule": rule, "measured": measured, "expected": expected})


def check_extension(filename: str, kind: str) -> None:
    """The file name must end in an extension of its kind."""
    allowed = EXTENSIONS[kind]
    suffix = Path(filename).suffix.lower()
    if suffix not in allowed:
        raise _fail("upload.bad_extension", "file extension", suffix or "(none)", list(allowed),
                    f"{kind} takes must be one of {', '.join(allowed)}; got {suffix or 'no extension'}")


def check_duration(kind: str, seconds: float, minimum: float, maximum: float) -> None:
    """take.<kind>.too_short / too_long."""
    if seconds < minimum:
        raise _fail(f"take.{kind}.too_short", "duration in seconds", round(seconds, 2), f">= {minimum}",
                    f"the take lasts {seconds:.2f} s; at least {minimum:g} s is required")
    if seconds > maximum:
        raise _fail(f"take.{kind}.too_long", "duration in seconds", round(seconds, 2), f"<= {maximum}",
                    f"the take lasts {seconds:.0f} s; at most {maximum:g} s is allowed")


def validate_video(path: Path, spec: CaptureSpec) -> tuple[VideoInfo, dict]:
    """Probe and check a video take; returns its info and the validation report, or raises InvalidInput."""
    info = probe_video(path)
    if info.container != VIDEO_CONTAINER:
        raise _fail("take.video.container", "container MP4 or MOV", info.container, "mp4/mov",
                    f"the container is {info.container}; a video take must be MP4 or MOV")
    if info.codec not in VIDEO_CODECS:
        raise _fail("take.video.codec", "codec H.264 or H.265", info.codec, list(VIDEO_CODECS),
                    f"the video codec is {info.codec}; a video take must be H.264 or H.265")
    if info.frame_interval_spread > MAX_FRAME_INTERVAL_SPREAD:
        raise _fail("take.video.variable_frame_rate", "constant frame rate",
                    round(info.frame_interval_spread, 3), f"<= {MAX_FRAME_INTERVAL_SPREAD}",
                    f"frame intervals vary by up to {info.frame_interval_spread:.0%}; "
                    "the take must have a constant frame rate (25 or 30 fps)")
    if not any(abs(info.fps - f) <= FPS_TOLERANCE for f in ALLOWED_FPS):
        raise _fail("take.video.frame_rate", "25 or 30 fps", round(info.fps, 3), list(ALLOWED_FPS),
                    f"the frame rate is {info.fps:.2f} fps; a video take must be 25 or 30 fps")
    if info.short_side < spec.min_short_side:
        raise _fail("take.video.resolution", "short side in pixels", info.short_side,
                    f">= {spec.min_short_side}",
                    f"the short side is {info.short_side} px; at least {spec.min_short_side} px is required")
    if info.declared_duration_s > info.duration_s + 1.0:
        raise _fail("take.video.truncated", "frames cover the declared duration",
                    round(info.duration_s, 2), round(info.declared_duration_s, 2),
                    f"the file declares {info.declared_duration_s:.1f} s but its frames end at "
                    f"{info.duration_s:.1f} s; it looks truncated")
    check_duration("video", info.duration_s, spec.video_min_duration_s, spec.video_max_duration_s)
    backdrop = estimate_backdrop(sample_frames(path, BACKDROP_SAMPLE_FRAMES))
    if not backdrop.is_green or backdrop.border_share < MIN_BACKDROP_SHARE:
        raise _fail("take.video.not_green", "green backdrop around the frame border",
                    backdrop.as_dict(), f"green key and border share >= {MIN_BACKDROP_SHARE}",
                    f"no green backdrop found: key colour {backdrop.key_rgb} (hue {backdrop.key_hue_deg} deg), "
                    f"{backdrop.border_share:.0%} of the frame border is backdrop; "
                    f"at least {MIN_BACKDROP_SHARE:.0%} of green is required")
    report = {
        "verdict": "accepted",
        "fps": round(info.fps, 3),
        "frame_count": info.frame_count,
        "duration_s": round(info.duration_s, 3),
        "resolution": [info.width, info.height],
        "codec": info.codec,
        "has_audio": info.has_audio,
        "chroma": backdrop.as_dict(),
    }
    return info, report


def validate_audio(path: Path, spec: CaptureSpec, normalise: bool, scratch: Path) -> tuple[AudioInfo, dict, Path]:
    """Check an audio take; when `normalise` is set, other rates (>= 16 kHz) and stereo are converted.

    Returns the info of the file to store, the report and that file's path (`path` or a new WAV in scratch).
    """
    info = probe_audio(path)
    if info.container != "wav":
        raise _fail("take.audio.container", "WAV container", info.container, "wav",
                    f"the container is {info.container}; an audio take must be WAV")
    if not info.codec.startswith("pcm_"):
        raise _fail("take.audio.codec", "PCM samples", info.codec, "pcm_*",
                    f"the audio codec is {info.codec}; an audio take must be PCM")
    if info.sample_rate < MIN_NORMALISABLE_RATE:
        raise _fail("take.audio.sample_rate_too_low", "sample rate in Hz", info.sample_rate,
                    f">= {MIN_NORMALISABLE_RATE}",
                    f"the sample rate is {info.sample_rate} Hz; below {MIN_NORMALISABLE_RATE} Hz "
                    "speech lacks the bandwidth a voice clone needs, and it cannot be normalised")
    check_duration("audio", info.duration_s, spec.audio_min_duration_s, spec.audio_max_duration_s)
    conforming = info.sample_rate in AUDIO_RATES and info.channels == 1
    report = {"verdict": "accepted", "original": {"sample_rate": info.sample_rate, "channels": info.channels,
                                                  "codec": info.codec}, "normalised": False}
    if conforming:
        return info, report, path
    if not normalise:
        if info.sample_rate not in AUDIO_RATES:
            raise _fail("take.audio.sample_rate", "sample rate 16 or 24 kHz", info.sample_rate, list(AUDIO_RATES),
                        f"the sample rate is {info.sample_rate} Hz; an audio take must be 16000 or 24000 Hz "
                        "(upload with normalize=true to convert)")
        raise _fail("take.audio.channels", "mono", info.channels, 1,
                    f"the take has {info.channels} channels; an audio take must be mono "
                    "(upload with normalize=true to mix down)")
    target_rate = 24000 if info.sample_rate >= 24000 else 16000
    out = scratch / (path.stem + f".norm{target_rate}.wav")
    normalise_wav(path, out, target_rate)
    normalised = probe_audio(out)
    report["normalised"] = True
    return normalised, report, out


def validate_image(path: Path) -> tuple[ImageInfo, dict]:
    """Check an image take (PNG or JPEG, 64 to 4096 px a side, every pixel decodes); returns its info and report."""
    info = probe_image(path)
    if info.codec not in IMAGE_FORMATS:
        raise _fail("take.bad_image", "PNG or JPEG", info.codec, list(IMAGE_FORMATS),
                    f"the image is {info.codec}; an image take must be PNG or JPEG")
    sides = [info.width, info.height]
    if min(sides) < IMAGE_MIN_SIDE or max(sides) > IMAGE_MAX_SIDE:
        raise _fail("take.bad_image", "width and height in pixels", sides,
                    f"{IMAGE_MIN_SIDE} to {IMAGE_MAX_SIDE}",
                    f"the image is {info.width} x {info.height} px; each side must be "
                    f"{IMAGE_MIN_SIDE} to {IMAGE_MAX_SIDE} px")
    read_image(path)
    return info, {"verdict": "accepted", "format": IMAGE_FORMATS[info.codec], "resolution": sides,
                  "codec": info.codec}
