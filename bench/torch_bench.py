"""PyTorch side of the benchmark: loads a .kin file into train/model.py, writes the shared inputs,
the reference clip and the ONNX models the onnxruntime runs use, and times PyTorch on the CPU.

    /usr/bin/python3 bench/torch_bench.py --kin FILE --dir build/bench [--reps 3] [--threads 1,2]

Every engine runs the same pipeline: both prompts encoded as one padded batch of 2, then per step
one denoiser pass over the batch (conditional + unconditional), guidance and an Euler update, then
the VAE decoder over all frames. Prints one JSON object per thread count.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
import export  # noqa: E402
from model import Kineto, gaussian_noise, pad_ids, tokenize  # noqa: E402

OPSET = 16  # torch 1.13 writes a broken LayerNormalization (no scale) for affine-free norms at 17


def read_kin(path):
    """-> (Config, vocab, {name: float32 tensor}, default_steps, default_guidance) of a .kin file."""
    cfg, vocab, tensors = export.read_kin(path)
    h = export.read_hparams(open(path, "rb").read())
    return cfg, vocab, tensors, h["default_steps"], h["default_guidance"]


def load_model(path):
    cfg, vocab, tensors, steps, guidance = read_kin(path)
    model = Kineto(cfg)
    tensors = dict(tensors)
    tensors["preview.weight"] = tensors["preview.weight"] * cfg.latent_scale  # the file folds it
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not unexpected and all(k.startswith("vae_enc.") for k in missing), (missing, unexpected)
    model.eval()
    return model, vocab, steps, guidance


class TextStage(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.text = model.text

    def forward(self, ids, mask):
        return self.text(ids, mask)


class DenoiserStage(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.denoiser = model.denoiser

    def forward(self, z, t, text, mask, pooled):
        return self.denoiser(z, t, text, mask, pooled)


class DecoderStage(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.vae_dec = model.vae_dec
        self.scale = model.cfg.latent_scale

    def forward(self, z):
        return self.vae_dec(z / self.scale)


def to_bytes(rgb):
    """(F, 3, H, W) floats in [-1, 1] -> (F, H, W, 3) uint8, as train/model.py decode_frames."""
    x = ((rgb.clamp(-1, 1) + 1) * 127.5 + 0.5).floor().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous()


@torch.no_grad()
def generate(stages, inputs, timings=None):
    text, den, dec = stages
    steps, g = inputs["steps"], inputs["guidance"]
    t0 = time.perf_counter()
    tokens, pooled = text(inputs["ids"], inputs["mask"])
    t1 = time.perf_counter()
    z = inputs["noise"].clone()
    step_times = []
    for i in range(steps):
        s0 = time.perf_counter()
        ta, tb = 1.0 - i / steps, 1.0 - (i + 1) / steps
        v2 = den(z.expand(2, *z.shape[1:]), torch.full((2,), ta), tokens, inputs["mask"], pooled)
        v = v2[1:] + g * (v2[:1] - v2[1:])
        z = z + (tb - ta) * v
        step_times.append(time.perf_counter() - s0)
    t2 = time.perf_counter()
    frames = to_bytes(dec(z[0]))
    t3 = time.perf_counter()
    if timings is not None:
        timings["text"].append(t1 - t0)
        timings["step"].extend(step_times)
        timings["decode"].append(t3 - t2)
        timings["clip"].append(t3 - t0)
    return z[0], frames


def export_onnx(stages, inputs, tokens, pooled, out_dir):
    text, den, dec = stages
    z2 = inputs["noise"].expand(2, *inputs["noise"].shape[1:]).contiguous()
    jobs = [("text", text, (inputs["ids"], inputs["mask"]), ["ids", "mask"], ["tokens", "pooled"]),
            ("denoiser", den, (z2, torch.ones(2), tokens, inputs["mask"], pooled),
             ["z", "t", "text", "mask", "pooled"], ["v"]),
            ("decoder", dec, (inputs["noise"][0],), ["z"], ["rgb"])]
    for name, mod, args, in_names, out_names in jobs:
        torch.onnx.export(mod, args, os.path.join(out_dir, name + ".onnx"), input_names=in_names,
                          output_names=out_names, opset_version=OPSET, do_constant_folding=True)


def median_ms(xs):
    return round(1000.0 * statistics.median(xs), 3)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kin", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--prompt", default="a red ball moving left on black")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    model, vocab, steps, guidance = load_model(a.kin)
    cfg = model.cfg
    ids, unknown = tokenize(a.prompt, vocab)
    assert ids and not unknown, "prompt words missing from the vocabulary: %s" % unknown
    L = len(ids)
    tok, mask = pad_ids([ids, []], L)  # row 0: the prompt; row 1: the null prompt (no negative)
    shape = (1, cfg.frames, cfg.latent_channels, cfg.latent_h, cfg.latent_w)
    noise = gaussian_noise(a.seed, int(np.prod(shape))).view(shape)
    inputs = {"ids": tok, "mask": mask, "noise": noise, "steps": steps, "guidance": guidance}
    stages = (TextStage(model), DenoiserStage(model), DecoderStage(model))

    torch.set_num_threads(1)
    latent, frames = generate(stages, inputs)
    with torch.no_grad():
        tokens, pooled = stages[0](tok, mask)
        export_onnx(stages, inputs, tokens, pooled, a.dir)
    with open(os.path.join(a.dir, "inputs.json"), "w") as f:
        json.dump({"prompt": a.prompt, "seed": a.seed, "steps": steps, "guidance": guidance,
                   "frames": cfg.frames, "height": cfg.height, "width": cfg.width,
                   "latent_shape": list(shape), "text_dim": cfg.text_dim,
                   "ids": tok.tolist(), "mask": mask.int().tolist(), "noise": noise.flatten().tolist()}, f)
    frames.numpy().tofile(os.path.join(a.dir, "ref_frames.u8"))   # (F, H, W, 3)
    latent.numpy().astype("<f4").tofile(os.path.join(a.dir, "ref_latent.f32"))

    for n in [int(x) for x in a.threads.split(",")]:
        torch.set_num_threads(n)
        generate(stages, inputs)  # warm-up
        timings = {"text": [], "step": [], "decode": [], "clip": []}
        diff = 0
        for _ in range(a.reps):
            _, fr = generate(stages, inputs, timings)
            diff = max(diff, int((fr.int() - frames.int()).abs().max()))
        print(json.dumps({"engine": "pytorch", "where": "python", "threads": n,
                          "text_ms": median_ms(timings["text"]), "step_ms": median_ms(timings["step"]),
                          "decode_ms": median_ms(timings["decode"]), "clip_ms": median_ms(timings["clip"]),
                          "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                          "peak_what": "process max RSS", "max_abs_diff": diff}), flush=True)


if __name__ == "__main__":
    main()
