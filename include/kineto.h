/* kineto.h — Kineto's C API: a latent video diffusion engine that turns a prompt into a short clip.

   One opaque context holds a loaded model; a generation runs step by step so that a caller (a web
   worker, a CLI) can report progress, show previews and cancel between steps:

       kineto_status st;
       kineto_ctx *ctx = kineto_load_file("weights/kineto-world.kin", &st);
       kineto_params p = kineto_default_params();
       p.prompt = "a red ball moving left on black";
       st = kineto_begin(ctx, &p);                       // tokenize, plan buffers, draw noise
       while (st == KINETO_OK && !kineto_done(ctx)) st = kineto_step(ctx);
       st = kineto_decode(ctx, rgba, rgba_size);          // frames * height * width * 4 bytes
       kineto_end(ctx);                                   // release the generation's buffers
       kineto_free(ctx);

   ==== Weights file format, version 4 (".kin"); all integers little-endian ====

   offset size  field
   0      4     magic "KNTO"
   4      4     u32 version = 4 (versions 1 to 3 are read too, see below)
   8      8     u64 file_size: the whole file, in bytes
   16     4     u32 crc32 (IEEE 802.3, as zlib's crc32) of bytes [24, file_size)
   20     4     u32 n_tensors, 1..4096
   24     112   hyperparameters: the fields of KINETO_HPARAMS below, each 4 bytes at its offset
   136    4     u32 vocab_bytes: size of the vocabulary section, a multiple of 4
   140    ...   vocabulary: vocab_size entries of (u8 length, length bytes of lower-case ASCII),
                then zero bytes up to vocab_bytes. Entry 0 is "<null>", the learned null prompt;
                the others are distinct words of a-z, 0-9 and '.
   140+vocab_bytes  tensor table: n_tensors entries of 88 bytes each:
                  char name[48]   NUL-padded, e.g. "denoiser.blocks.0.attn.qkv.weight"
                  u32  dtype      0 = f32, 1 = f16 (IEEE half)
                  u32  ndim       1..4
                  u32  shape[4]   PyTorch order (outermost first); unused dims are 1
                  u64  offset     from the start of the file, a multiple of 32
                  u64  nbytes     = product(shape) * dtype size
   then the tensor data, each tensor at its offset; bytes between tensors are zero.

   Version 3 ends the hyperparameters at enc_levels: vocab_bytes lies at 132 and the vocabulary at
   136; its clean_context is 0. Versions 1 and 2 end them at default_renoise: vocab_bytes lies at 120
   and the vocabulary at 124. They hold a 3-level VAE (vae_levels 3, enc_levels 3, vae_ch3 0). Version 1 had
   no default_renoise: its first files hold zero there (padding), which reads as renoise 0, the Euler
   steps they were made for; later version-1 files wrote default_renoise into it, and keep it.

   The VAE decoder has vae_levels levels (widths vae_ch0.. at 1/1, 1/2, 1/4, 1/8 of the frame), so
   latent_h = height / 2^(vae_levels-1). The encoder, optional, has the decoder's last enc_levels
   widths and reads frames of latent size * 2^(enc_levels-1) (64x64 for a 128x128 decoder over the
   latents of a x4 encoder).

   clean_context says how the frames a window is given (a long clip's earlier frames, a start image,
   a loop's first frames) enter the denoiser: 0, at every step as their own starting noise mixed to
   the step's time; 1, clean at time 0, each frame with its own time (a model trained so).

   Tensor names and shapes are those of train/model.py's state dict (text.*, denoiser.*, vae_dec.*,
   preview.*, and vae_enc.* when the file holds the encoder); Linear weights are (out, in), Conv2d
   weights (out, in, kh, kw). The loader checks
   magic, version, size, checksum, every hyperparameter, the vocabulary, and the presence, dtype and
   shape of every tensor it needs, and names the first one that is wrong.
*/
#ifndef KINETO_H
#define KINETO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KINETO_FORMAT_VERSION 4     /* the version written */
#define KINETO_FORMAT_VERSION_MIN 1 /* the oldest version read */

/* The hyperparameters, bytes 24..136 of the header (24..132 in version 3, 24..120 before), as X(name, offset, type, min, max):
   u32 and f32 fields lie in [min, max], f32_above ones in (min, max]. This list is the format:
   src/weights.c parses and checks the fields from it, and train/export.py reads it from this file
   to write them. */
#define KINETO_HPARAMS(X) \
    X(frames,            24, u32,       1, 256)   /* of the clip the model makes */ \
    X(height,            28, u32,       4, 1024)  /* pixels, a multiple of the VAE's factor 2^(vae_levels-1) */ \
    X(width,             32, u32,       4, 1024) \
    X(fps,               36, u32,       1, 120) \
    X(latent_channels,   40, u32,       1, 64) \
    X(vae_ch0,           44, u32,       1, 1024)  /* decoder widths at 1/1, 1/2, 1/4 resolution (vae_ch3 at 1/8) */ \
    X(vae_ch1,           48, u32,       1, 1024) \
    X(vae_ch2,           52, u32,       1, 1024) \
    X(vae_groups,        56, u32,       1, 1024)  /* GroupNorm groups; divides every vae_ch */ \
    X(vocab_size,        60, u32,       2, 65536) /* words, "<null>" included */ \
    X(max_tokens,        64, u32,       1, 1024) \
    X(text_dim,          68, u32,       1, 4096) \
    X(text_layers,       72, u32,       0, 64) \
    X(text_heads,        76, u32,       1, 64) \
    X(patch,             80, u32,       1, 16)    /* latent patch side; divides the latent's height and width */ \
    X(dim,               84, u32,       2, 4096)  /* even, a multiple of heads */ \
    X(depth,             88, u32,       1, 256) \
    X(heads,             92, u32,       1, 64) \
    X(mlp_ratio,         96, u32,       1, 16) \
    X(latent_scale,     100, f32_above, 0, 1e6)   /* diffusion latent = VAE mean * latent_scale */ \
    X(norm_eps,         104, f32_above, 0, 1)     /* every LayerNorm and GroupNorm */ \
    X(default_steps,    108, u32,       1, KINETO_MAX_STEPS) \
    X(default_guidance, 112, f32,       0, KINETO_MAX_GUIDANCE) \
    X(default_renoise,  116, f32,       0, 1)     /* since version 2; see version 1 above */ \
    X(vae_ch3,          120, u32,       0, 1024)  /* since version 3: decoder width at 1/8; 0 with 3 levels */ \
    X(vae_levels,       124, u32,       3, 4)     /* since version 3 (before: 3) */ \
    X(enc_levels,       128, u32,       3, 4)     /* since version 3 (before: 3); at most vae_levels */ \
    X(clean_context,    132, u32,       0, 1)     /* since version 4 (before: 0); see above */

typedef enum {
    KINETO_OK = 0,
    KINETO_ERR_ARG,             /* a NULL pointer or a buffer too small */
    KINETO_ERR_IO,              /* the weights file could not be opened or read */
    KINETO_ERR_NOMEM,           /* an allocation failed */
    KINETO_ERR_MAGIC,           /* not a Kineto weights file */
    KINETO_ERR_VERSION,         /* a format version this build does not read */
    KINETO_ERR_TRUNCATED,       /* the buffer is shorter than the file says, or a section overruns it */
    KINETO_ERR_CHECKSUM,        /* the CRC-32 does not match: the file is corrupt */
    KINETO_ERR_HPARAMS,         /* a hyperparameter is out of range or inconsistent */
    KINETO_ERR_TENSOR_MISSING,  /* a tensor the model needs is absent */
    KINETO_ERR_TENSOR_SHAPE,    /* a tensor has the wrong dtype, shape or offset */
    KINETO_ERR_PROMPT_EMPTY,    /* the prompt has no words */
    KINETO_ERR_PROMPT_TOO_LONG, /* the prompt has more known words than the model's max_tokens */
    KINETO_ERR_PROMPT_UNKNOWN,  /* none of the prompt's words is in the vocabulary */
    KINETO_ERR_PARAM,           /* steps, guidance, renoise, frames, shots, overlap or seamless out of range,
                                   or an image start of fewer than 2 frames */
    KINETO_ERR_STATE,           /* a call out of order, e.g. kineto_step before kineto_begin */
    KINETO_ERR_NO_ENCODER,      /* an image start with weights that hold no VAE encoder */
    KINETO_ERR_IMAGE,           /* the start image is NULL, empty or larger than KINETO_MAX_IMAGE_SIDE */
} kineto_status;

/* A short fixed description of a status, e.g. "checksum mismatch". Never NULL. */
const char *kineto_status_str(kineto_status st);

/* The detailed message of the last failure on this thread (naming the field, tensor or word),
   e.g. "tensor 'denoiser.blocks.3.attn.qkv.weight': shape (384, 128) expected (384, 64)". */
const char *kineto_last_error(void);

/* Log callback: level 0 = info, 1 = warning, 2 = error. Process-wide; NULL restores the default
   (print warnings and errors to stderr). */
typedef void (*kineto_log_fn)(int level, const char *msg, void *user_data);
void kineto_set_log(kineto_log_fn fn, void *user_data);

/* ==== Threads ====
   A context is used by one thread at a time: calls on one context are not synchronised. Different
   contexts may be used from different threads at once, and each gives the bytes it would give alone.
   Process-wide, shared by every context:
   - the kernels' worker pool. One generation's loops run on it at a time; the loops of another
     generating thread meanwhile run on that thread alone (slower, same bytes). The pool's size is
     the `threads` of the latest kineto_begin, whichever context it was on.
   - the log callback. kineto_set_log may be called from any thread at any time. The callback runs
     on the thread that logs, possibly on several threads at once, so it must be thread-safe; a
     message logged while kineto_set_log runs may still reach the previous callback.
   kineto_last_error() is per thread. tests/engine/test_api.c holds these rules (two contexts on two
   threads, the callback changed meanwhile), also under ThreadSanitizer. */

typedef struct kineto_ctx kineto_ctx;

/* Load a model from a file (native) or a buffer (browser; the buffer is copied, the caller keeps
   ownership). On failure they return NULL, set *status and the message of kineto_last_error(). */
kineto_ctx *kineto_load_file(const char *path, kineto_status *status);
kineto_ctx *kineto_load_buffer(const void *data, size_t size, kineto_status *status);
void kineto_free(kineto_ctx *ctx);

typedef struct {
    int frames, height, width, fps;   /* the clip the model makes by default */
    int latent_channels, latent_h, latent_w;
    int vocab_size, max_tokens;
    int default_steps;
    float default_guidance;
    float default_renoise;
    int64_t n_params;                 /* parameters the engine loaded */
    int has_encoder;                  /* 1: the weights hold the VAE encoder, so a clip can start from an image */
    int encoder_width, encoder_height; /* the size an image is scaled to for the encoder (0 without one) */
    int clean_context;                /* 1: given frames enter the denoiser clean, at time 0 (format, above) */
} kineto_info;
kineto_info kineto_model_info(const kineto_ctx *ctx);

/* Vocabulary word i (1 <= i < vocab_size), or NULL out of range; word 0 is "<null>". */
const char *kineto_vocab_word(const kineto_ctx *ctx, int i);

/* One shot of a storyboard: its prompt and its length. */
typedef struct {
    const char *prompt;           /* required: words from the vocabulary */
    int frames;                   /* 1..KINETO_MAX_FRAMES */
} kineto_shot;

typedef struct {
    const char *prompt;           /* the prompt of a one-shot clip (n_shots 0): words from the vocabulary */
    const char *negative_prompt;  /* NULL or "" = the learned null prompt */
    uint64_t seed;                /* any value; same seed, same clip */
    int steps;                    /* 1..KINETO_MAX_STEPS per window; 0 = the model's default */
    float guidance;               /* classifier-free guidance, 0..KINETO_MAX_GUIDANCE; 1 = off;
                                     KINETO_GUIDANCE_DEFAULT = the model's default */
    int frames;                   /* 1..KINETO_MAX_FRAMES; 0 = the model's window (kineto_info.frames),
                                     or with shots their sum. Past the window the clip is made window
                                     by window (see "Long clips" below) */
    int threads;                  /* worker threads; 0 = as many as the build allows (max 8) */
    int temporal_attention;       /* 1 = on; 0 skips temporal blocks (for ablations) */
    float renoise;                /* 0..1: how much of each step's noise estimate eps is replaced by
                                     fresh noise n drawn from the seed (sqrt(1 - r^2) eps + r n), so
                                     the same seed still gives the same clip; 0 = Euler steps;
                                     KINETO_RENOISE_DEFAULT = the model's default */
    const kineto_shot *shots;     /* a storyboard: n_shots shots in order, `prompt` then unused;
                                     NULL with n_shots 0 = one shot of `prompt` */
    int n_shots;                  /* 0..KINETO_MAX_SHOTS */
    int overlap;                  /* known frames each window starts from, 1..window-1;
                                     0 = the default, half the window (8 of 16) */
    int seamless;                 /* 1 = the last frame leads into the first (a loop); needs >= 2 frames */
    const uint8_t *image;         /* NULL, or the clip's first frame: image_height rows of image_width
                                     RGBA8 pixels (see "Image start" below); needs the VAE encoder */
    int image_width, image_height; /* 1..KINETO_MAX_IMAGE_SIDE each, with image */
} kineto_params;
#define KINETO_MAX_STEPS 200
#define KINETO_MAX_PROMPT_BYTES 4096 /* each of prompt and negative_prompt, in UTF-8 bytes */
#define KINETO_MAX_GUIDANCE 30.0f
#define KINETO_GUIDANCE_DEFAULT (-1.0f)
#define KINETO_RENOISE_DEFAULT (-1.0f)
#define KINETO_MAX_FRAMES 256        /* of a clip, all shots together */
#define KINETO_MAX_SHOTS 64
#define KINETO_MAX_IMAGE_SIDE 8192   /* pixels, each side of a start image */

/* ==== Long clips, storyboards and loops ====
   A clip longer than the model's window W (kineto_info.frames) is made in windows of W frames. The
   first makes frames 0..W-1; each later one starts with `overlap` known frames, the final frames
   before it, which are held to their latents (noised to each step's time) while it makes the next
   W - overlap, so the object carries on. Windows split at shot boundaries: each is conditioned on the
   prompt of its shot, and the first window of a shot knows the previous shot's last frames. A
   seamless clip adds one window over its last frames (4 of 16) that knows the `overlap` frames before
   them and the clip's first overlap/2 frames after them.
   Every window runs `steps` steps: kineto_steps_total counts them all. Each window has its own noise,
   drawn from the seed, so the same parameters give the same bytes. A clip of at most W frames, one
   shot, not seamless, is made exactly as before. Memory grows with the clip's frames (their latents),
   not with its windows.

   ==== Image start ====
   With `image`, the clip's first frame is that image and the rest move on from it. The engine
   composites the image over black (each colour times alpha / 255), resizes it to the encoder's input
   (kineto_info.encoder_width x encoder_height; an area average where it shrinks, bilinear where it
   grows, per axis), encodes it with the VAE encoder (the latent's mean times latent_scale) and holds
   frame 0 to that latent as a known frame in every window that holds it, as a long clip's overlap.
   Frame 0 decodes to the autoencoder's reconstruction of the image. The same image and parameters give
   the same bytes natively and in WebAssembly. Needs at least 2 frames; weights without the encoder
   give KINETO_ERR_NO_ENCODER, an image NULL, 0 or over KINETO_MAX_IMAGE_SIDE on a side KINETO_ERR_IMAGE. */
kineto_params kineto_default_params(void);

/* Start a generation: tokenize the prompts, plan every buffer, draw the noise. Unknown words are
   left out of the condition and listed by kineto_unknown_words(); a prompt with no known word fails.
   A generation already running is ended first. */
kineto_status kineto_begin(kineto_ctx *ctx, const kineto_params *params);

/* Unknown words of the last kineto_begin, separated by single spaces ("" when none). */
const char *kineto_unknown_words(const kineto_ctx *ctx);

/* Run one denoising step (conditional and, with guidance != 1, unconditional pass). */
kineto_status kineto_step(kineto_ctx *ctx);
int kineto_steps_done(const kineto_ctx *ctx);
int kineto_steps_total(const kineto_ctx *ctx);
int kineto_done(const kineto_ctx *ctx);   /* 1 when every step has run */
int kineto_frames(const kineto_ctx *ctx); /* frames of the current generation's clip */
/* Frames 0..kineto_frames_ready()-1 are final: later steps leave them as they are, so a caller may
   decode (kineto_decode_range) and show them while the rest is made. kineto_frames() once done. */
int kineto_frames_ready(const kineto_ctx *ctx);

/* Cheap preview of the current clean-clip estimate (a linear latent->RGB map, upscaled with nearest
   neighbours): frames * height * width * 4 RGBA bytes. Valid after kineto_begin. Frames whose window
   has not started yet show a zero latent. */
kineto_status kineto_preview(kineto_ctx *ctx, uint8_t *rgba, size_t size);

/* Full VAE decode of the current clean-clip estimate (the final clip once kineto_done): same layout. */
kineto_status kineto_decode(kineto_ctx *ctx, uint8_t *rgba, size_t size);

/* Full VAE decode of frames first..first+count-1 only (count * height * width * 4 bytes), e.g. the
   frames ready so far; 1 <= count, first + count <= kineto_frames(). */
kineto_status kineto_decode_range(kineto_ctx *ctx, int first, int count, uint8_t *rgba, size_t size);

/* End the generation, finished or not (cancelling it), and release its buffers. Always safe. */
void kineto_end(kineto_ctx *ctx);

/* Bytes the current generation planned at kineto_begin (also logged), 0 when idle. */
size_t kineto_generation_bytes(const kineto_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* KINETO_H */
