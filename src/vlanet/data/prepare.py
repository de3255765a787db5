"""Convert the official annotation files into ground-truth JSONL (moment_detr format).

* Charades-STA: ``VID START END##sentence`` lines + durations from ``Charades_v1_*.csv``
  (column ``length``).  ``qid`` is the 0-based line number, stable across runs.
  End policy for ends past the duration: ``clip`` (default, 2D-TAN; keeps all 3,720 test
  queries), ``drop`` (SCN/CNM/CPL lineage) or ``keep`` (raw, TALL/TGA).  Lines with
  start >= end (4 in train) are dropped under every policy.
* DiDeMo: ``{val,test}_data.json``.  ``qid`` = ``annotation_id``; windows are the annotators'
  chunk pairs mapped to seconds [5s, 5(e+1)]; the pairs themselves are kept as ``didemo_times``;
  ``duration`` = 5 * num_segments (the true length is not in the file).
* ActivityNet Captions (2D-TAN layout): ``{vid: {duration, timestamps, sentences}}``; ends are
  clipped to the duration, reversed/empty moments dropped.
* Charades-CD (Yuan et al. 2021): ``{vid: {video_duration, timestamps, sentences, ...}}``, one
  file per split (train, val, test_iid, test_ood); the same end policies as Charades-STA.
  ``qid`` is ``<vid>#<i>``, the i-th sentence of the video (stable, unique across the splits).

Malformed lines are InputErrors naming file and line; the official files' own flaws are
counted and reported once, never fatal.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from vlanet.data.annotations import Query
from vlanet.utils.errors import InputError
from vlanet.utils.readers import read_json, read_text, require


@dataclass
class PrepareReport:
    queries: int = 0
    videos: int = 0
    clipped: int = 0
    dropped_past_end: int = 0
    dropped_reversed: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.queries} queries on {self.videos} videos; clipped {self.clipped} ends, dropped "
                f"{self.dropped_past_end} past the end and {self.dropped_reversed} with start >= end")


def _read_text(path: str | Path) -> str:
    return read_text(path)  # a UTF-8 byte-order mark is not part of the data


def read_charades_durations(path: str | Path) -> dict[str, float]:
    p = Path(path)
    rows = list(csv.reader(_read_text(p).splitlines()))
    if not rows or "id" not in rows[0] or "length" not in rows[0]:
        raise InputError(f"{p}:1: expected a Charades CSV header with columns 'id' and 'length'")
    i_id, i_len = rows[0].index("id"), rows[0].index("length")
    out = {}
    for n, row in enumerate(rows[1:], 2):
        if len(row) <= max(i_id, i_len):
            raise InputError(f"{p}:{n}: too few columns")
        try:
            length = float(row[i_len])
        except ValueError:
            raise InputError(f"{p}:{n}: field 'length' is not a number: {row[i_len][:40]!r}") from None
        if not (math.isfinite(length) and length > 0):
            raise InputError(f"{p}:{n}: field 'length' must be a finite number > 0, got {row[i_len][:40]!r}")
        out[row[i_id]] = length
    return out


def _end_policy(start: float, end: float, dur: float, policy: str, rep: PrepareReport) -> list[float] | None:
    """The moment after the end policy, or None when it is dropped (counted in ``rep``)."""
    if start >= end:
        rep.dropped_reversed += 1
        return None
    if end > dur:
        if policy == "drop" or (policy == "clip" and start >= dur):
            rep.dropped_past_end += 1
            return None
        if policy == "clip":
            end = dur
            rep.clipped += 1
    return [start, end]


def _check_policy(end_policy: str) -> None:
    if end_policy not in ("clip", "drop", "keep"):
        raise InputError(f"--end-policy must be clip, drop or keep, got {end_policy!r}")


def prepare_charades(anno: str | Path, durations: dict[str, float], end_policy: str = "clip",
                     anno_name: str | None = None) -> tuple[list[Query], PrepareReport]:
    _check_policy(end_policy)
    p = Path(anno)
    rep = PrepareReport()
    out: list[Query] = []
    lines = _read_text(p).splitlines()
    if not any(x.strip() for x in lines):
        raise InputError(f"{p}: empty file")
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        head, sep, sentence = line.partition("##")
        parts = head.split()
        if not sep or len(parts) != 3 or not sentence.strip():
            raise InputError(f"{p}:{n}: expected 'VIDEOID START END##sentence', got {line[:60]!r}")
        vid = parts[0]
        try:
            start, end = float(parts[1]), float(parts[2])
        except ValueError:
            raise InputError(f"{p}:{n}: START/END are not numbers: {parts[1]!r} {parts[2]!r}") from None
        if not (math.isfinite(start) and math.isfinite(end)):
            raise InputError(f"{p}:{n}: START/END must be finite")
        if vid not in durations:
            raise InputError(f"{p}:{n}: video id '{vid}' has no duration in the Charades CSV")
        dur = durations[vid]
        window = _end_policy(start, end, dur, end_policy, rep)
        if window is not None:
            out.append(Query(n - 1, vid, sentence.strip(), dur, [window]))
    rep.queries, rep.videos = len(out), len({q.vid for q in out})
    if not out:
        raise InputError(f"{p}: every line was dropped (start >= end or past the end); nothing to write")
    return out, rep


def _load_json(p: Path):
    return read_json(p)


def didemo_window(s: int, e: int) -> list[float]:
    """Chunk pair (s, e), inclusive, -> seconds [5s, 5(e+1)]."""
    return [5.0 * s, 5.0 * (e + 1)]


def prepare_didemo(anno: str | Path) -> tuple[list[Query], PrepareReport]:
    p = Path(anno)
    data = _load_json(p)
    if not isinstance(data, list) or not data:
        raise InputError(f"{p}: expected a non-empty JSON list of annotations")
    out, seen = [], set()
    for n, a in enumerate(data):
        where = f"{p}: entry {n}"
        if not isinstance(a, dict):
            raise InputError(f"{where}: expected an object")
        require(a, where, annotation_id=(int, str), description=str, video=str, times=list, num_segments=int)
        if not a["description"].strip() or not a["video"]:
            raise InputError(f"{where}: fields 'description' and 'video' must be non-empty strings")
        ns = a["num_segments"]
        if not 1 <= ns <= 6:
            raise InputError(f"{where}: field 'num_segments' must be 1..6, got {ns!r}")
        times = a["times"]
        if not isinstance(times, list) or not times or not all(
                isinstance(t, list) and len(t) == 2 and all(isinstance(x, int) for x in t) and 0 <= t[0] <= t[1] <= 5
                for t in times):
            raise InputError(f"{where}: field 'times' must be a list of [s, e] chunk pairs with 0 <= s <= e <= 5")
        if a["annotation_id"] in seen:
            raise InputError(f"{where}: duplicate annotation_id {a['annotation_id']!r}")
        seen.add(a["annotation_id"])
        out.append(Query(a["annotation_id"], a["video"], a["description"], 5.0 * ns,
                         [didemo_window(s, e) for s, e in times], {"didemo_times": times}))
    rep = PrepareReport(queries=len(out), videos=len({q.vid for q in out}))
    return out, rep


def prepare_activitynet(anno: str | Path) -> tuple[list[Query], PrepareReport]:
    """``qid`` is the sentence's 0-based position in the file (dropped ones counted)."""
    return _prepare_timestamped(anno, "duration", "clip", lambda vid, i, n: n)


def prepare_charades_cd(anno: str | Path, end_policy: str = "clip") -> tuple[list[Query], PrepareReport]:
    """``qid`` is ``<vid>#<i>``, the i-th sentence of the video."""
    return _prepare_timestamped(anno, "video_duration", end_policy, lambda vid, i, n: f"{vid}#{i}")


def _finite(v, where: str, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise InputError(f"{where}: field '{name}' must be a finite number, got {v!r}")
    return float(v)


def _prepare_timestamped(anno: str | Path, duration_key: str, end_policy: str, qid_of
                         ) -> tuple[list[Query], PrepareReport]:
    """``{vid: {<duration_key>, timestamps, sentences}}`` files (ActivityNet Captions, Charades-CD)."""
    _check_policy(end_policy)
    p = Path(anno)
    data = _load_json(p)
    fields_ = (duration_key, "timestamps", "sentences")
    if not isinstance(data, dict) or not data:
        raise InputError(f"{p}: expected a JSON object {{video_id: {{{', '.join(fields_)}}}}}")
    out: list[Query] = []
    rep = PrepareReport()
    n = 0
    for vid, v in data.items():
        where = f"{p}: video '{vid}'"
        if not isinstance(v, dict) or not all(k in v for k in fields_):
            raise InputError(f"{where}: expected fields {', '.join(fields_)}")
        dur = _finite(v[duration_key], where, duration_key)
        if dur <= 0:
            raise InputError(f"{where}: field '{duration_key}' must be > 0, got {dur}")
        stamps, sents = v["timestamps"], v["sentences"]
        if not isinstance(stamps, list) or not isinstance(sents, list) or len(stamps) != len(sents):
            raise InputError(f"{where}: fields 'timestamps' and 'sentences' must be lists of the same length "
                             f"(got {len(stamps) if isinstance(stamps, list) else type(stamps).__name__} and "
                             f"{len(sents) if isinstance(sents, list) else type(sents).__name__})")
        for i, (ts, sent) in enumerate(zip(stamps, sents)):
            if not isinstance(ts, list) or len(ts) != 2:
                raise InputError(f"{where}: timestamps[{i}] must be [start, end]")
            if not isinstance(sent, str) or not sent.strip():
                raise InputError(f"{where}: sentences[{i}] must be a non-empty string")
            start, end = (_finite(x, where, f"timestamps[{i}]") for x in ts)
            window = _end_policy(start, end, dur, end_policy, rep)
            if window is not None:
                out.append(Query(qid_of(vid, i, n), str(vid), sent.strip(), dur, [window]))
            n += 1
    rep.queries, rep.videos = len(out), len({q.vid for q in out})
    if not out:
        raise InputError(f"{p}: every moment was dropped; nothing to write")
    return out, rep
