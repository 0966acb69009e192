"""Issue 17 §7: the README's "For frontend teams" section compiles. Its TypeScript blocks (codegen config,
Apollo Client setup, operations) go through GraphQL Code Generator against the committed `schema.graphql`
and then `tsc --strict`, with the packages pinned in `clients/typescript/` (node and npm are on every
machine this project runs on; the packages are installed once per lock file and reused)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.whole_app

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "clients" / "typescript"
SECTION = re.compile(r"^## For frontend teams\n(.*?)^## ", re.S | re.M)
BLOCK = re.compile(r"^```ts\n// (\S+)\n(.*?)^```", re.S | re.M)


def readme_files() -> dict[str, str]:
    """The section's TypeScript blocks, by the file each names on its first line."""
    section = SECTION.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert section, "README has no 'For frontend teams' section"
    return {name: f"// {name}\n{body}" for name, body in BLOCK.findall(section.group(1))}


def node_modules() -> Path:
    """The pinned packages, installed once per lock file under the user's cache (a lock guards two runs)."""
    lock = (CLIENT / "package-lock.json").read_bytes()
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "baoxue"
    target = home / f"typescript-{hashlib.sha256(lock).hexdigest()[:16]}"
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (target / "node_modules" / ".bin" / "graphql-codegen").exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(CLIENT / name, target / name)
            run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], target)
    return target / "node_modules"


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def test_the_readme_codegen_config_is_the_committed_one():
    assert readme_files()["codegen.ts"] == (CLIENT / "codegen.ts").read_text(encoding="utf-8")


def workspace(path: Path, files: dict[str, str]) -> Path:
    """A client project as a team would have it: the pinned packages, the schema and these files."""
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    for name in ("package.json", "tsconfig.json"):
        shutil.copy(CLIENT / name, path / name)
    shutil.copy(ROOT / "schema.graphql", path / "schema.graphql")
    (path / "node_modules").symlink_to(node_modules())
    return path / "node_modules" / ".bin"


def test_the_readme_operations_generate_and_compile_strictly(tmp_path):
    files = readme_files()
    assert {"codegen.ts", "src/client.ts", "src/operations.ts"} <= set(files)
    bin_dir = workspace(tmp_path, files)
    run([str(bin_dir / "graphql-codegen"), "--config", "codegen.ts"], tmp_path)
    assert (tmp_path / "src" / "gql" / "graphql.ts").exists()
    run([str(bin_dir / "tsc"), "-p", "tsconfig.json", "--strict"], tmp_path)


def test_a_wrong_field_in_an_operation_fails_the_check(tmp_path):
    """The check can fail: an operation asking for a field the schema lacks stops codegen."""
    files = readme_files()
    broken = files["src/operations.ts"].replace("totalCount", "totalCount noSuchField", 1)
    assert broken != files["src/operations.ts"]
    bin_dir = workspace(tmp_path, {**files, "src/operations.ts": broken})
    command = [str(bin_dir / "graphql-codegen"), "--config", "codegen.ts"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    assert done.returncode != 0
    assert "noSuchField" in done.stdout + done.stderr
