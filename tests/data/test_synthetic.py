import numpy as np

from vlanet.data.synthetic import SyntheticSpec, generate
from vlanet.data.vocab import tokenize


def test_deterministic_and_shaped_like_charades():
    spec = SyntheticSpec(seed=3, n_train_videos=20, n_test_videos=5, dim=16)
    a, b = generate(spec), generate(spec)
    assert [q.query for q in a.splits["train"]] == [q.query for q in b.splits["train"]]
    for vid in a.store.ids():
        assert np.array_equal(a.store.get(vid), b.store.get(vid))
    assert not np.array_equal(generate(SyntheticSpec(seed=4, n_train_videos=20, n_test_videos=5, dim=16)).words.vectors,
                              a.words.vectors)
    for q in a.splits["train"] + a.splits["test"]:
        assert 20 <= q.duration <= 40
        (s, e), = q.windows
        assert 0 <= s < e <= q.duration + 1e-6 and 3 - 1e-6 <= e - s <= 15 + 1e-6
        assert 4 <= len(tokenize(q.query)) <= 10  # "someone puts a window."
        assert all(t in a.words.index for t in tokenize(q.query))
        x = a.store.get(q.vid)
        assert x.shape == (int(np.ceil(q.duration / (16 / 24))), 16)
    train_vids = {q.vid for q in a.splits["train"]}
    assert train_vids.isdisjoint({q.vid for q in a.splits["test"]})


def test_synonyms_are_close_in_word_space():
    wv = generate(SyntheticSpec(seed=0, n_train_videos=1, n_test_videos=1, dim=8)).words
    v = {w: wv.vectors[wv.index[w]] / np.linalg.norm(wv.vectors[wv.index[w]]) for w in ("cup", "mug", "door", "opens", "opening")}
    assert v["cup"] @ v["mug"] > 0.8 and v["opens"] @ v["opening"] > 0.8
    assert v["cup"] @ v["door"] < 0.6


def test_written_files_record_the_simulator_and_calibrate_as_in_memory(tmp_path):
    """`vlanet data synthetic` writes a features.h5 that says which simulator rendered it: the
    readers' version check then accepts it (and refuses another version), and the oracles of
    `vlanet data calibrate` on the files equal those of the same world generated in memory."""
    import h5py
    import pytest

    from vlanet.config import load_config
    from vlanet.data.loading import load_splits
    from vlanet.data.simulate import SIM_VERSION
    from vlanet.data.synthetic import write_files
    from vlanet.eval.calibrate import calibrate
    from vlanet.utils.errors import InputError

    sizes = ["data.synthetic_train_videos=60", "data.synthetic_test_videos=30", "data.synthetic_dim=32"]
    write_files(SyntheticSpec(n_train_videos=60, n_test_videos=30, dim=32), tmp_path)
    with h5py.File(tmp_path / "features.h5", "r") as f:
        assert f.attrs["simulated"] and int(f.attrs["simulator_version"]) == SIM_VERSION
        assert f.attrs["world"] == "synthetic"
    files = load_config(str(tmp_path / "config.yaml"))
    assert len(load_splits(files, need=("train",)).train) > 0  # the version check accepts it
    on_disk, in_memory = calibrate(files)["metrics"], calibrate(load_config(None, sizes))["metrics"]
    for kind in ("prior", "probe", "oracle-bow", "oracle-sentence"):
        assert on_disk[kind] == pytest.approx(in_memory[kind]), kind
    with h5py.File(tmp_path / "features.h5", "a") as f:
        f.attrs["simulator_version"] = SIM_VERSION - 1
    with pytest.raises(InputError, match="version"):
        load_splits(files, need=("train",))
