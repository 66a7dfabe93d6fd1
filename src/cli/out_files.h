/* out_files.h — the files one CLI run writes, as one transaction: every path is checked before the
   generation starts, every file is written in full to a temporary name in its own directory (each
   write, flush and close checked, then fsync), and only when all of them are whole are they renamed
   into place, with the termination signals held back. A run that fails or is interrupted removes
   its temporary files and the directory it created; the files it was to replace stay as they were.

   Rules for a final path that exists: without force, refused; with force, replaced only if it is a
   regular file (a directory, a device, a FIFO, a socket or a symbolic link is refused, so --force
   never replaces what is not a plain file, nor what a link points to). */
#ifndef KN_OUT_FILES_H
#define KN_OUT_FILES_H

#include <stddef.h>

typedef struct kn_out_files kn_out_files;

/* Plans the run's files: a frame directory (NULL for none) holding frame_000.png ... and a GIF path
   (NULL for none). Checks names, clashes, parent directories and existing files now, before any
   work. NULL on refusal, with the reason (naming the path) in why[why_cap]. */
kn_out_files *kn_out_plan(const char *frame_dir, int frames, const char *gif, int force, char *why, size_t why_cap);
void kn_out_free(kn_out_files *o);

/* Starts writing: holds back termination signals from now on, creates the frame directory if it
   is missing. 0 on success, else -1 with why. */
int kn_out_begin(kn_out_files *o, char *why, size_t why_cap);

/* File i (frames 0..frames-1, then the GIF) gets these bytes under a temporary name. 0 on success,
   else -1 with why naming the final path. If a termination signal arrived meanwhile, everything is
   undone and the signal then takes its default action (the process ends as killed by it). */
int kn_out_frame(kn_out_files *o, int frame, const void *bytes, size_t size, char *why, size_t why_cap);
int kn_out_gif(kn_out_files *o, const void *bytes, size_t size, char *why, size_t why_cap);

/* Renames every temporary file into place, then lets held-back signals through. 0 on success. */
int kn_out_commit(kn_out_files *o, char *why, size_t why_cap);

/* Removes the temporary files and the directory kn_out_begin created; lets signals through. */
void kn_out_abort(kn_out_files *o);

#endif
