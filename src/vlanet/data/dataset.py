"""Datasets and batching: queries + feature store + word vectors + the proposal grid.

Glossary: B queries in a batch, T rows (padded to the longest video), K groups, L scales,
M words, F feature size.  Masks are True = valid everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from vlanet.data.annotations import Query
from vlanet.data.features import FeatureStore, ResidentStore
from vlanet.data.timing import TimeConvention
from vlanet.data.vocab import WordVectors
from vlanet.utils.errors import InputError
from vlanet.utils.spans import proposal_grid


@dataclass
class ProposalSpec:
    """Eq. (2) grid in seconds: stride and window sizes (frames / fps), and the overflow rule."""

    stride_s: float
    windows_s: list[float]
    overflow: str = "clip"
    span_s: float = 0.0  # the grid covers max(duration, span_s) (DiDeMo: 30 s, 21 moments)

    @classmethod
    def from_config(cls, cfg) -> ProposalSpec:
        fps = cfg.data.fps
        return cls(cfg.model.stride_frames / fps, [w / fps for w in cfg.model.window_frames],
                   cfg.model.window_overflow, cfg.model.proposal_span_s)

    def grid(self, duration: float) -> tuple[np.ndarray, np.ndarray]:
        """(K, L, 2) windows in seconds and their (K, L) validity mask for a video."""
        return proposal_grid(max(duration, self.span_s), self.stride_s, self.windows_s, self.overflow)


@dataclass
class VideoInfo:
    n_rows: int
    row_seconds: float
    windows: np.ndarray  # (K, L, 2) seconds
    rows: np.ndarray  # (K, L, 2) the same edges in row coordinates (TimeConvention.to_rows)
    mask: np.ndarray  # (K, L)


@dataclass
class Batch:
    index: list[int]
    feats: torch.Tensor  # (B, T, F)
    row_mask: torch.Tensor  # (B, T)
    windows: torch.Tensor  # (B, K, L, 2) in row coordinates
    win_mask: torch.Tensor  # (B, K, L)
    words: torch.Tensor  # (B, M)
    word_mask: torch.Tensor  # (B, M)
    video_code: torch.Tensor  # (B,) equal codes = same video (never a negative pair)

    def to(self, device: torch.device | str) -> Batch:
        kw = {k: (v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v) for k, v in self.__dict__.items()}
        return Batch(**kw)


@dataclass
class MomentDataset:
    queries: list[Query]
    store: FeatureStore
    words: WordVectors
    time: TimeConvention
    spec: ProposalSpec
    name: str = ""
    token_ids: list[list[int]] = field(default_factory=list)
    oov_tokens: int = 0

    def __post_init__(self) -> None:
        self._videos: dict[str, VideoInfo] = {}
        self._vid_code: dict[str, int] = {}
        self.token_ids = []
        for q in self.queries:
            ids, oov = self.words.encode(q.query)
            if not ids:
                raise InputError(f"{self.name or 'dataset'}: query {q.qid!r} ({q.query!r}) has no word in the vocabulary")
            self.token_ids.append(ids)
            self.oov_tokens += oov
            if q.vid not in self._vid_code:
                if q.vid not in self.store:
                    raise InputError(f"{self.store.path}: video id '{q.vid}' (query {q.qid!r} of {self.name or 'dataset'}) not found in the feature store")
                self._vid_code[q.vid] = len(self._vid_code)

    def __len__(self) -> int:
        return len(self.queries)

    def video(self, i: int) -> VideoInfo:
        """Proposal grid and time base of query i's video (cached per video id)."""
        q = self.queries[i]
        info = self._videos.get(q.vid)
        if info is None:
            n_rows = self.store.n_rows(q.vid)
            win, mask = self.spec.grid(q.duration)
            info = VideoInfo(n_rows, self.time.row_seconds(n_rows, q.duration), win,
                             self.time.to_rows(win, n_rows, q.duration), mask)
            self._videos[q.vid] = info
        return info

    def collate(self, index: list[int]) -> Batch:
        infos = [self.video(i) for i in index]
        vids = [self.queries[i].vid for i in index]
        f = self.store.shape(vids[0])[1]
        for v in vids:
            if self.store.shape(v)[1] != f:
                raise InputError(f"{self.store.path}: video '{v}' has feature dim {self.store.shape(v)[1]}, expected {f}")
        b = len(index)
        t = max(v.n_rows for v in infos)
        k = max(v.windows.shape[0] for v in infos)
        n_scales = infos[0].windows.shape[1]
        m = max(len(self.token_ids[i]) for i in index)
        feats = self._features(vids, [v.n_rows for v in infos], t, f)
        row_mask = np.zeros((b, t), bool)
        windows = np.zeros((b, k, n_scales, 2), np.float32)
        win_mask = np.zeros((b, k, n_scales), bool)
        words = np.zeros((b, m), np.int64)
        word_mask = np.zeros((b, m), bool)
        for j, (i, info) in enumerate(zip(index, infos)):
            row_mask[j, :info.n_rows] = True
            kk = info.windows.shape[0]
            windows[j, :kk] = info.rows
            win_mask[j, :kk] = info.mask
            ids = self.token_ids[i]
            words[j, : len(ids)] = ids
            word_mask[j, : len(ids)] = True
        code = torch.tensor([self._vid_code[self.queries[i].vid] for i in index])
        return Batch(list(index), feats, torch.from_numpy(row_mask), torch.from_numpy(windows),
                     torch.from_numpy(win_mask), torch.from_numpy(words), torch.from_numpy(word_mask), code)

    def _features(self, vids: list[str], n_rows: list[int], t: int, f: int) -> torch.Tensor:
        """(B, T, F) feature rows of the batch's videos, zero-padded: one gather from a preloaded
        table, or each video read straight into the batch (once per video)."""
        if isinstance(self.store, ResidentStore):
            return self.store.gather(vids, t)
        feats = _batch_tensor((len(vids), t, f), torch.float32)
        x = feats.numpy()  # the same memory
        first: dict[str, int] = {}
        for j, (vid, n) in enumerate(zip(vids, n_rows)):
            if vid in first:
                x[j, :n] = x[first[vid], :n]
            else:
                self.store.read_into(vid, x[j, :n])
                first[vid] = j
            x[j, n:] = 0
        return feats


def _batch_tensor(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised tensor for a batch; inside a DataLoader worker it is allocated in shared
    memory, so handing it to the main process moves no bytes (torch's default_collate does the
    same).  Otherwise the worker would copy the batch's features (47 MB at the paper setting)
    into shared memory on the way out."""
    if torch.utils.data.get_worker_info() is None:
        return torch.empty(shape, dtype=dtype)
    storage = torch.UntypedStorage._new_shared(math.prod(shape) * dtype.itemsize)
    return torch.empty(0, dtype=dtype).set_(storage, 0, shape)


class BatchView(torch.utils.data.Dataset):
    """Adapter so a DataLoader (with workers) can call MomentDataset.collate on index lists.

    An item is a list of query indices (-> one Batch) or a list of such lists (-> a list of
    Batches, the groups of one training step)."""

    def __init__(self, ds: MomentDataset, batches: list[list[int]]):
        self.ds, self.batches = ds, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int):
        item = self.batches[i]
        if item and isinstance(item[0], list):
            return [self.ds.collate(g) for g in item]
        return self.ds.collate(item)


def batch_loader(ds: MomentDataset, batches: list[list[int]], num_workers: int = 0):
    """Batches in order; ``num_workers`` processes collate them, except from a preloaded table
    (a batch is one gather there, and a table on a GPU cannot cross into a worker)."""
    if isinstance(ds.store, ResidentStore):
        num_workers = 0
    return torch.utils.data.DataLoader(
        BatchView(ds, batches), batch_size=None, shuffle=False, num_workers=num_workers,
        persistent_workers=False, pin_memory=False)
