"""A posted pack folder, as the registry stores it.

``POST /v1/validate`` and ``POST /v1/packs`` take a pack as one YAML document, as a stream of
YAML documents each headed by ``# file: NAME`` (the files of a folder: the shape a download
with ``Accept: application/yaml`` has), or as a zip archive of the folder
(``Content-Type: application/zip``). The registry stores a folder's files as their canonical
stream (:func:`engine.api.join_stream`: name order, one header each), so the same files give
the same content hash however they were posted, and as a folder (``kpi validate``).

Only the archive is read here, under the engine's caps (:func:`engine.api.read_archive`); the
YAML is parsed in a worker like any posted pack. A stream whose headers are refused is left as
it is: the worker reports the same problems, at their lines.
"""

from __future__ import annotations

from engine.api import Problem, join_stream, read_archive, stream_files

ZIP_MEDIA = "application/zip"


def stored_text(body: bytes, is_zip: bool, limit: int) -> tuple[bytes, list[Problem]]:
    """What the registry stores for a posted body, or the problems that refuse an archive
    (whose files may inflate to ``limit`` bytes at most)."""
    if is_zip:
        files, problems = read_archive(body, "<archive>", limit)
        if problems:
            return b"", problems
        return join_stream(files).encode("utf-8"), []
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body, []  # the worker says where
    if "# file:" not in text:
        return body, []  # one document: stored exactly as sent
    files = stream_files(text)
    if len(files) == 1 and files[0][1] == text:
        return body, []
    return join_stream(files).encode("utf-8"), []
