"""Write a Kineto weights file (.kin; byte layout in include/kineto.h, whose KINETO_HPARAMS list gives
the header's fields, their offsets, types and ranges).

  /usr/bin/python3 train/export.py --ckpt train/runs/main/ckpt.pt --out weights/kineto-world.kin
  /usr/bin/python3 train/export.py --kin weights/kineto-world.kin --with-encoder weights/kineto-world-encoder.kin \
      --out weights/kineto-world.kin      # the shipped file with its VAE encoder (for image start)
"""
import argparse
import os
import re
import struct
import sys
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, Kineto  # noqa: E402

KINETO_H = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "kineto.h")
MAGIC = b"KNTO"
HEADER_BYTES = 136  # version 4
HEADER_BYTES_V3 = 132  # version 3 ends the header at enc_levels
HEADER_BYTES_V2 = 120  # versions 1 and 2 end it at default_renoise
ENTRY_BYTES = 88
NAME_BYTES = 48
ALIGN = 32
DEFAULT_STEPS = 16
DEFAULT_GUIDANCE = 1.5  # with DEFAULT_RENOISE, the best identity on the tuning set (weights/README.md)
DEFAULT_RENOISE = 1.0  # of 0, 0.8 and 1 (with guidance 1, 1.25, 1.5, 2 and 3), the best identity on the tuning set
SHIPPED_PREFIXES = ("text.", "denoiser.", "vae_dec.", "preview.")
ENCODER_PREFIX = "vae_enc."  # optional in a shipped file: the engine's image start needs it


def shipped_tensors(model):
    """name -> float32 tensor, for every tensor the engine needs (the VAE encoder stays behind).
    The preview map is folded with 1/latent_scale so the engine applies it to diffusion latents."""
    sd = model.state_dict()
    out = {}
    for name, t in sd.items():
        if name.startswith(SHIPPED_PREFIXES):
            out[name] = t.detach().float().cpu().clone()
    out["preview.weight"] = out["preview.weight"] / model.cfg.latent_scale
    return out


def stored_dtype(name, t):
    """Matrices and embeddings as f16 (they are 97% of the bytes); vectors stay f32."""
    return 1 if t.dim() >= 2 and not name.startswith("denoiser.pos_") else 0


def round_to_stored(model, encoder=False):
    """Round a model's shipped weights (and its encoder's) to what the file stores, so PyTorch runs what
    the C engine runs."""
    prefixes = SHIPPED_PREFIXES + ((ENCODER_PREFIX,) if encoder else ())
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.startswith(prefixes) and t.dtype.is_floating_point and stored_dtype(name, t) == 1:
                t.copy_(t.half().float())


def read_format(path=KINETO_H):
    """-> (version written, oldest version read, [(name, offset, type, lo, hi)]) from kineto.h's
    KINETO_FORMAT_VERSION, KINETO_FORMAT_VERSION_MIN and KINETO_HPARAMS."""
    text = open(path).read()
    defines = dict(re.findall(r"^#define (\w+) ([-\d.e]+)f?\b", text, re.M))
    number = lambda tok: float(defines.get(tok, tok).rstrip("f"))
    fields = [(name, int(off), typ, number(lo), number(hi)) for name, off, typ, lo, hi in
              re.findall(r"X\((\w+),\s*(\d+),\s*(\w+),\s*([\w.+-]+),\s*([\w.+-]+)\)", text)]
    return int(defines["KINETO_FORMAT_VERSION"]), int(defines["KINETO_FORMAT_VERSION_MIN"]), fields


VERSION, OLDEST_VERSION, HPARAMS = read_format()
PACK = {"u32": "<I", "f32": "<f", "f32_above": "<f"}


def in_range(typ, lo, hi, v):
    return lo < v <= hi if typ == "f32_above" else lo <= v <= hi


def check_vae(cfg):
    """Refuses a VAE the format cannot hold, naming the field."""
    levels = len(cfg.vae_ch)
    if levels not in (3, 4):
        raise ValueError("vae_levels = %d (vae_ch %s): format %d holds a VAE of 3 or 4 levels" % (levels, cfg.vae_ch, VERSION))
    enc = cfg.enc_levels or levels
    if not 3 <= enc <= levels:
        raise ValueError("enc_levels = %d out of range 3..vae_levels %d" % (enc, levels))
    f = cfg.vae_factor
    if cfg.height % f or cfg.width % f:
        raise ValueError("height %d and width %d must be multiples of %d (the VAE's factor)" % (cfg.height, cfg.width, f))
    for i, c in enumerate(cfg.vae_ch):
        if c % cfg.vae_groups:
            raise ValueError("vae_ch%d = %d is not a multiple of vae_groups %d" % (i, c, cfg.vae_groups))
    if cfg.latent_h % cfg.patch or cfg.latent_w % cfg.patch:
        raise ValueError("latent size %dx%d is not a multiple of patch %d" % (cfg.latent_h, cfg.latent_w, cfg.patch))


def hparam_values(cfg):
    """name -> value of every header field, for this config and this file's defaults."""
    from model import NORM_EPS
    check_vae(cfg)
    v = {name: getattr(cfg, name) for name, *_ in HPARAMS if hasattr(cfg, name)}
    ch = tuple(cfg.vae_ch) + (0,)
    v.update(vae_ch0=ch[0], vae_ch1=ch[1], vae_ch2=ch[2], vae_ch3=ch[3], vae_levels=len(cfg.vae_ch),
             enc_levels=cfg.enc_levels or len(cfg.vae_ch), norm_eps=NORM_EPS,
             default_steps=DEFAULT_STEPS, default_guidance=DEFAULT_GUIDANCE, default_renoise=DEFAULT_RENOISE)
    return v


def hparams_bytes(values):
    """Header bytes [24, HEADER_BYTES) holding values (name -> value); refuses a value out of its range."""
    b = bytearray(HEADER_BYTES - 24)
    for name, off, typ, lo, hi in HPARAMS:
        v = values[name]
        if not in_range(typ, lo, hi, v):
            raise ValueError("hyperparameter %s = %s out of range %g..%g" % (name, v, lo, hi))
        struct.pack_into(PACK[typ], b, off - 24, v)
    return bytes(b)


def header_bytes(version):
    return HEADER_BYTES if version >= 4 else HEADER_BYTES_V3 if version == 3 else HEADER_BYTES_V2


def read_hparams(data, version=VERSION):
    """name -> value of every header field of a .kin file's bytes (fields a version lacks: what it implies)."""
    h = {name: struct.unpack_from(PACK[typ], data, off)[0] for name, off, typ, _, _ in HPARAMS
         if off < header_bytes(version)}
    if version < 3:
        h.update(vae_ch3=0, vae_levels=3, enc_levels=3)
    if version < 4:
        h.update(clean_context=0)
    return h


def vocab_bytes(vocab):
    twice = sorted({w for w in vocab if vocab.count(w) > 1})
    if twice:
        raise ValueError("vocabulary has the word %r twice" % twice[0])
    b = bytearray()
    for w in vocab:
        e = w.encode("ascii")
        assert 0 < len(e) < 256
        b += bytes([len(e)]) + e
    b += b"\0" * ((-len(b)) % 4)
    return bytes(b)


def write_kin(path, cfg, vocab, tensors):
    assert len(vocab) == cfg.vocab_size
    names = sorted(tensors)
    voc = vocab_bytes(vocab)
    table_off = HEADER_BYTES + 4 + len(voc)
    data_off = table_off + ENTRY_BYTES * len(names)
    data_off += (-data_off) % ALIGN
    table, blobs, off = bytearray(), bytearray(), data_off
    for name in names:
        t = tensors[name]
        dt = stored_dtype(name, t)
        arr = t.numpy().astype(np.float16 if dt == 1 else np.float32)
        raw = arr.tobytes()
        shape = list(arr.shape) + [1] * (4 - arr.ndim)
        nb = name.encode("ascii")
        assert len(nb) < NAME_BYTES, name
        table += nb + b"\0" * (NAME_BYTES - len(nb))
        table += struct.pack("<II4IQQ", dt, arr.ndim, *shape, off, len(raw))
        pad = (-len(raw)) % ALIGN
        blobs += raw + b"\0" * pad
        off += len(raw) + pad
    body = hparams_bytes(hparam_values(cfg)) + struct.pack("<I", len(voc)) + voc + bytes(table)
    body += b"\0" * (data_off - 24 - len(body))  # pad the table up to the first tensor
    total = 24 + len(body) + len(blobs)
    assert 24 + len(body) == data_off
    crc = zlib.crc32(body + blobs) & 0xFFFFFFFF
    head = MAGIC + struct.pack("<IQII", VERSION, total, crc, len(names))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(head + body + blobs)
    os.replace(tmp, path)
    return total


def export_model(model, vocab, path):
    return write_kin(path, model.cfg, vocab, shipped_tensors(model))


def export_encoder(model, vocab, path):
    """The VAE encoder in its own .kin file: the engine never needs it, but training resumes from it
    (train.py --init), since new latents must come from the encoder the denoiser learnt on."""
    tensors = {n: t.detach().float().cpu().clone() for n, t in model.state_dict().items()
               if n.startswith("vae_enc.") and t.dtype.is_floating_point}
    return write_kin(path, model.cfg, vocab, tensors)


def read_kin(path):
    """-> (Config, vocab, {name: float32 tensor}) of a .kin file; the inverse of write_kin."""
    with open(path, "rb") as f:
        data = f.read()
    magic, version, size, crc, n = struct.unpack_from("<4sIQII", data, 0)
    if (magic != MAGIC or not OLDEST_VERSION <= version <= VERSION or size != len(data)
            or zlib.crc32(data[24:]) & 0xFFFFFFFF != crc):
        raise ValueError("%s: not an intact Kineto weights file of version %d to %d" % (path, OLDEST_VERSION, VERSION))
    h = read_hparams(data, version)
    levels = h["vae_levels"]
    fields = {f for f in Config.__dataclass_fields__ if f in h and f != "enc_levels"}
    cfg = Config(vae_ch=tuple(h["vae_ch%d" % i] for i in range(levels)),
                 enc_levels=0 if h["enc_levels"] == levels else h["enc_levels"], **{f: h[f] for f in fields})
    head = header_bytes(version)
    vocab_len = struct.unpack_from("<I", data, head)[0]
    vocab, off = [], head + 4
    for _ in range(cfg.vocab_size):
        k = data[off]
        vocab.append(data[off + 1:off + 1 + k].decode("ascii"))
        off += 1 + k
    tensors, table = {}, head + 4 + vocab_len
    for i in range(n):
        e = table + i * ENTRY_BYTES
        name = data[e:e + NAME_BYTES].rstrip(b"\0").decode("ascii")
        dt, ndim, *shape = struct.unpack_from("<II4I", data, e + NAME_BYTES)
        t_off, nbytes = struct.unpack_from("<QQ", data, e + NAME_BYTES + 24)
        arr = np.frombuffer(data, np.float16 if dt == 1 else np.float32, nbytes // (2 if dt == 1 else 4), t_off)
        tensors[name] = torch.from_numpy(arr.astype(np.float32).reshape(shape[:ndim]))
    return cfg, vocab, tensors


def with_encoder(cfg, vocab, tensors, path):
    """tensors plus the VAE encoder of the .kin file at path (an encoder file, or a file holding one),
    which must fit cfg: the same vocabulary, latent channels and shapes as Kineto(cfg)'s encoder."""
    _, enc_vocab, enc_tensors = read_kin(path)
    if enc_vocab != vocab:
        raise ValueError("%s: its vocabulary differs from the weights'" % path)
    want = {n: tuple(t.shape) for n, t in Kineto(cfg).state_dict().items()
            if n.startswith(ENCODER_PREFIX) and t.dtype.is_floating_point}
    got = {n: tuple(t.shape) for n, t in enc_tensors.items() if n.startswith(ENCODER_PREFIX)}
    if got != want:
        wrong = sorted(set(want) ^ set(got)) or [n for n in sorted(want) if want[n] != got[n]]
        raise ValueError("%s: its encoder does not fit these weights (tensor %s)" % (path, wrong[0]))
    out = {n: t for n, t in tensors.items() if not n.startswith(ENCODER_PREFIX)}
    out.update({n: enc_tensors[n] for n in want})
    return out


def model_from_kin(paths, vocab):
    """A Kineto model from exported weights: the shipped file plus its encoder file, since every caller
    encodes. Raises SystemExit on a vocabulary other than `vocab` or a missing tensor."""
    tensors = {}
    for path in paths:
        cfg, file_vocab, t = read_kin(path)
        if file_vocab != vocab:
            raise SystemExit("%s: its vocabulary differs from train/world.py's" % path)
        tensors.update(t)
    model = Kineto(cfg)
    if "preview.weight" in tensors:
        tensors["preview.weight"] = tensors["preview.weight"] * cfg.latent_scale  # export folds 1/scale in
    sd = model.state_dict()
    missing = [n for n, v in sd.items() if v.dtype.is_floating_point and n not in tensors]
    if missing:
        raise SystemExit("%s: %d tensors missing, e.g. %s (pass the encoder file too)"
                         % (" + ".join(paths), len(missing), missing[0]))
    with torch.no_grad():
        for n, t in tensors.items():
            sd[n].copy_(t)
    return model


def load_checkpoint(path, use_ema=True):
    blob = torch.load(path, map_location="cpu", weights_only=False)
    cfg = Config.from_dict(blob["cfg"])
    model = Kineto(cfg)
    model.load_state_dict(blob["model"])
    if use_ema and blob.get("ema"):
        model.load_state_dict(blob["ema"])
        # the EMA copy was made before the latent scale was known: keep the trained model's scale
    model.cfg = cfg
    model.eval()
    return model, blob["vocab"], blob["state"]


def main():
    p = argparse.ArgumentParser(description="Write a .kin weights file from a training checkpoint, or copy one "
                                "(--kin) with its tensors unchanged and this file's DEFAULT_STEPS, DEFAULT_GUIDANCE and "
                                "DEFAULT_RENOISE.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--ckpt")
    src.add_argument("--kin")
    p.add_argument("--out", required=True)
    p.add_argument("--no-ema", action="store_true")
    p.add_argument("--encoder-out", default=None, help="also write the VAE encoder here (to resume training)")
    p.add_argument("--with-encoder", nargs="?", const="", default=None, metavar="ENC.kin",
                   help="put the VAE encoder in the written file (image start): from ENC.kin (an encoder file or "
                   "weights holding one), or with --ckpt and no file, the checkpoint's")
    a = p.parse_args()
    if a.kin:
        if a.no_ema or a.encoder_out:
            p.error("--no-ema and --encoder-out need --ckpt")
        if a.with_encoder == "":
            p.error("--with-encoder needs a file with --kin")
        cfg, vocab, tensors = read_kin(a.kin)
        if a.with_encoder:
            tensors = with_encoder(cfg, vocab, tensors, a.with_encoder)
        n = write_kin(a.out, cfg, vocab, tensors)
        print("wrote %s: %d bytes, default %d steps, guidance %g, renoise %g%s"
              % (a.out, n, DEFAULT_STEPS, DEFAULT_GUIDANCE, DEFAULT_RENOISE,
                 ", with the VAE encoder" if any(t.startswith(ENCODER_PREFIX) for t in tensors) else ""))
        return
    model, vocab, state = load_checkpoint(a.ckpt, not a.no_ema)
    if a.with_encoder is not None:
        tensors = shipped_tensors(model)
        if a.with_encoder:
            tensors = with_encoder(model.cfg, vocab, tensors, a.with_encoder)
        else:
            tensors.update({n: t.detach().float().cpu().clone() for n, t in model.state_dict().items()
                            if n.startswith(ENCODER_PREFIX) and t.dtype.is_floating_point})
        n = write_kin(a.out, model.cfg, vocab, tensors)
    else:
        n = export_model(model, vocab, a.out)
    print("wrote %s: %d bytes, stage %s step %d" % (a.out, n, state["stage"], state["step"]))
    if a.encoder_out:
        print("wrote %s: %d bytes" % (a.encoder_out, export_encoder(model, vocab, a.encoder_out)))


if __name__ == "__main__":
    main()
