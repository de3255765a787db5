"""Annotation preparation on the real files (skipped without them) and on small bad inputs."""

import json

import pytest

from vlanet.data.prepare import (
    prepare_activitynet,
    prepare_charades,
    prepare_didemo,
    read_charades_durations,
)
from vlanet.utils.errors import InputError


@pytest.mark.shared_data
def test_charades_sta_official_counts(shared_data):
    d = shared_data / "charades-sta"
    dur = read_charades_durations(d / "Charades_v1_test.csv")
    clip, rep = prepare_charades(d / "charades_sta_test.txt", dur, "clip")
    assert (len(clip), rep.videos, rep.clipped) == (3720, 1334, 562)
    assert all(q.windows[0][1] <= q.duration for q in clip)
    drop, rep = prepare_charades(d / "charades_sta_test.txt", dur, "drop")
    assert (len(drop), rep.videos) == (3158, 1225)
    keep, _ = prepare_charades(d / "charades_sta_test.txt", dur, "keep")
    assert len(keep) == 3720 and sum(q.windows[0][1] > q.duration for q in keep) == 562


@pytest.mark.shared_data
def test_charades_sta_train_flaws_are_counted_not_fatal(shared_data):
    d = shared_data / "charades-sta"
    train, rep = prepare_charades(d / "charades_sta_train.txt", read_charades_durations(d / "Charades_v1_train.csv"))
    assert rep.dropped_reversed == 4 and len(train) == 12404


@pytest.mark.shared_data
def test_didemo_and_activitynet_real_files(shared_data):
    test, rep = prepare_didemo(shared_data / "didemo" / "test_data.json")
    assert (len(test), rep.videos) == (4021, 1037)
    q = test[0]
    assert all(w == [5.0 * s, 5.0 * (e + 1)] for w, (s, e) in zip(q.windows, q.extra["didemo_times"]))
    anet, _ = prepare_activitynet(shared_data / "activitynet-captions" / "val.json")
    assert len(anet) == 17505


def test_bad_charades_lines_name_file_and_line(tmp_path):
    anno = tmp_path / "a.txt"
    dur = {"AAA": 30.0}
    anno.write_text("AAA 0.0 5.0##a person sits.\nAAA zero 5.0##bad\n")
    with pytest.raises(InputError, match=r"a.txt:2: START/END are not numbers"):
        prepare_charades(anno, dur)
    anno.write_text("AAA 0.0 5.0 a person sits.\n")
    with pytest.raises(InputError, match=r"a.txt:1: expected 'VIDEOID START END##sentence'"):
        prepare_charades(anno, dur)
    anno.write_text("BBB 0.0 5.0##someone.\n")
    with pytest.raises(InputError, match=r"a.txt:1: video id 'BBB' has no duration"):
        prepare_charades(anno, dur)
    anno.write_text("")
    with pytest.raises(InputError, match="empty file"):
        prepare_charades(anno, dur)
    anno.write_bytes(b"\xff\xfeAAA")
    with pytest.raises(InputError, match="not UTF-8"):
        prepare_charades(anno, dur)


def test_bad_didemo_entries(tmp_path):
    p = tmp_path / "d.json"
    p.write_text(json.dumps([{"annotation_id": 1, "description": "x", "video": "v", "times": [[2, 1]], "num_segments": 6}]))
    with pytest.raises(InputError, match="entry 0: field 'times'"):
        prepare_didemo(p)
    p.write_text("[{")
    with pytest.raises(InputError, match="not valid JSON"):
        prepare_didemo(p)


@pytest.mark.shared_data
def test_charades_cd_counts_and_the_ood_prior_collapse(shared_data):
    """SOURCE.md's counts; the blind prior fitted on train falls below random on test-ood."""
    from vlanet.config import load_config
    from vlanet.data.dataset import ProposalSpec
    from vlanet.data.prepare import prepare_charades_cd
    from vlanet.eval.baselines import grid_baseline
    from vlanet.eval.evaluate import evaluate_rows, model_protocol

    d = shared_data / "charades-cd"
    if not d.is_dir():
        pytest.skip(f"Charades-CD not found at {d}")
    split = {}
    for name, videos, queries in (("train", 4564, 11071), ("val", 333, 859), ("test_iid", 333, 823),
                                  ("test_ood", 1442, 3375)):
        qs, rep = prepare_charades_cd(d / f"charades_{name}.json", "keep")
        assert (rep.videos, rep.queries) == (videos, queries), name
        split[name], _ = prepare_charades_cd(d / f"charades_{name}.json")
    assert len(split["test_ood"]) == 3372  # 3 moments start past the video's end: dropped under clip
    assert len({q.qid for q in split["train"]}) == len(split["train"])
    cfg = load_config()
    r1 = {}
    for name in ("test_iid", "test_ood"):
        for kind in ("random", "prior"):
            rows = grid_baseline(kind, split[name], split["train"], ProposalSpec.from_config(cfg), cfg.eval)
            r1[name, kind] = evaluate_rows(rows, split[name], model_protocol(cfg))["R@1,IoU=0.5"]
    assert r1["test_iid", "prior"] > r1["test_iid", "random"] + 10
    assert r1["test_ood", "prior"] < r1["test_ood", "random"]
