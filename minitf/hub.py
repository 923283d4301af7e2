"""Resolve a model name to a local folder in the Hugging Face layout.

`name_or_path` is either a folder (``config.json``, ``model.safetensors``, tokenizer files)
or a Hub id such as ``gpt2``. A Hub id is looked up in the local Hugging Face cache first
(``~/.cache/huggingface/hub/models--gpt2/snapshots/<rev>/``), then downloaded with
``huggingface_hub`` when that optional extra is installed and the network is there.

    >>> resolve("weights/tiny-gpt2")
    PosixPath('weights/tiny-gpt2')
    >>> resolve("weights/tiny-gpt3")   # a typo: 'weights' is a local folder  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    OSError: 'weights/tiny-gpt3' is not an existing folder: 'weights' has no 'tiny-gpt3'; did you mean 'weights/tiny-gpt2' ...

A Hub id that is neither cached nor downloadable (offline) is an OSError that names the id,
says how to get the files and, given the pipeline's `task`, names the offline checkpoint
``minitf tour`` uses for that task (``weights/tiny-gpt2`` for text-generation).
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

# What a folder needs to be useful; only the files that exist are fetched from the Hub.
HUB_FILES = (
    "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
    "merges.txt", "vocab.txt", "preprocessor_config.json",
)


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache folder, honouring the same environment variables as huggingface_hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        return Path(os.environ["HUGGINGFACE_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface")
    return Path(home) / "hub"


def cached_snapshot(repo_id: str) -> Path | None:
    """The newest cached snapshot folder of `repo_id` that has a config.json, or None."""
    repo_dir = hf_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        snap = repo_dir / "snapshots" / ref.read_text().strip()
        if (snap / "config.json").is_file() or (snap / "tokenizer.json").is_file():
            return snap
    snaps = sorted((repo_dir / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime, reverse=True) \
        if (repo_dir / "snapshots").is_dir() else []
    for snap in snaps:
        if (snap / "config.json").is_file() or (snap / "tokenizer.json").is_file():
            return snap
    return None


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return 1 <= len(parts) <= 2 and all(parts) and not name.startswith((".", "~"))


def resolve(name_or_path: str | os.PathLike, task: str | None = None) -> Path:
    """Return a local folder for `name_or_path`: the folder itself, a cached snapshot, or a download.

    Raises a clear OSError (never hangs) when the id is neither local, cached nor downloadable.
    A path whose first part is a local folder (``weights/tiny-gpt3``) is a typo, not a Hub id:
    the error names the missing part and the closest folders there. `task` (a pipeline's)
    lets the "not cached" error name the offline model the tour uses for it.
    """
    path = Path(os.fspath(name_or_path)).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise OSError(f"{name_or_path!r} is a file; pass the folder that holds config.json and the weights")
    name = os.fspath(name_or_path)
    hub_like = _looks_like_hub_id(name)
    local_start = path.is_absolute() or name.startswith((".", "~")) or \
        (len(path.parts) > 1 and Path(path.parts[0]).is_dir())
    if hub_like and local_start:  # "owner/name" where ./owner exists: the cache may still have it
        snap = cached_snapshot(name)
        if snap is not None:
            return snap
    if local_start or not hub_like:
        raise OSError(missing_folder_message(path, name))
    snap = cached_snapshot(name)
    if snap is not None:
        return snap
    return _download(name, task)


def missing_folder_message(path: Path, shown: str | None = None) -> str:
    """Which part of a local path does not exist, and the closest names next to it."""
    parent = path
    while not parent.is_dir() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        parent = Path(".")
    missing = path.relative_to(parent).parts[0] if path.is_relative_to(parent) else path.name
    where = "the current folder" if parent == Path(".") else f"{str(parent)!r}"
    folders = sorted(p.name for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))
    close = difflib.get_close_matches(missing, folders, n=3, cutoff=0.6)
    hint = (f"did you mean {' or '.join(repr(str(parent / c)) for c in close)}?" if close else
            f"the folders there are {folders[:12]}" if folders else "it has no folders")
    return (f"{shown or str(path)!r} is not an existing folder: {where} has no {missing!r}; {hint} "
            f"(give a local folder in the Hugging Face layout, or a Hub id such as 'gpt2')")


def offline_hint(task: str | None) -> str:
    """' For <task>, the offline tour uses <folder>: ...' when minitf has an offline model for it."""
    if not task:
        return ""
    from .pipelines import offline_model

    folder = offline_model(task)
    if folder is None:
        return ""
    return (f" For {task} without the Hub, `minitf tour` uses the offline checkpoint {folder}: "
            f"pipeline({task!r}, model={folder!r}).")


def _download(repo_id: str, task: str | None = None) -> Path:
    how = (f"Download it where the network is there (pip install 'minitf[hub]' and run "
           f"`huggingface-cli download {repo_id}`), or pass a local folder with config.json, "
           f"model.safetensors and the tokenizer files.{offline_hint(task)}")
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        raise OSError(f"{repo_id!r} is not a local folder and is not in the Hugging Face cache "
                      f"({hf_cache_dir()}), and HF_HUB_OFFLINE is set. {how}")
    try:
        import huggingface_hub
    except ImportError:
        raise OSError(f"{repo_id!r} is not a local folder and is not in the Hugging Face cache "
                      f"({hf_cache_dir()}); huggingface_hub (the 'hub' extra) is not installed "
                      f"to download it. {how}") from None
    # Short timeouts and no retries so an offline machine answers at once instead of hanging.
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "30")
    try:
        folder = huggingface_hub.snapshot_download(repo_id, allow_patterns=list(HUB_FILES))
    except Exception as err:  # network errors come in many types; all mean "could not fetch"
        raise OSError(f"{repo_id!r} is not a local folder, not in the Hugging Face cache "
                      f"({hf_cache_dir()}), and could not be downloaded ({type(err).__name__}: "
                      f"{str(err).splitlines()[0] if str(err) else ''}). {how}") from None
    return Path(folder)
