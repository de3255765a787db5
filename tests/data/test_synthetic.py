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
