"""Train the VAE encoder and decoder of exported weights further, together.

Stage 1 trains the autoencoder for only 900 steps, and its encoder loses the outline of a small shape
that turns, grows or shrinks. Training both halves longer keeps more of it, but it moves the latent
space, so the weights this writes need a denoiser retrained on the new latents (`train.py --init`
with both files re-caches them): on its own, the new decoder reads the old denoiser's latents worse.
Two things keep that retraining short: the new latents are rescaled to the old ones' spread, so each
noise level means what it meant to the denoiser, and the latent preview map is refit. Frames, loss
and KL weight are stage 1's (tune_decoder.frame_set, weighted_mse).

Usage (resumes from --run; --out and --encoder-out are rewritten at every checkpoint):
  /usr/bin/python3 train/tune_autoencoder.py --init weights/kineto-world.kin weights/kineto-world-encoder.kin \\
      --run train/runs/ae --minutes 30 --clips 2000 --hard-share 0.5 --out next.kin --encoder-out next-encoder.kin
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import export_encoder, export_model, model_from_kin  # noqa: E402
from train import VOCAB, fit_preview, log, use_all_cores  # noqa: E402
from tune_decoder import frame_set, psnr, tune, tuning_args, weighted_mse  # noqa: E402

SPREAD_FRAMES = 4096  # training frames whose latents set the new scale


@torch.no_grad()
def latent_spread(encoder, frames, device):
    """Std of the encoder's latent means over uint8 frames (N, 3, H, W)."""
    z = torch.cat([encoder(f.to(device).float() / 127.5 - 1)[0] for f in frames.split(256)])
    return z.std().item()


def main():
    p = tuning_args(__doc__, minutes=30.0, clips=2000, batch=32, hard_share=0.5, seed=781)
    p.add_argument("--encoder-out", required=True, help="the encoder file to write")
    p.add_argument("--kl", type=float, default=1e-5, help="KL weight (stage 1's)")
    a = p.parse_args()

    use_all_cores()
    torch.manual_seed(0)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model_from_kin(a.init, VOCAB).eval()
    t0 = time.time()
    frames, masks = frame_set(model, a.clips, a.seed, False, a.workers, a.hard_share, encode=False)[:2]
    held = frame_set(model, 64, 99, True, a.workers, encode=False)[:2]
    load_time = time.time() - t0
    model.to(dev)
    old_scale = model.cfg.latent_scale
    old_spread = latent_spread(model.vae_enc, frames[:SPREAD_FRAMES], dev)
    enc, dec = model.vae_enc.train(), model.vae_dec.train()
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    state = {"seconds": 0.0, "step": 0, "old_scale": old_scale, "old_spread": old_spread}
    os.makedirs(a.run, exist_ok=True)
    ckpt = os.path.join(a.run, "autoencoder.pt")
    if os.path.exists(ckpt):  # the scale and spread are the first start's
        blob = torch.load(ckpt, map_location=dev, weights_only=False)
        enc.load_state_dict(blob["encoder"])
        dec.load_state_dict(blob["decoder"])
        opt.load_state_dict(blob["opt"])
        state = blob["state"]
        old_scale, old_spread = state["old_scale"], state["old_spread"]
        log("resumed at step %d (%.1f min)" % (state["step"], state["seconds"] / 60))

    @torch.no_grad()
    def held_out_psnr():
        enc.eval(), dec.eval()
        mean = torch.cat([enc(f.to(dev).float() / 127.5 - 1)[0] for f in held[0].split(256)])
        out = psnr(dec, (held[0].to(dev), held[1].to(dev), mean))
        enc.train(), dec.train()
        return out

    log("%d training frames, %d held-out in %.0f s; held-out PSNR %.2f dB (objects %.2f dB)"
        % (len(frames), len(held[0]), load_time, *held_out_psnr()))

    def save():
        torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(), "opt": opt.state_dict(),
                    "state": state}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        spread = latent_spread(enc, frames[:SPREAD_FRAMES], dev)
        model.cfg.latent_scale = old_scale * old_spread / spread
        enc.eval()
        fit_preview(model, frames[:256].to(dev).float() / 127.5 - 1)
        enc.train()
        export_model(model, VOCAB, a.out)
        export_encoder(model, VOCAB, a.encoder_out)
        log("step %d: held-out PSNR %.2f dB (objects %.2f dB), latent spread %.4f -> %.4f, scale %.4f; wrote %s, %s"
            % (state["step"], *held_out_psnr(), old_spread, spread, model.cfg.latent_scale, a.out, a.encoder_out))

    def batch_loss(rng):
        idx = torch.randint(len(frames), (a.batch,), generator=rng)
        x = frames[idx].to(dev).float() / 127.5 - 1
        mean, logvar = enc(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=rng).to(dev)
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        return weighted_mse(dec(z), x, masks[idx].to(dev).float()) + a.kl * kl

    tune(opt, params, state, a, 2000, batch_loss, save)


if __name__ == "__main__":
    main()
