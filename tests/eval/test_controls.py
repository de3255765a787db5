"""The controls of eval/controls.py: shuffled sentences and shuffled videos."""

from vlanet.data.annotations import Query
from vlanet.eval.controls import shuffled_queries, shuffled_videos


def q(qid, vid, dur, text="a person sits", win=((1.0, 3.0),)):
    return Query(qid, vid, text, dur, [list(w) for w in win])


def test_shuffled_videos_move_each_query_to_the_nearest_other_duration():
    qs = [q(0, "a", 10.0), q(1, "a", 10.0, "a person laughs"), q(2, "b", 12.0), q(3, "c", 30.0), q(4, "d", 31.0)]
    moved = shuffled_videos(qs)
    assert [(m.vid, m.duration) for m in moved] == [("b", 12.0), ("b", 12.0), ("a", 10.0), ("d", 31.0), ("c", 30.0)]
    for before, after in zip(qs, moved):  # the sentence and the ground truth stay the query's own
        assert (after.qid, after.query, after.windows) == (before.qid, before.query, before.windows)
        assert after.vid != before.vid
    assert shuffled_videos([q(0, "a", 10.0)])[0].vid == "a"  # one video: nothing to move to


def test_a_tie_goes_to_the_longer_video_and_shuffled_queries_keep_the_video():
    moved = shuffled_videos([q(0, "a", 10.0), q(1, "b", 12.0), q(2, "c", 14.0)])
    assert moved[1].vid == "c"  # 2 s either side: the longer one
    qs = [q(0, "a", 10.0, "x"), q(1, "b", 12.0, "y")]
    assert [(s.vid, s.query) for s in shuffled_queries(qs)] == [("a", "y"), ("b", "x")]
