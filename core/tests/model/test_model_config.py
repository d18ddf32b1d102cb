from __future__ import annotations

import json

import pytest

from polymodal.model import SIZES, ModelConfig


def test_named_sizes_match_ofa():
    tiny = ModelConfig.named("tiny", vocab_size=1000)
    assert (tiny.d_model, tiny.encoder_layers, tiny.decoder_layers, tiny.n_heads, tiny.ffn_dim) == (256, 4, 4, 4, 1024)
    huge = ModelConfig.named("huge", vocab_size=1000)
    assert (huge.d_model, huge.encoder_layers, huge.decoder_layers, huge.n_heads) == (1280, 24, 12, 16)
    assert {"nano", "micro", "mini", "tiny", "medium", "base", "large", "huge"} <= set(SIZES)


def test_named_overrides_and_unknown_size():
    cfg = ModelConfig.named("nano", vocab_size=50, dropout=0.0, max_target_positions=64)
    assert cfg.dropout == 0.0 and cfg.max_target_positions == 64 and cfg.d_model == 64
    with pytest.raises(ValueError, match="known sizes: .*tiny"):
        ModelConfig.named("gigantic", vocab_size=50)
    with pytest.raises(ValueError, match="unknown ModelConfig field"):
        ModelConfig.named("nano", vocab_size=50, widht=3)


def test_dict_round_trip_is_json_safe():
    cfg = ModelConfig.named("mini", vocab_size=321, activation="relu", pad_id=3)
    text = json.dumps(cfg.to_dict())
    assert ModelConfig.from_dict(json.loads(text)) == cfg


def test_from_dict_rejects_unknown_keys_and_missing_vocab():
    with pytest.raises(ValueError, match="unknown key"):
        ModelConfig.from_dict({"vocab_size": 10, "colour": "red"})
    with pytest.raises(ValueError, match="vocab_size"):
        ModelConfig.from_dict({"d_model": 64})


@pytest.mark.parametrize("kwargs, message", [
    (dict(d_model=64, n_heads=3), "must divide"),
    (dict(dropout=1.0), "dropout"),
    (dict(activation="swish"), "activation"),
    (dict(pad_id=99), "pad_id"),
    (dict(decoder_layers=0), "decoder_layers"),
])
def test_invalid_configs_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(vocab_size=50, **kwargs)
