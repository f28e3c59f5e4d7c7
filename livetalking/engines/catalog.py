"""The voice engines a voice can be cloned with, and the languages each speaks."""

from pathlib import Path

from livetalking.errors import InvalidInput

OFFLINE = "offline"
XTTS = "xtts"
XTTS_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "pl", "tr", "ru", "nl", "cs", "ar", "zh-cn", "hu", "ko", "ja",
                  "hi")
LANGUAGES = {OFFLINE: ("en",), XTTS: XTTS_LANGUAGES}


def check_engine(engine: str, language: str) -> None:
    """Refuse an unknown engine, or a language the engine does not speak."""
    if engine not in LANGUAGES:
        raise InvalidInput(f"unknown voice engine {engine!r}; choose one of {', '.join(LANGUAGES)}",
                           code="voice.unknown_engine")
    if language not in LANGUAGES[engine]:
        hint = "; use the xtts engine" if engine == OFFLINE else ""
        raise InvalidInput(f"the {engine} engine does not speak {language!r} (it speaks "
                           f"{', '.join(LANGUAGES[engine])}){hint}", code="voice.language_unsupported")


def require_weights(engine: str, models_root: Path, fine_tune: bool = False) -> None:
    """Refuse at once (base_model.missing, naming the folder and files) when the engine's weights are absent."""
    if engine == XTTS:
        from livetalking.engines.xtts_engine import FINETUNE_FILES, INFERENCE_FILES, base_folder, require_files

        require_files(base_folder(models_root), INFERENCE_FILES + (FINETUNE_FILES if fine_tune else ()))
