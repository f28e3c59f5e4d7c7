"""The one settings class of the platform, read once from the environment (prefix LT_)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment can change; defaults give the embedded single-node setup."""

    model_config = SettingsConfigDict(env_prefix="LT_", env_file=None, frozen=True)

    data_root: Path = Path("data")
    models_root: Path = Path("models")
    database_url: str = ""
    db_busy_timeout_s: float = 1.0

    store_backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str = ""
    s3_bucket: str = "livetalking"
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""

    ray_address: str = ""
    ray_dashboard_host: str = "127.0.0.1"
    ray_dashboard_port: int = 8265
    ray_num_cpus: int | None = None

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    ingress_replicas: int = 1
    ingress_num_cpus: float = 0.25

    max_upload_bytes: int = 4 * 1024**3
    upload_chunk_bytes: int = 8 * 1024**2
    upload_expiry_s: float = 24 * 3600.0
    video_min_duration_s: float = 10.0
    video_max_duration_s: float = 30 * 60.0
    video_min_short_side: int = 720
    audio_min_duration_s: float = 1.0
    audio_max_duration_s: float = 30 * 60.0

    task_poll_interval_s: float = 0.5
    task_heartbeat_timeout_s: float = 30.0
    task_max_attempts: int = 3
    task_max_concurrency: int = 2

    voice_min_speech_s: float = 10.0
    voice_train_steps: int = 400
    voice_update_steps: int = 200
    voice_use_gpu: bool = False
    voice_xtts_finetune_steps: int = 300
    voice_xtts_finetune_lr: float = 5e-6
    voice_gate_min_similarity: float = 0.80
    voice_gate_min_similarity_gain: float = 0.05
    voice_gate_max_wer: float = 0.25
    voice_gate_max_rtf: float = 0.3

    avatar_preset: Literal["preview", "quality"] = "preview"
    avatar_epochs: int | None = None
    avatar_audio_feature: Literal["whisper_mel", "whisper", "mel"] = "whisper_mel"
    avatar_use_gpu: bool = False
    avatar_train_workers: int = 1
    avatar_gate_min_mouth_corr: float = 0.3
    avatar_gate_min_corr_margin: float = 0.1
    avatar_gate_max_landmark_ratio: float = 0.9
    train_storage: str = ""
    train_max_failures: int = 2

    bootstrap_tenant: str = "default"
    log_level: str = Field(default="INFO")

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.store_backend == "s3" and not self.s3_bucket:
            raise ValueError("LT_S3_BUCKET is required with LT_STORE_BACKEND=s3")
        if self.avatar_train_workers < 1:
            raise ValueError("LT_AVATAR_TRAIN_WORKERS must be at least 1")
        if self.db_busy_timeout_s <= 0:
            raise ValueError("LT_DB_BUSY_TIMEOUT_S must be positive")
        if self.max_upload_bytes <= 0:
            raise ValueError("LT_MAX_UPLOAD_BYTES must be positive")
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or SQLite at data/meta.db."""
        return self.database_url or f"sqlite:///{(self.data_root / 'meta.db').as_posix()}"

    @property
    def uploads_dir(self) -> Path:
        """Where uploads stream to before they are validated."""
        return self.data_root / "uploads"
