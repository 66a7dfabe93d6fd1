"""The weights header has one description, KINETO_HPARAMS in include/kineto.h: export.py writes the
fields from it, the C engine reads them from it, and both must agree on every field."""
import os
import struct
import subprocess
import zlib

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
    assert export.OLDEST_VERSION == 1 and export.VERSION == 4
    assert [name for name, *_ in export.HPARAMS[-4:]] == ["vae_ch3", "vae_levels", "enc_levels", "clean_context"]


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


def four_levels(**changes):
    """A tiny config with a 4-level decoder (the x8 VAE), changed as given."""
    cfg = tiny_config(len(VOCAB))
    cfg.vae_ch, cfg.enc_levels = (8, 8, 8, 16), 3
    for k, v in changes.items():
        setattr(cfg, k, v)
    return cfg


@pytest.mark.parametrize("changes, field", [
    (dict(vae_ch=(8, 8, 8, 8, 16)), "vae_levels = 5"), (dict(vae_ch=(8, 16)), "vae_levels = 2"),
    (dict(enc_levels=2), "enc_levels = 2"), (dict(vae_ch=(8, 8, 16), enc_levels=4), "enc_levels = 4"),
    (dict(height=36), "height 36"), (dict(vae_ch=(8, 8, 8, 18)), "vae_ch3 = 18"),
    (dict(patch=3), "patch 3"), (dict(height=24), "patch 2")])
def test_export_refuses_a_vae_the_format_cannot_hold(changes, field):
    with pytest.raises(ValueError, match=field):
        export.hparam_values(four_levels(**changes))


def as_version(data, version):
    """A version-4 file of a 3-level VAE without clean_context as version 1 to 3, whose header ends
    before (byte 132 in version 3, 120 in 1 and 2): the fields dropped become padding at the end of
    the vocabulary, so the tensors keep their offsets."""
    if version == 4:
        return bytes(data)
    end, head = export.header_bytes(version), export.HEADER_BYTES
    dropped = head - end
    vocab_bytes = struct.unpack_from("<I", data, head)[0]
    out = bytearray(data[:end]) + struct.pack("<I", vocab_bytes + dropped) + data[head + 4:head + 4 + vocab_bytes]
    out += bytes(dropped) + data[head + 4 + vocab_bytes:]
    struct.pack_into("<I", out, 4, version)
    struct.pack_into("<I", out, 16, zlib.crc32(bytes(out[24:])) & 0xFFFFFFFF)
    return bytes(out)


def test_export_refuses_a_word_listed_twice():
    with pytest.raises(ValueError, match="'at' twice"):
        export.vocab_bytes(VOCAB + ["at"])


def info(path):
    if not os.path.exists(KINETO):
        pytest.skip("build/kineto is not built (./build.sh native)")
    done = subprocess.run([KINETO, "info", "--weights", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_the_engine_reads_what_export_writes(tmp_path, monkeypatch, version):
    """Unusual values in every field the CLI prints, from a version-4 file and its version-1 to 3 copies."""
    cfg = tiny_config(len(VOCAB))
    cfg.frames, cfg.fps, cfg.max_tokens, cfg.width = 3, 11, 9, 40
    monkeypatch.setattr(export, "DEFAULT_STEPS", 7)
    monkeypatch.setattr(export, "DEFAULT_GUIDANCE", 2.5)
    monkeypatch.setattr(export, "DEFAULT_RENOISE", 0.25)
    torch.manual_seed(0)
    path = tmp_path / "model.kin"
    export.export_model(Kineto(cfg), VOCAB, str(path))
    data = path.read_bytes()
    assert struct.unpack_from("<I", data, 4)[0] == 4
    path.write_bytes(as_version(data, version))
    assert export.read_kin(str(path))[0] == cfg
    out = info(path)
    assert "3 frames of 40x32 at 11 fps" in out
    assert "4 channels of 10x8" in out
    assert "at most 9 known words" in out
    assert "7 steps, guidance 2.5, renoise 0.25" in out
    assert ("%d words: " % (len(VOCAB) - 1)) + " ".join(VOCAB[1:]) in out


def test_a_four_level_vae_round_trips(tmp_path):
    """A 128x128-style decoder (x8) over an x4 encoder: written, read back, and read by the engine."""
    cfg = four_levels(latent_channels=8)
    torch.manual_seed(0)
    path = tmp_path / "model.kin"
    export.export_model(Kineto(cfg), VOCAB, str(path))
    data = path.read_bytes()
    h = export.read_hparams(data)
    assert (h["vae_ch3"], h["vae_levels"], h["enc_levels"]) == (16, 4, 3)
    assert export.read_kin(str(path))[0] == cfg
    out = info(path)
    assert "4 frames of 32x32 at 8 fps" in out
    assert "8 channels of 4x4" in out
