"""Build `guardrail-sandbox:local` with no container registry.

Why: the default image is pulled from a registry, which offline users, CI
and tests may not reach. This builds a small Debian root file system with
`debootstrap` (Python, git, a shell, coreutils, curl) from the Debian
mirror, trims what a sandbox never reads (docs, man pages, locales, apt
lists), strips setuid bits (defence in depth beside no-new-privileges) and
`docker import`s it.

Caching, under `cache_dir()`: the trimmed root file system is kept as a
tarball named after the recipe, so a rebuild is an import of a few
seconds; debootstrap's downloaded packages are kept too, so a changed
recipe does not download everything again. The image carries the recipe's
hash as a label, so `ensure_image` knows when the present one is current.

Run as `guardrail sandbox build-image` or `python -m guardrail.sandbox.image`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from guardrail.errors import SandboxError
from guardrail.sandbox.config import LOCAL_IMAGE

DEFAULT_MIRROR = "http://deb.debian.org/debian"
RECIPE_LABEL = "io.guardrail.image-recipe"
TRIM = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "var/cache/apt",
    "var/lib/apt/lists",
    "var/log",
    # git's optional Perl commands (send-email, svn) and iconv's legacy
    # charsets: about 55 MB that a sandboxed agent does not need.
    "usr/share/perl",
    "usr/lib/*/perl",
    "usr/lib/*/gconv",
)


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the image's content; its hash names the cache."""

    suite: str = "bookworm"
    mirror: str = DEFAULT_MIRROR
    packages: tuple[str, ...] = ("python3", "git", "curl", "ca-certificates")
    exclude: tuple[str, ...] = ("e2fsprogs",)
    revision: int = 2  # bump when the trimming or the import changes

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    """GUARDRAIL_CACHE_DIR, else $XDG_CACHE_HOME/guardrail, else ~/.cache/guardrail."""
    explicit = os.environ.get("GUARDRAIL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "guardrail"


def _log(message: str) -> None:
    sys.stderr.write(f"guardrail: {message}\n")
    sys.stderr.flush()


def rootfs_tarball(recipe: Recipe, cache: Path, *, force: bool = False) -> Path:
    """The trimmed root file system as a tar, built by debootstrap unless cached."""
    tarball = cache / f"rootfs-{recipe.key()}.tar"
    if tarball.exists() and not force:
        _log(f"using the cached root file system {tarball}")
        return tarball
    debootstrap = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists() else None
    )
    if debootstrap is None:
        raise SandboxError("debootstrap is missing: apt-get install debootstrap")
    if os.geteuid() != 0:
        raise SandboxError("building the image needs root (debootstrap): run it with sudo")
    cache.mkdir(parents=True, exist_ok=True)
    debs = cache / "debs"
    debs.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=cache) as tmp:
        root = Path(tmp) / "root"
        _log(f"debootstrap {recipe.suite} from {recipe.mirror} (takes a minute the first time)")
        _run(
            [
                debootstrap,
                "--variant=minbase",
                f"--include={','.join(recipe.packages)}",
                f"--exclude={','.join(recipe.exclude)}",
                f"--cache-dir={debs}",
                recipe.suite,
                str(root),
                recipe.mirror,
            ]
        )
        _trim(root)
        partial = tarball.with_suffix(".tar.partial")
        _run(
            [
                *("tar", "-C", str(root), "--numeric-owner", "-cf", str(partial)),
                *("--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./dev/*", "."),
            ]
        )
        partial.replace(tarball)
    for old in cache.glob("rootfs-*.tar"):
        if old != tarball:  # another recipe's: only the current one is worth its disk
            old.unlink(missing_ok=True)
    return tarball


def _trim(root: Path) -> None:
    for pattern in TRIM:
        for target in root.glob(pattern):
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
                target.mkdir()
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        mode = path.stat().st_mode
        if mode & 0o6000:
            path.chmod(mode & ~0o6000)


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise SandboxError(f"{Path(argv[0]).name} failed ({proc.returncode}): " + " | ".join(tail))


def _split_tag(tag: str) -> tuple[str, str]:
    name, _, version = tag.rpartition(":")
    if not name or "/" in version:
        return tag, "latest"
    return name, version


def import_image(client: Any, tarball: Path, tag: str, recipe: Recipe) -> str:
    """`docker import` the tarball as `tag`, with a default shell and the recipe label."""
    repository, version = _split_tag(tag)
    changes = [
        'CMD ["/bin/sh"]',
        "ENV LANG=C.UTF-8",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"LABEL {RECIPE_LABEL}={recipe.key()}",
    ]
    client.api.import_image_from_file(
        str(tarball), repository=repository, tag=version, changes=changes
    )
    image = client.images.get(tag)
    return str(image.id)


def current_image(client: Any, tag: str, recipe: Recipe) -> bool:
    import docker.errors

    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return bool(image.labels.get(RECIPE_LABEL) == recipe.key())


def ensure_image(
    client: Any,
    *,
    tag: str = LOCAL_IMAGE,
    recipe: Recipe | None = None,
    force: bool = False,
    cache: Path | None = None,
) -> str:
    """Build (or reuse) the local image; returns its id."""
    recipe = recipe or Recipe()
    if not force and current_image(client, tag, recipe):
        _log(f"{tag} is present and current")
        return str(client.images.get(tag).id)
    tarball = rootfs_tarball(recipe, cache or cache_dir(), force=force)
    _log(f"importing {tarball.name} as {tag}")
    return import_image(client, tarball, tag, recipe)


def main(argv: list[str] | None = None) -> int:
    """`python -m guardrail.sandbox.image`: the same as `guardrail sandbox build-image`."""
    parser = argparse.ArgumentParser(prog="python -m guardrail.sandbox.image")
    parser.add_argument("--tag", default=LOCAL_IMAGE)
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    parser.add_argument(
        "--mirror", default=os.environ.get("GUARDRAIL_DEBIAN_MIRROR", DEFAULT_MIRROR)
    )
    args = parser.parse_args(argv)
    from guardrail.sandbox.docker import docker_client

    try:
        image_id = ensure_image(
            docker_client(), tag=args.tag, recipe=Recipe(mirror=args.mirror), force=args.force
        )
    except SandboxError as exc:
        _log(str(exc))
        return 3
    print(f"{args.tag} {image_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
