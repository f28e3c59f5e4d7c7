"""The livetalking command line: run the platform, and manage takes, models, tasks and keys over the API."""

import json
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from livetalking.client import ApiError, Client, dumps
from livetalking.errors import LiveTalkingError
from livetalking.settings import Settings

app = typer.Typer(help="LiveTalking: clone people into real-time digital humans.", no_args_is_help=True)
takes_app = typer.Typer(help="Upload and inspect takes.", no_args_is_help=True)
consents_app = typer.Typer(help="Record the consent of the people you film.", no_args_is_help=True)
models_app = typer.Typer(help="The model registry.", no_args_is_help=True)
tasks_app = typer.Typer(help="The task center.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys of your tenant.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants (local database access).", no_args_is_help=True)
avatars_app = typer.Typer(help="Avatars: prepare takes, inspect the quality report, train the lip-sync model.",
                          no_args_is_help=True)
voices_app = typer.Typer(help="Voices: clone from audio takes, listen to a preview.", no_args_is_help=True)
for sub, name in ((takes_app, "takes"), (consents_app, "consents"), (models_app, "models"),
                  (tasks_app, "tasks"), (keys_app, "keys"), (tenants_app, "tenants"), (avatars_app, "avatars"),
                  (voices_app, "voices")):
    app.add_typer(sub, name=name)

console = Console()
err = Console(stderr=True)

UrlOpt = Annotated[str, typer.Option("--url", envvar="LT_URL", help="API base URL")]
KeyOpt = Annotated[str, typer.Option("--api-key", envvar="LT_API_KEY", help="API key (Bearer)")]
DEFAULT_URL = "http://127.0.0.1:8000"


def _client(url: str, key: str) -> Client:
    return Client(url, key or None)


def _print(value) -> None:
    console.print_json(dumps(value))


def _fail(error: LiveTalkingError) -> None:
    err.print(f"[red]error[/red] {error.code}: {error.message}")
    raise typer.Exit(2 if isinstance(error, ApiError) and error.status < 500 else 1)


def _api(url: str, api_key: str, method: str, path: str, **kwargs):
    """Call the API; an error answer ends the command with its code, an unreachable server with exit 1."""
    try:
        return _client(url, api_key).request(method, path, **kwargs)
    except LiveTalkingError as e:
        _fail(e)
    except httpx.TransportError as e:
        _unreachable(url, e)


def _save(url: str, api_key: str, method: str, path: str, output: Path, **kwargs) -> dict[str, str]:
    """Download an answer into `output` (complete or not at all); its headers. Errors end the command like _api."""
    try:
        return _client(url, api_key).save(method, path, output, **kwargs)
    except LiveTalkingError as e:
        _fail(e)
    except httpx.TransportError as e:
        _unreachable(url, e)


def _unreachable(url: str, error: Exception) -> None:
    err.print(f"[red]error[/red] cannot reach the API at {url}: {error} (is `livetalking run` up? --url / LT_URL)")
    raise typer.Exit(1)


@app.command()
def run() -> None:
    """Start the platform on a local Ray (or LT_RAY_ADDRESS) and serve the API until Ctrl-C."""
    from livetalking.serve_apps import launch

    settings = Settings()
    with console.status("starting Ray, Serve and the API ..."):
        started = launch.start(settings)
    console.print(f"[green]LiveTalking is up[/green] in {started.seconds:.1f} s: API {started.api_url} "
                  f"(docs {started.api_url}/docs)", soft_wrap=True)
    if started.dashboard_url:
        console.print(f"Ray dashboard: {started.dashboard_url}")
    if started.admin_token:
        console.print("First run: the admin key of tenant "
                      f"'{settings.bootstrap_tenant}' (shown once, keep it safe):")
        console.print(f"  export LT_API_KEY={started.admin_token}", soft_wrap=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    console.print("stopping ...")
    launch.stop()


@app.command()
def status(url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Readiness of the platform, and who the key is."""
    _print({"ready": _api(url, api_key, "GET", "/readyz"), "me": _api(url, api_key, "GET", "/api/v1/me")})


@consents_app.command("add")
def consents_add(subject: str, scope: Annotated[str, typer.Option()], licence: Annotated[str, typer.Option()],
                 expires_at: Annotated[str | None, typer.Option(help="ISO 8601 with zone")] = None,
                 url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Record that SUBJECT consents to being cloned for SCOPE under LICENCE."""
    body = {"subject_name": subject, "consent_given": True, "scope": scope, "licence": licence,
            "expires_at": expires_at}
    _print(_api(url, api_key, "POST", "/api/v1/consents", json=body))


@takes_app.command("add")
def takes_add(file: Path, face_id: Annotated[str, typer.Option()], consent_id: Annotated[str, typer.Option()],
              kind: Annotated[str, typer.Option(help="video, audio, or image (a render background)")] = "video",
              mic_profile: Annotated[str | None, typer.Option()] = None,
              normalize: Annotated[bool, typer.Option(help="convert other audio rates / stereo")] = False,
              resume: Annotated[str | None, typer.Option(help="upload id printed by an interrupted run")] = None,
              url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Upload FILE as a take in resumable chunks; it is validated against the capture spec on arrival."""
    if not file.is_file():
        err.print(f"[red]error[/red] no such file: {file}")
        raise typer.Exit(2)
    client = _client(url, api_key)
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    upload_id = resume
    try:
        upload_id = upload_id or client.open_upload(file)["id"]
        with Progress(*columns, console=err) as progress:
            bar = progress.add_task(f"uploading {file.name}", total=file.stat().st_size)
            client.send_missing(file, upload_id, lambda n: progress.advance(bar, n))
        with err.status("validating the take ..."):
            take = client.request("POST", "/api/v1/takes", json={
                "upload_id": upload_id, "kind": kind, "face_id": face_id, "consent_id": consent_id,
                "mic_profile": mic_profile, "normalize": normalize})
        _print(take)
    except httpx.TransportError as e:
        if not upload_id:
            _unreachable(url, e)
        err.print(f"[red]error[/red] the connection failed ({e}); resume with --resume {upload_id}")
        raise typer.Exit(1) from e
    except LiveTalkingError as e:
        _fail(e)


@takes_app.command("list")
def takes_list(url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """The tenant's takes."""
    rows = _api(url, api_key, "GET", "/api/v1/takes")
    _table(rows, ["id", "face_id", "kind", "duration_s", "fps", "sample_rate", "created_at"])


def _table(rows: list[dict], columns: list[str]) -> None:
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


@models_app.command("list")
def models_list(kind: str | None = None, status_: Annotated[str | None, typer.Option("--status")] = None,
                backbone: str | None = None, limit: int = 50, offset: int = 0,
                url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Model versions of the tenant."""
    params = {k: v for k, v in {"kind": kind, "status": status_, "backbone": backbone, "limit": limit,
                                "offset": offset}.items() if v is not None}
    page = _api(url, api_key, "GET", "/api/v1/models", params=params)
    _table(page["items"], ["id", "name", "version", "kind", "backbone", "status", "formats"])
    console.print(f"{len(page['items'])} of {page['total']}")


@models_app.command("show")
def models_show(model_id: uuid.UUID, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """One model version."""
    _print(_api(url, api_key, "GET", f"/api/v1/models/{model_id}"))


@models_app.command("register")
def models_register(card: Path, pt: Path | None = None, torchscript: Path | None = None, onnx: Path | None = None,
                    url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Register a version from a model card JSON file and its artifact files."""
    files = {name: path for name, path in (("pt", pt), ("torchscript", torchscript), ("onnx", onnx)) if path}
    try:
        card_text = json.dumps(json.loads(card.read_text()))
        _print(_client(url, api_key).upload("/api/v1/models/register", files, {"card": card_text}))
    except (OSError, ValueError) as e:
        err.print(f"[red]error[/red] cannot read the card {card}: {e}")
        raise typer.Exit(2) from e
    except LiveTalkingError as e:
        _fail(e)


def _model_action(method: str, suffix: str):
    def command(model_id: uuid.UUID, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
        result = _api(url, api_key, method, f"/api/v1/models/{model_id}{suffix}")
        _print(result if result is not None else {"deleted": str(model_id)})

    return command


models_app.command("delete", help="Delete a version that is not active (admin).")(_model_action("DELETE", ""))
models_app.command("promote", help="Make a version the active one.")(_model_action("POST", ":promote"))
models_app.command("rollback", help="Return to the version the active one replaced.")(
    _model_action("POST", ":rollback"))


@models_app.command("evaluate")
def models_evaluate(model_id: uuid.UUID,
                    wait: Annotated[bool, typer.Option(help="follow the task with a progress bar")] = True,
                    url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Evaluate an avatar version again with the current gate; a failing active version is rolled back."""
    task = _api(url, api_key, "POST", f"/api/v1/models/{model_id}:evaluate")
    err.print(f"model {model_id}: evaluation task {task['id']}")
    _result_or_task(url, api_key, task, wait)


@tasks_app.command("list")
def tasks_list(state: str | None = None, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """The tenant's tasks."""
    rows = _api(url, api_key, "GET", "/api/v1/tasks", params={"state": state} if state else {})
    _table(rows, ["id", "type", "state", "priority", "progress", "attempts", "message"])


def _task_action(suffix: str):
    def command(task_id: uuid.UUID, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
        _print(_api(url, api_key, "POST", f"/api/v1/tasks/{task_id}{suffix}"))

    return command


tasks_app.command("cancel", help="Cancel a queued or running task.")(_task_action(":cancel"))
tasks_app.command("retry", help="Queue a failed, cancelled or interrupted task again.")(_task_action(":retry"))


@keys_app.command("create")
def keys_create(name: str, role: Annotated[str, typer.Option(help="viewer, operator or admin")] = "viewer",
                url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Create a key in your tenant (admin); the token is printed once."""
    _print(_api(url, api_key, "POST", "/api/v1/keys", json={"name": name, "role": role}))


@keys_app.command("revoke")
def keys_revoke(key_id: uuid.UUID, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Revoke a key of your tenant (admin)."""
    _print(_api(url, api_key, "DELETE", f"/api/v1/keys/{key_id}"))


@avatars_app.command("prepare")
def avatars_prepare(take_id: uuid.UUID, name: Annotated[str | None, typer.Option(help="display name")] = None,
                    wait: Annotated[bool, typer.Option(help="follow the task with a progress bar")] = True,
                    url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Create an avatar from a validated video take and prepare it (key, mattes, tracks, crops, audio)."""
    take = _api(url, api_key, "GET", f"/api/v1/takes/{take_id}")
    avatar = _api(url, api_key, "POST", "/api/v1/avatars",
                  json={"display_name": name or take["face_id"], "take_ids": [str(take_id)]})
    err.print(f"avatar {avatar['id']}: preparation task {avatar['task_id']}")
    if wait:
        _follow_task(url, api_key, avatar["task_id"])
    _print(_api(url, api_key, "GET", f"/api/v1/avatars/{avatar['id']}"))


@avatars_app.command("train")
def avatars_train(avatar_id: uuid.UUID,
                  preset: Annotated[str | None, typer.Option(help="preview (160 px, CPU) or quality (256 px)")] = None,
                  epochs: Annotated[int | None, typer.Option(help="epochs (default: the preset's)")] = None,
                  tune: Annotated[int, typer.Option(help="Ray Tune (ASHA) trials over the learning rate and loss "
                                                         "weights first (0: none)")] = 0,
                  wait: Annotated[bool, typer.Option(help="follow the task with a progress bar")] = True,
                  url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Train the avatar's lip-sync model from its prepared takes; the new version is evaluated and gated."""
    body = {k: v for k, v in {"preset": preset, "epochs": epochs, "tune": tune or None}.items() if v is not None}
    task = _api(url, api_key, "POST", f"/api/v1/avatars/{avatar_id}:train", json=body)
    err.print(f"avatar {avatar_id}: training task {task['id']}")
    _result_or_task(url, api_key, task, wait)


@avatars_app.command("train-job")
def avatars_train_job(avatar_id: uuid.UUID,
                      tenant: Annotated[uuid.UUID, typer.Option(help="the avatar's tenant id")],
                      preset: Annotated[str | None, typer.Option(help="preview or quality")] = None,
                      epochs: Annotated[int | None, typer.Option(help="epochs (default: the preset's)")] = None,
                      tune: Annotated[int, typer.Option(help="Ray Tune (ASHA) trials first (0: none)")] = 0) -> None:
    """Train inside a Ray job on the cluster it runs in (scripts/train_avatar.sh submits it; needs the metadata
    database and the artifact store of the platform, from the LT_* settings); prints the finished task."""
    import ray

    from livetalking.platform.avatar_prep import TrainRequest
    from livetalking.platform.tables import TaskState
    from livetalking.train_jobs.cluster_job import run_training_job

    settings = Settings()
    settings = settings.model_copy(update={"data_root": settings.data_root.resolve(),
                                           "models_root": settings.models_root.resolve()})
    ray.init(address="auto")
    request = TrainRequest(preset=preset, epochs=epochs, tune=tune or None)
    try:
        task = run_training_job(settings, tenant, avatar_id, request,
                                f"ray-job-{ray.get_runtime_context().get_job_id()}")
    except LiveTalkingError as e:
        _fail(e)
    _print({"task_id": str(task.id), "state": task.state.value, "error": task.error, "result": task.result})
    if task.state is not TaskState.succeeded:
        raise typer.Exit(1)


@app.command("render")
def render(avatar_id: uuid.UUID,
           output: Annotated[Path, typer.Option("-o", "--output", help="the video to write (.mp4, or .webm)")],
           audio_take: Annotated[uuid.UUID | None, typer.Option(help="an audio take to say")] = None,
           text: Annotated[str | None, typer.Option(help="text to say in --voice")] = None,
           voice: Annotated[uuid.UUID | None, typer.Option(help="the voice that says --text")] = None,
           background: Annotated[str, typer.Option(help="#RRGGBB, or transparent (WebM with alpha)")] = "#00b140",
           background_take: Annotated[uuid.UUID | None, typer.Option(
               help="an image take to render over (MP4), scaled to cover the frame")] = None,
           version: Annotated[str | None, typer.Option(help="an avatar version (v2) or model id")] = None,
           url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Render the avatar saying an audio take (--audio-take) or a text in a voice (--text, --voice)."""
    body = {"avatar_id": str(avatar_id), "background": background, "version": version,
            "audio_take_id": str(audio_take) if audio_take else None, "text": text,
            "voice_id": str(voice) if voice else None,
            "background_take_id": str(background_take) if background_take else None}
    created = _api(url, api_key, "POST", "/api/v1/renders", json={k: v for k, v in body.items() if v is not None})
    err.print(f"render {created['id']}")
    result = _follow_task(url, api_key, created["id"])["result"]
    _save(url, api_key, "GET", f"/api/v1/renders/{created['id']}/video", output)
    err.print(f"wrote {output} ({result['frames']} frames at {result['fps']:g} fps, {result['duration_s']:.1f} s, "
              f"avatar version {result['version']})")


@avatars_app.command("show")
def avatars_show(avatar_id: uuid.UUID, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """State, quality reports and preview URL of an avatar."""
    _print(_api(url, api_key, "GET", f"/api/v1/avatars/{avatar_id}"))


def _transcripts(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        take_id, sep, text = pair.partition("=")
        if not sep or not text.strip():
            err.print(f"[red]error[/red] --transcript wants TAKE_ID=TEXT, got {pair!r}")
            raise typer.Exit(2)
        found[take_id.strip()] = text.strip()
    return found


@voices_app.command("clone")
def voices_clone(take_ids: list[uuid.UUID],
                 name: Annotated[str | None, typer.Option(help="display name of a new voice")] = None,
                 voice: Annotated[uuid.UUID | None, typer.Option(help="clone this voice again, adding the takes")]
                 = None,
                 engine: Annotated[str, typer.Option(help="offline or xtts")] = "offline",
                 language: Annotated[str, typer.Option()] = "en",
                 transcript: Annotated[list[str] | None, typer.Option(help="TAKE_ID=TEXT, what is said in a take "
                                                                    "(else whisper transcribes it)")] = None,
                 fine_tune: Annotated[bool, typer.Option(help="xtts: fine-tune its GPT on the takes (GPU)")] = False,
                 wait: Annotated[bool, typer.Option(help="follow the task with a progress bar")] = True,
                 url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Clone a voice from audio takes (a new voice, or --voice to update one from its active version)."""
    options = {"engine": engine, "language": language, "transcripts": _transcripts(transcript or []),
               "fine_tune": fine_tune}
    ids = [str(t) for t in take_ids]
    if voice is None:
        created = _api(url, api_key, "POST", "/api/v1/voices",
                       json={"display_name": name or "voice", "take_ids": ids, **options})
        voice_id, task_id = created["id"], created["task_id"]
    else:
        voice_id = str(voice)
        task_id = _api(url, api_key, "POST", f"/api/v1/voices/{voice_id}:clone",
                       json={"take_ids": ids, **options})["id"]
    err.print(f"voice {voice_id}: cloning task {task_id}")
    if wait:
        _follow_task(url, api_key, task_id)
    _print(_api(url, api_key, "GET", f"/api/v1/voices/{voice_id}"))


@voices_app.command("preview")
def voices_preview(voice_id: uuid.UUID, text: str,
                   output: Annotated[Path, typer.Option("-o", "--output", help="WAV file to write")],
                   version: Annotated[str | None, typer.Option(help="a version (v2) or model id")] = None,
                   stream: Annotated[bool, typer.Option(help="receive 20 ms chunks as they are made")] = False,
                   url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """Speak TEXT in the voice and write it to a WAV file."""
    body = {"text": text, "version": version, "stream": stream}
    headers = _save(url, api_key, "POST", f"/api/v1/voices/{voice_id}:preview", output, json=body)
    err.print(f"wrote {output} ({output.stat().st_size} bytes, version {headers.get('x-voice-version')}, "
              f"{headers.get('x-sample-rate')} Hz)")


@voices_app.command("show")
def voices_show(voice_id: uuid.UUID, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = "") -> None:
    """State, cloning task, engine and metrics of a voice."""
    _print(_api(url, api_key, "GET", f"/api/v1/voices/{voice_id}"))


def _follow_task(url: str, api_key: str, task_id: str) -> dict:
    """Poll a task until it ends, with a progress bar; returns its last state."""
    columns = ("[progress.description]{task.description}", BarColumn(), "{task.percentage:>3.0f}%")
    with Progress(*columns, console=err) as progress:
        bar = progress.add_task("queued", total=1.0)
        while True:
            task = _api(url, api_key, "GET", f"/api/v1/tasks/{task_id}")
            progress.update(bar, completed=task["progress"], description=task["message"] or task["state"])
            if task["state"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(1.0)
    if task["state"] != "succeeded":
        err.print(f"[red]task {task['state']}[/red] {task.get('error_code') or ''}: {task.get('error') or ''}")
        raise typer.Exit(1)
    return task


def _result_or_task(url: str, api_key: str, task: dict, wait: bool) -> None:
    """Follow a queued task and print its result, or print the task as queued."""
    _print(_follow_task(url, api_key, task["id"]).get("result") if wait else task)


@tenants_app.command("create")
def tenants_create(name: str) -> None:
    """Create a tenant and print its first admin key (needs access to the metadata database)."""
    from livetalking.platform.auth import create_key, ensure_tenant
    from livetalking.platform.db import make_engine, migrate, session_scope
    from livetalking.platform.tables import Role

    engine = make_engine(Settings().effective_database_url)
    migrate(engine)
    with session_scope(engine) as session:
        tenant = ensure_tenant(session, name)
        _, token = create_key(session, tenant.id, Role.admin, f"{name} admin")
    console.print(f"tenant {name} ({tenant.id}); admin key (shown once):")
    console.print(token, soft_wrap=True)


if __name__ == "__main__":
    app()
