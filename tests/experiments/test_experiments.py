"""`vlanet experiment` and `vlanet compare` through the real command line, on tiny synthetic data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

TINY = ["data.synthetic_train_videos=30", "data.synthetic_test_videos=8", "data.synthetic_dim=16",
        "model.hidden_dim=16", "train.batch_size=16", "train.epochs=1", "eval.batch_size=16"]


def vlanet(*args, kill_at=None):
    env = dict(os.environ)
    env.pop("VLANET_KILL_AT", None)
    if kill_at:
        env["VLANET_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "vlanet", *map(str, args)], capture_output=True, text=True, env=env)


def table_rows(md: str) -> dict[str, list[str]]:
    """Body rows of the Markdown table by label (the header and separator lines dropped)."""
    lines = [x for x in md.splitlines() if x.startswith("|")][2:]
    return {c[0]: c[1:] for c in ([s.strip() for s in x.strip().strip("|").split("|")] for x in lines)}


def test_table1_runs_then_skips_finished_runs_and_resumes_interrupted_ones(tmp_path):
    out = tmp_path / "t1"
    # interrupted inside the first training row (TGA), after its first checkpoint
    r = vlanet("experiment", "table1", "--out", out, "--quiet", *TINY, kill_at="epoch1.end")
    assert r.returncode != 0 and (out / "tga" / "seed0" / "checkpoints" / "last").exists()
    assert not (out / "tga" / "seed0" / "result.json").exists() and not (out / "table1.md").exists()
    r = vlanet("experiment", "table1", "--out", out, "--quiet", *TINY)
    assert r.returncode == 0, r.stderr
    rows = table_rows((out / "table1.md").read_text())
    assert r.stdout.strip().splitlines()[0] in (out / "table1.md").read_text()
    for label in ("Random", "Prior (blind)", "Saliency (blind)", "Linear probe (blind)", "Oracle (best proposal)",
                  "TGA", "VLANet, as written (preset=paper)", "VLANet, no selection term", "VLANet"):
        assert label in rows, label
        float(rows[label][1])  # R@1,IoU=0.5 is a number
    for model in ("TGA", "VLANet"):  # the language gain column: true minus shuffled queries
        res = json.loads((out / model.lower() / "seed0" / "result.json").read_text())
        assert float(rows[model][6]) == pytest.approx(res["language_gain"], abs=0.01)
        assert res["language_gain"] == pytest.approx(
            res["test"]["R@1,IoU=0.5"] - res["test_shuffled"]["R@1,IoU=0.5"], abs=0.01)
        # the visual gain column: true minus shuffled videos (Otani et al.'s visual check)
        assert float(rows[model][7]) == pytest.approx(res["visual_gain"], abs=0.01)
    assert rows["Random"][6] == rows["Random"][7] == ""  # controls have no language or visual gain
    assert float(rows["Oracle (best proposal)"][1]) >= float(rows["VLANet"][1])
    assert "cached" not in rows["TGA"][-1]
    t = time.perf_counter()
    again = vlanet("experiment", "table1", "--out", out, "--quiet", *TINY)
    assert again.returncode == 0, again.stderr
    rows2 = table_rows((out / "table1.md").read_text())
    assert "cached run" in rows2["VLANet"][-1] and "cached run" in rows2["TGA"][-1]
    assert rows2["VLANet"][:6] == rows["VLANet"][:6]
    assert time.perf_counter() - t < 60
    # a changed setting never reuses a run trained without it: refused, naming the field
    stale = vlanet("experiment", "table1", "--out", out, "--quiet", *TINY, "model.dropout=0.3")
    assert stale.returncode == 2 and len(stale.stderr.strip().splitlines()) == 1, stale.stderr
    assert "another configuration: model.dropout" in stale.stderr and "tga" in stale.stderr
    assert rows2 == table_rows((out / "table1.md").read_text())  # the table is untouched
    # compare builds a table from the finished runs
    c = vlanet("compare", out / "tga" / "seed0", out / "vlanet" / "seed0")
    assert c.returncode == 0 and "tga/seed0" in c.stdout and "vlanet/seed0" in c.stdout
    assert "language gain" in c.stdout


def test_seeds_give_mean_and_std(tmp_path):
    out = tmp_path / "t1s"
    r = vlanet("experiment", "table1", "--out", out, "--quiet", "--seeds", "2", *TINY)
    assert r.returncode == 0, r.stderr
    rows = table_rows((out / "table1.md").read_text())
    per_seed = [json.loads((out / "vlanet" / f"seed{k}" / "result.json").read_text()) for k in (0, 1)]
    assert [p["seed"] for p in per_seed] == [0, 1]
    vals = [p["test"]["R@1,IoU=0.5"] for p in per_seed]
    mean, std = (float(x) for x in rows["VLANet"][1].split(" ± "))
    assert mean == pytest.approx(sum(vals) / 2, abs=0.01)
    assert std == pytest.approx(abs(vals[0] - vals[1]) / 2 ** 0.5, abs=0.01)
    assert " ± " in rows["VLANet"][6] and "2 seed(s)" in rows["VLANet"][-1]


def test_table3_runs_an_identical_configuration_once(tmp_path):
    out = tmp_path / "t3"
    r = vlanet("experiment", "table3", "--out", out, "--quiet", *TINY)
    assert r.returncode == 0, r.stderr
    rows = table_rows((out / "table3.md").read_text())
    assert len(rows) == 16 and list(rows)[:3] == ["Random", "Prior (blind)", "Linear probe (blind)"]
    # the default config has stride 8 and windows (176, 208, 240): the full model is that row
    assert "same run as 'stride 8, window (176, 208, 240)'" in rows["full model"][-1]
    assert rows["full model"][:6] == rows["stride 8, window (176, 208, 240)"][:6]
    assert not (out / "full-model").exists()
    assert (out / "w-o-surrogate" / "seed0" / "result.json").is_file()


def test_rows_train_only_the_named_rows(tmp_path):
    """--rows splits a table over machines: each trains its rows into the same --out."""
    out = tmp_path / "t3"
    r = vlanet("experiment", "table3", "--out", out, "--quiet", "--rows", "w-o-surrogate,w-o-self-attn", *TINY)
    assert r.returncode == 0, r.stderr
    assert list(table_rows((out / "table3.md").read_text())) == ["Random", "Prior (blind)", "Linear probe (blind)",
                                                                "w/o self-attn", "w/o surrogate"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["w-o-self-attn", "w-o-surrogate"]
    bad = vlanet("experiment", "table3", "--out", out, "--quiet", "--rows", "w-o-surogate", *TINY)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "no model row 'w-o-surogate'" in bad.stderr and "w-o-surrogate" in bad.stderr


def test_table2_needs_a_didemo_dataset(tmp_path):
    r = vlanet("experiment", "table2", "--out", tmp_path / "t2", *TINY)
    assert r.returncode == 2
    assert "table2 needs a didemo dataset" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_charades_cd_table_scores_every_test_split_of_one_run(tmp_path):
    """data.extra_tests: one training run per row, one table block per test split (Charades-CD's
    test_iid and test_ood).  Here the extra split is a copy of the test split, so the blocks agree."""
    syn = tmp_path / "syn"
    assert vlanet("data", "synthetic", "--out", syn, "--train-videos", 30, "--test-videos", 8, "--dim", 16).returncode == 0
    (syn / "ood.jsonl").write_text((syn / "test.jsonl").read_text())
    small = [o for o in TINY if not o.startswith("data.")] + [f"data.extra_tests=[{syn / 'ood.jsonl'}]"]
    out = tmp_path / "cd"
    r = vlanet("experiment", "charades-cd", "--data", syn / "config.yaml", "--out", out, "--quiet", *small)
    assert r.returncode == 0, r.stderr
    md = (out / "charades-cd.md").read_text()
    blocks = md.split("**Charades-CD")[1:]
    assert len(blocks) == 2 and "test split test" in blocks[0] and "test split ood" in blocks[1]
    first, second = table_rows(blocks[0]), table_rows(blocks[1])
    assert first.keys() == second.keys() >= {"Random", "Prior (blind)", "Linear probe (blind)", "TGA", "VLANet"}
    assert first == second
    assert sorted(p.name for p in out.iterdir()) == ["charades-cd.md", "tga", "vlanet",
                                                    "vlanet-no-selection-term"]  # one run per model row
    c = vlanet("data", "calibrate", syn / "config.yaml", *small, "--split", "ood")
    assert c.returncode == 0, c.stderr
    n = vlanet("data", "calibrate", syn / "config.yaml", *small, "--split", "nope")
    assert n.returncode == 2 and "no test split named 'nope' (test splits: test, ood)" in n.stderr


def test_validation_column_is_the_chosen_epochs_metric(tmp_path):
    """Tables that decide defaults (``selection``) show each model's validation R@1 at the epoch
    its select metric chose (the first best), read from metrics.jsonl; never a test number."""
    from vlanet.experiments import Result, markdown_table
    from vlanet.experiments.runs import chosen_val

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("train:\n  select_metric: R@1,IoU=0.5\n")
    (run / "metrics.jsonl").write_text("".join(json.dumps({"epoch": e, "val": {"R@1,IoU=0.5": v, "R@1,IoU=0.7": 99.0}}) + "\n"
                                              for e, v in [(1, 20.0), (2, 31.5), (3, 30.0)]))
    assert chosen_val(run, "R@1,IoU=0.5") == 31.5
    (run / "config.yaml").write_text("train:\n  select_metric: val_contrast\n")  # no timestamps: R@1 is only read
    (run / "metrics.jsonl").write_text("".join(json.dumps({"epoch": e, "val": {"R@1,IoU=0.5": v, "val_contrast": c}}) + "\n"
                                              for e, v, c in [(1, 20.0, 0.1), (2, 31.5, 0.2), (3, 30.0, 0.3), (4, 29.0, 0.3)]))
    assert chosen_val(run, "R@1,IoU=0.5") == 30.0  # epoch 3, the first best contrast
    md = markdown_table("t", ["R@1,IoU=0.5"], [("m", Result([{"R@1,IoU=0.5": 40.0}], [3.0], [31.5, 33.5]), None, "")],
                        val="R@1,IoU=0.5")
    rows = table_rows(md)
    assert "val R@1,IoU=0.5" in md and rows["m"][:3] == ["32.50 ± 1.41", "40.00", "3.00"]


def test_a_cached_run_is_compared_on_every_field_it_reads(tmp_path):
    """A cached run matches only with the same value of every field its model reads; a
    config.yaml without some field (an older vlanet wrote it) is refused by name, not guessed."""
    from vlanet.config import dump_config, load_config
    from vlanet.experiments.runs import check_same_config
    from vlanet.utils.errors import InputError

    run = tmp_path / "run"
    run.mkdir()
    have = ["model.hidden_dim=16", "train.epochs=2"]
    (run / "config.yaml").write_text(dump_config(load_config(None, have)))
    check_same_config(run, load_config(None, [*have, "train.threads=1"]))  # runtime fields may differ
    lines = (run / "config.yaml").read_text().splitlines(keepends=True)  # or be missing (same numbers)
    (run / "config.yaml").write_text("".join(x for x in lines if "cca_impl" not in x and "threads" not in x))
    check_same_config(run, load_config(None, [*have, "model.cca_impl=literal"]))
    with pytest.raises(InputError, match=r"model.hidden_dim \(16 there, 32 now\)"):
        check_same_config(run, load_config(None, ["model.hidden_dim=32", "train.epochs=2"]))
    (run / "config.yaml").write_text("model:\n  hidden_dim: 16\ntrain:\n  epochs: 2\n")
    with pytest.raises(InputError, match=r"older vlanet whose config.yaml has no .*remove it or choose another --out"):
        check_same_config(run, load_config(None, have))


def test_a_cached_tga_run_is_not_stale_for_a_field_tga_does_not_read(tmp_path):
    """TGA ranks by its own attention: a VLANet ranking recorded in its config does not make it
    stale, while the same difference does for a VLANet run."""
    import yaml

    from vlanet.config import load_config
    from vlanet.experiments.runs import check_same_config
    from vlanet.utils.errors import InputError

    for name in ("tga", "vlanet"):
        run = tmp_path / name
        run.mkdir()
        cfg = load_config(None, [f"model.name={name}", "model.rank_by=q2v_last"]).to_dict()
        (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    check_same_config(tmp_path / "tga", load_config(None, ["model.name=tga", "model.rank_by=q2v_mean"]))
    with pytest.raises(InputError, match="model.rank_by"):
        check_same_config(tmp_path / "vlanet", load_config(None, ["model.name=vlanet", "model.rank_by=q2v_mean"]))


@pytest.mark.parametrize("select", ["R@1,IoU=0.5", "val_contrast"])
def test_methods_table_reads_each_model_against_the_best_blind_row(tmp_path, select):
    """The best blind row is read on the test headline metric (R@1,IoU=0.5), whatever metric
    picks the models' epochs: val_contrast has no value for a blind row."""
    out = tmp_path / "methods"
    small = ["cnm.hidden_dim=16", "cnm.layers=1", "cnm.num_clips=16", f"train.select_metric={select}"]
    r = vlanet("experiment", "methods", "--out", out, "--quiet", "--rows", "cnm", *TINY, *small)
    assert r.returncode == 0, r.stderr
    md = (out / "methods.md").read_text()
    assert md.startswith("**Weakly-supervised methods (R@1, IoU=m; not in the paper), on the embedded synthetic default**")
    rows = table_rows(md)
    blind = {k: float(rows[k][1]) for k in ("Prior (blind)", "Saliency (blind)", "Linear probe (blind)")}
    best = max(blind, key=blind.get)
    label = f"Best blind = {best.replace(' (blind)', '')}"
    assert label in rows and float(rows[label][1]) == blind[best]
    assert list(rows).index(label) == list(rows).index("Linear probe (blind)") + 1  # before the models
    assert set(rows) >= {"Random", "CNM"} and "TGA" not in rows  # --rows: only CNM trained
    res = json.loads((out / "cnm" / "seed0" / "result.json").read_text())
    assert float(rows["CNM"][1]) == pytest.approx(res["test"]["R@1,IoU=0.5"], abs=0.01)
    assert float(rows["CNM"][3]) == pytest.approx(res["test"]["mIoU"], abs=0.01)
    assert float(rows["CNM"][4]) == pytest.approx(res["language_gain"], abs=0.01)
    assert float(rows["CNM"][5]) == pytest.approx(res["visual_gain"], abs=0.01)
    assert rows["CNM"][6] == "60.39 / 35.43 / 15.45 / -"  # the published numbers beside ours
    margin = res["test"]["R@1,IoU=0.5"] - blind[best]
    assert f"{margin:+.2f} over best blind at R@1,IoU=0.5" in rows["CNM"][-1]


def test_the_ladder_climbs_from_the_paper_as_written_to_the_default(tmp_path):
    """`vlanet experiment ladder`: the first row is preset=paper, each row adds the fields its
    step names and nothing else, and the last row is the default; the table shows the controls,
    the validation metric and both gains."""
    import dataclasses

    from vlanet.config import load_config
    from vlanet.experiments.tables import LADDER_STEPS, TABLES

    def flat(cfg):
        return {f"{s}.{k}": v for s, sec in dataclasses.asdict(cfg).items() if isinstance(sec, dict) for k, v in sec.items()}

    rows = [r for r in TABLES["ladder"]["rows"] if r.kind == "train"]
    assert len(rows) == len(LADDER_STEPS) and rows[0].overrides == ["preset=paper", "train.select_metric=R@1,IoU=0.5"]
    first = load_config(None, rows[0].overrides)
    assert load_config(None, ["preset=paper"]).train.select_metric == "val_contrast"  # the preset is silent on it
    assert (first.model.vla_reduce, first.model.attention_scale, first.model.vcomp_pool) == ("sum", "none", "sum")
    assert (first.train.negative_vcomp, first.train.selection_weight) == ("reused", 0.0)
    for prev, row, (_, step) in zip(rows, rows[1:], LADDER_STEPS[1:]):
        a, b = flat(load_config(None, prev.overrides)), flat(load_config(None, row.overrides))
        assert sorted(k for k in a if a[k] != b[k]) == sorted(s.split("=")[0] for s in step), row.label
    assert flat(load_config(None, rows[-1].overrides)) == flat(load_config(None, []))
    out = tmp_path / "ladder"
    ends = f"{rows[0].slug},{rows[-1].slug}"
    r = vlanet("experiment", "ladder", "--out", out, "--quiet", "--rows", ends, *TINY)
    assert r.returncode == 0, r.stderr
    table = table_rows((out / "ladder.md").read_text())
    assert {"Random", "Prior (blind)", "VLANet, as written (preset=paper)", rows[-1].label} <= set(table)
    res = json.loads((out / rows[0].slug / "seed0" / "result.json").read_text())
    cells = table["VLANet, as written (preset=paper)"]  # val, R@1 at 0.5 and 0.7, the gains, the paper's
    assert float(cells[1]) == pytest.approx(res["test"]["R@1,IoU=0.5"], abs=0.01)
    assert float(cells[3]) == pytest.approx(res["language_gain"], abs=0.01)
    assert float(cells[4]) == pytest.approx(res["visual_gain"], abs=0.01)
    assert cells[5] == "31.83 / 14.17"


def test_a_result_with_a_gain_that_is_not_a_number_is_refused_by_name(tmp_path):
    from vlanet.experiments.runs import read_result
    from vlanet.utils.errors import InputError

    f = tmp_path / "result.json"
    f.write_text(json.dumps({"test": {"R@1,IoU=0.5": 30.0}, "language_gain": 1.0, "visual_gain": "high"}))
    with pytest.raises(InputError, match="field 'visual_gain' must be a number"):
        read_result(f)
