import pytest

from vlanet.config import Config, config_from_dict, load_config
from vlanet.utils.errors import InputError


def test_defaults_validate_and_roundtrip():
    cfg = load_config()
    assert config_from_dict(cfg.to_dict()).to_dict() == cfg.to_dict()


def test_overrides_are_typed():
    cfg = load_config(None, ["train.epochs=3", "model.window_frames=[128,256]", "model.surrogate=false", "train.lr=1e-3"])
    assert cfg.train.epochs == 3 and cfg.model.window_frames == [128, 256]
    assert cfg.model.surrogate is False and cfg.train.lr == pytest.approx(1e-3)


@pytest.mark.parametrize("override,msg", [
    ("train.epoch=3", "unknown config key 'train.epoch'"),
    ("nosuch.x=1", "unknown config key"),
    ("train.epochs=three", "field 'train.epochs' must be int"),
    ("model.stride_frames=0", "field 'model.stride_frames' must be > 0"),
    ("train.margin=-0.1", "field 'train.margin' must be >= 0"),
    ("model.attention_scale=huge", "field 'model.attention_scale' must be one of"),
    ("model.window_frames=[0,10]", "model.window_frames"),
    ("train.epochs", "expected section.key=value"),
])
def test_bad_overrides_name_the_field(override, msg):
    with pytest.raises(InputError, match=msg.replace("[", r"\[").replace("(", r"\(")):
        load_config(None, [override])


def test_yaml_file_errors(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("model:\n  hidden_dim: [1, 2\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_config(p)
    p.write_text("model:\n  hiden_dim: 3\n")
    with pytest.raises(InputError, match="unknown config key 'model.hiden_dim'"):
        load_config(p)
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_without_cross_attention_ranks_by_vla():
    cfg = load_config(None, ["model.cross_attention=false"])
    assert cfg.model.rank_by == "vla"
    assert isinstance(Config().model.window_frames, list)


def test_tga_records_no_selection_term():
    """TGA has no Eq. (3): its config says so, so its runs compare equal whatever the default."""
    from vlanet.config import load_config

    assert load_config(None, ["model.name=tga"]).train.selection_weight == 0.0
    assert load_config(None, []).train.selection_weight == 0.5


def test_reused_vcomp_needs_a_vcomp():
    assert load_config(None, ["train.negative_vcomp=reused"]).train.negative_vcomp == "reused"
    with pytest.raises(InputError, match="'train.negative_vcomp' must be 'recomputed' for model.name=tga"):
        load_config(None, ["model.name=tga", "train.negative_vcomp=reused"])
    with pytest.raises(InputError, match="negative_vcomp"):
        load_config(None, ["train.negative_vcomp=sometimes"])


def test_preset_paper_sets_the_literal_equations_and_later_overrides_win():
    from vlanet.config import load_config, shipped_presets

    assert "paper" in shipped_presets()
    default, paper = load_config("charades_sta_sim"), load_config("charades_sta_sim", ["preset=paper"])
    literal = {("model", "vla_reduce"): "sum", ("model", "attention_scale"): "none", ("model", "vla_temperature"): 1.0,
               ("model", "vcomp_pool"): "sum", ("train", "negatives"): "query", ("train", "negative_vcomp"): "reused",
               ("train", "selection_weight"): 0.0}
    for (sec, key), value in literal.items():
        assert getattr(getattr(paper, sec), key) == value != getattr(getattr(default, sec), key), (sec, key)
    # every other field stays at the dataset config's value
    changed = {(sec, k) for sec, body in paper.to_dict().items() for k, v in body.items()
               if default.to_dict()[sec][k] != v}
    assert changed == set(literal)
    assert load_config(None, ["preset=paper", "train.selection_weight=0.5"]).train.selection_weight == 0.5
    assert load_config(None, ["train.selection_weight=0.5", "preset=paper"]).train.selection_weight == 0.0


def test_an_unknown_preset_is_one_input_error():
    from vlanet.config import load_config

    with pytest.raises(InputError, match="unknown preset 'nope' \\(shipped: paper\\)"):
        load_config(None, ["preset=nope"])
