"""The weights header has one description, KINETO_HPARAMS in include/kineto.h: export.py writes the
fields from it, the C engine reads them from it, and both must agree on every field."""
import os
import struct
import subprocess

import pytest
import torch

import export
from conftest import ROOT
from model import Kineto, tiny_config
from train import VOCAB

KINETO = os.path.join(ROOT, "build", "kineto")


def test_the_table_covers_the_header_field_by_field():
    assert [off for _, off, *_ in export.HPARAMS] == list(range(24, export.HEADER_BYTES, 4))
    assert all(typ in export.PACK for _, _, typ, _, _ in export.HPARAMS)
    assert export.OLDEST_VERSION == 1 and export.VERSION == 2


def test_export_writes_every_field_at_its_offset():
    values = export.hparam_values(tiny_config(len(VOCAB)))
    assert sorted(values) == sorted(name for name, *_ in export.HPARAMS)
    header = bytes(24) + export.hparams_bytes(values)
    for name, got in export.read_hparams(header).items():
        assert got == pytest.approx(values[name], rel=1e-7), name


@pytest.mark.parametrize("name, value", [("frames", 0), ("vocab_size", 65537), ("latent_scale", 0.0),
                                         ("default_renoise", 1.5), ("default_guidance", -1.0)])
def test_export_refuses_a_value_out_of_range(name, value):
    values = export.hparam_values(tiny_config(len(VOCAB)))
    values[name] = value
    with pytest.raises(ValueError, match=name):
        export.hparams_bytes(values)


def test_export_refuses_a_word_listed_twice():
    with pytest.raises(ValueError, match="'at' twice"):
        export.vocab_bytes(VOCAB + ["at"])


def info(path):
    if not os.path.exists(KINETO):
        pytest.skip("build/kineto is not built (./build.sh native)")
    done = subprocess.run([KINETO, "info", "--weights", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("version", [1, 2])
def test_the_engine_reads_what_export_writes(tmp_path, monkeypatch, version):
    """Unusual values in every field the CLI prints, from a version-2 file and its version-1 copy."""
    cfg = tiny_config(len(VOCAB))
    cfg.frames, cfg.fps, cfg.max_tokens, cfg.width = 3, 11, 9, 40
    monkeypatch.setattr(export, "DEFAULT_STEPS", 7)
    monkeypatch.setattr(export, "DEFAULT_GUIDANCE", 2.5)
    monkeypatch.setattr(export, "DEFAULT_RENOISE", 0.25)
    torch.manual_seed(0)
    path = tmp_path / "model.kin"
    export.export_model(Kineto(cfg), VOCAB, str(path))
    data = bytearray(path.read_bytes())
    assert struct.unpack_from("<I", data, 4)[0] == 2
    struct.pack_into("<I", data, 4, version)  # the CRC starts at byte 24
    path.write_bytes(data)
    assert export.read_kin(str(path))[0] == cfg
    out = info(path)
    assert "3 frames of 40x32 at 11 fps" in out
    assert "4 channels of 10x8" in out
    assert "at most 9 known words" in out
    assert "7 steps, guidance 2.5, renoise 0.25" in out
    assert ("%d words: " % (len(VOCAB) - 1)) + " ".join(VOCAB[1:]) in out
