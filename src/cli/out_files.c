/* out_files.c — see out_files.h. Temporary files are opened relative to their directory's file
   descriptor under a short fixed-length name (".kineto-" and 8 hex digits), so a temporary name fits
   wherever the final name fits, however long the path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "out_files.h"

#define TEMP_NAME_BYTES 24

typedef struct {
    char *path;               /* the final path, as the user gave it */
    const char *name;         /* its last component, inside path */
    int in_frame_dir;         /* opened relative to the frame directory, else the GIF's directory */
    char temp[TEMP_NAME_BYTES];
    int has_temp;
} out_file;

struct kn_out_files {
    char *frame_dir, *gif_dir; /* as given (trailing slashes dropped); gif_dir "." for a bare name */
    int frame_dir_fd, gif_dir_fd, frame_dir_created;
    out_file *files;          /* frames, then the GIF */
    int n_frames, n_files, n_slots;
    int holding;              /* termination signals are held back */
    sigset_t held, old_mask;
};

/* Signals whose default action ends the process; held back while files are written. */
static const int held_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGUSR1, SIGUSR2};
#define N_HELD_SIGNALS (int)(sizeof held_signals / sizeof held_signals[0])

static int refuse(char *why, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Splits path into its directory ("." for a bare name, "/" at the root) and last component. */
static char *parent_of(const char *path, const char **name) {
    const char *slash = strrchr(path, '/');
    *name = slash ? slash + 1 : path;
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int is_directory(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The rule for a final path that exists (see out_files.h). */
static int may_replace(const char *path, int force, char *why, size_t cap) {
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return 0;
        return refuse(why, cap, "%s: %s", path, strerror(errno));
    }
    if (!force) return refuse(why, cap, "%s exists; pass --force to overwrite it", path);
    if (S_ISLNK(sb.st_mode)) return refuse(why, cap, "%s is a symbolic link; --force replaces only regular files", path);
    if (S_ISDIR(sb.st_mode)) return refuse(why, cap, "%s is a directory; --force replaces only regular files", path);
    if (!S_ISREG(sb.st_mode))
        return refuse(why, cap, "%s is a device, FIFO or socket; --force replaces only regular files", path);
    return 0;
}

/* A name the directory can hold, in a directory that exists. */
static int check_name(const char *what, const char *path, const char *dir, const char *name, char *why, size_t cap) {
    if (!name[0]) return refuse(why, cap, "%s '%s' names no file", what, path);
    if (!strcmp(name, ".") || !strcmp(name, "..")) return refuse(why, cap, "%s '%s' names no file", what, path);
    if (strlen(name) > NAME_MAX) return refuse(why, cap, "%s: the name is longer than %d bytes", path, NAME_MAX);
    if (strlen(path) >= PATH_MAX) return refuse(why, cap, "%s: the path is longer than %d bytes", path, PATH_MAX - 1);
    if (!is_directory(dir)) return refuse(why, cap, "%s: directory %s does not exist", path, dir);
    return 0;
}

/* The absolute, link-free form of a path whose parent exists, for comparing paths. */
static char *canonical(const char *dir, const char *name) {
    char *real = realpath(dir, NULL);
    if (!real) return NULL;
    char *p = join(strcmp(real, "/") ? real : "", name);
    free(real);
    return p;
}

static char *trimmed(const char *path) {
    char *p = strdup(path);
    if (!p) return NULL;
    for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--) p[n - 1] = 0;
    return p;
}

kn_out_files *kn_out_plan(const char *frame_dir, int frames, const char *gif, int force, char *why, size_t cap) {
    kn_out_files *o = calloc(1, sizeof *o);
    int n_frames = frame_dir ? frames : 0;
    if (!o || !(o->files = calloc((size_t)n_frames + 1, sizeof *o->files))) {
        free(o);
        refuse(why, cap, "out of memory");
        return NULL;
    }
    o->n_slots = n_frames + 1;
    o->frame_dir_fd = o->gif_dir_fd = -1;
    char *frame_canon = NULL, *gif_canon = NULL;
    int ok = 0;
    if (frame_dir) {
        const char *name;
        if (!(o->frame_dir = trimmed(frame_dir))) goto out_of_memory;
        char *parent = parent_of(o->frame_dir, &name);
        if (!parent) goto out_of_memory;
        struct stat sb;
        int exists = lstat(o->frame_dir, &sb) == 0, fine = 0;
        if (exists && !is_directory(o->frame_dir)) refuse(why, cap, "%s is not a directory", o->frame_dir);
        else if (!exists && !strcmp(o->frame_dir, "/")) refuse(why, cap, "/ is not writable");
        else if (!exists && check_name("--out", o->frame_dir, parent, name, why, cap) != 0) {}
        else fine = 1;
        frame_canon = fine ? (exists ? realpath(o->frame_dir, NULL) : canonical(parent, name)) : NULL;
        free(parent);
        if (!fine) goto done;
        if (!frame_canon) { refuse(why, cap, "%s: %s", o->frame_dir, strerror(errno)); goto done; }
        for (int f = 0; f < n_frames; f++) {
            char name_buf[32];
            snprintf(name_buf, sizeof name_buf, "frame_%03d.png", f);
            out_file *file = &o->files[f];
            if (!(file->path = join(o->frame_dir, name_buf))) goto out_of_memory;
            file->name = file->path + strlen(o->frame_dir) + 1;
            file->in_frame_dir = 1;
            if (exists && may_replace(file->path, force, why, cap) != 0) goto done;
        }
    }
    o->n_frames = n_frames;
    o->n_files = n_frames;
    if (gif) {
        out_file *file = &o->files[o->n_files];
        const char *name;
        if (!(file->path = strdup(gif)) || !(o->gif_dir = parent_of(gif, &name))) goto out_of_memory;
        file->name = file->path + (name - gif);
        o->n_files++;
        if (!name[0]) { refuse(why, cap, "--gif '%s' names a directory, not a file", gif); goto done; }
        /* the GIF may go into the frame directory this run creates */
        int in_new_frame_dir = 0;
        if (frame_canon && !is_directory(o->frame_dir)) {
            char *parent_canon = NULL;
            const char *dname;
            char *dparent = parent_of(o->gif_dir, &dname);
            if (dparent && is_directory(dparent) && strlen(dname)) parent_canon = canonical(dparent, dname);
            free(dparent);
            in_new_frame_dir = parent_canon && !strcmp(parent_canon, frame_canon);
            free(parent_canon);
        }
        if (in_new_frame_dir) {
            file->in_frame_dir = 1;
            if (strlen(name) > NAME_MAX) { refuse(why, cap, "%s: the name is longer than %d bytes", gif, NAME_MAX); goto done; }
            gif_canon = join(frame_canon, name);
        } else {
            if (check_name("--gif", gif, o->gif_dir, name, why, cap) != 0) goto done;
            if (may_replace(gif, force, why, cap) != 0) goto done;
            gif_canon = canonical(o->gif_dir, name);
        }
        if (!gif_canon) { refuse(why, cap, "%s: %s", gif, strerror(errno)); goto done; }
        if (frame_canon && !strcmp(gif_canon, frame_canon)) {
            refuse(why, cap, "--gif %s and --out %s are the same path", gif, frame_dir);
            goto done;
        }
        size_t dir_len = frame_canon ? strlen(frame_canon) : 0;
        if (frame_canon && !strncmp(gif_canon, frame_canon, dir_len) && gif_canon[dir_len] == '/')
            for (int f = 0; f < n_frames; f++)
                if (!strcmp(gif_canon + dir_len + 1, o->files[f].name)) {
                    refuse(why, cap, "--gif %s is also frame %d of --out %s", gif, f, frame_dir);
                    goto done;
                }
    }
    ok = 1;
    goto done;
out_of_memory:
    refuse(why, cap, "out of memory");
done:
    free(frame_canon);
    free(gif_canon);
    if (!ok) {
        kn_out_free(o);
        return NULL;
    }
    return o;
}

void kn_out_free(kn_out_files *o) {
    if (!o) return;
    for (int i = 0; o->files && i < o->n_slots; i++) free(o->files[i].path);
    if (o->frame_dir_fd >= 0) close(o->frame_dir_fd);
    if (o->gif_dir_fd >= 0) close(o->gif_dir_fd);
    free(o->files);
    free(o->frame_dir);
    free(o->gif_dir);
    free(o);
}

static void let_signals_through(kn_out_files *o) {
    if (!o->holding) return;
    o->holding = 0;
    sigprocmask(SIG_SETMASK, &o->old_mask, NULL);
}

int kn_out_begin(kn_out_files *o, char *why, size_t cap) {
    sigemptyset(&o->held);
    for (int i = 0; i < N_HELD_SIGNALS; i++) sigaddset(&o->held, held_signals[i]);
    sigprocmask(SIG_BLOCK, &o->held, &o->old_mask);
    o->holding = 1;
    if (o->frame_dir) {
        if (mkdir(o->frame_dir, 0777) == 0) o->frame_dir_created = 1;
        else if (errno != EEXIST) return refuse(why, cap, "cannot create directory %s: %s", o->frame_dir, strerror(errno));
        o->frame_dir_fd = open(o->frame_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (o->frame_dir_fd < 0) return refuse(why, cap, "%s: %s", o->frame_dir, strerror(errno));
    }
    if (o->gif_dir && !(o->n_files > o->n_frames && o->files[o->n_frames].in_frame_dir)) {
        o->gif_dir_fd = open(o->gif_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (o->gif_dir_fd < 0) return refuse(why, cap, "%s: %s", o->gif_dir, strerror(errno));
    }
    return 0;
}

static int dir_fd_of(const kn_out_files *o, const out_file *file) {
    return file->in_frame_dir ? o->frame_dir_fd : o->gif_dir_fd;
}

/* The first held signal that is pending and not ignored, else 0. */
static int pending_signal(void) {
    sigset_t pending;
    if (sigpending(&pending) != 0) return 0;
    for (int i = 0; i < N_HELD_SIGNALS; i++) {
        struct sigaction sa;
        if (sigismember(&pending, held_signals[i]) && sigaction(held_signals[i], NULL, &sa) == 0 &&
            sa.sa_handler != SIG_IGN)
            return held_signals[i];
    }
    return 0;
}

/* A termination signal came while files were written: undo, then let it end the process. */
static void stop_if_signalled(kn_out_files *o) {
    if (pending_signal()) kn_out_abort(o); /* kn_out_abort lets the signal through; it does not return */
}

static int write_all(int fd, const uint8_t *p, size_t size) {
    while (size) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static int write_file(kn_out_files *o, out_file *file, const void *bytes, size_t size, char *why, size_t cap) {
    int dir_fd = dir_fd_of(o, file), fd = -1;
    static unsigned counter;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        unsigned tag = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL) ^ (++counter * 40503u);
        snprintf(file->temp, sizeof file->temp, ".kineto-%08x", tag);
        fd = openat(dir_fd, file->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) return refuse(why, cap, "%s: cannot create a temporary file: %s", file->path, strerror(errno));
    file->has_temp = 1;
    int err = 0;
    if (write_all(fd, bytes, size) != 0 || fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (err) {
        unlinkat(dir_fd, file->temp, 0);
        file->has_temp = 0;
        return refuse(why, cap, "%s: cannot write: %s", file->path, strerror(err));
    }
    return 0;
}

int kn_out_frame(kn_out_files *o, int frame, const void *bytes, size_t size, char *why, size_t cap) {
    int rc = frame >= 0 && frame < o->n_frames ? write_file(o, &o->files[frame], bytes, size, why, cap)
                                               : refuse(why, cap, "no frame %d in this run", frame);
    stop_if_signalled(o);
    return rc;
}

int kn_out_gif(kn_out_files *o, const void *bytes, size_t size, char *why, size_t cap) {
    int rc = o->n_files > o->n_frames ? write_file(o, &o->files[o->n_frames], bytes, size, why, cap)
                                      : refuse(why, cap, "no GIF in this run");
    stop_if_signalled(o);
    return rc;
}

int kn_out_commit(kn_out_files *o, char *why, size_t cap) {
    stop_if_signalled(o);
    /* what appeared at a final path since the plan (a FIFO, a link) is checked again */
    for (int i = 0; i < o->n_files; i++) {
        struct stat sb;
        if (!o->files[i].has_temp) return refuse(why, cap, "%s was not written", o->files[i].path);
        if (fstatat(dir_fd_of(o, &o->files[i]), o->files[i].name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(sb.st_mode))
            return refuse(why, cap, "%s is no longer a regular file; it was left as it is", o->files[i].path);
    }
    for (int i = 0; i < o->n_files; i++) {
        out_file *file = &o->files[i];
        int dir_fd = dir_fd_of(o, file);
        if (renameat(dir_fd, file->temp, dir_fd, file->name) != 0)
            return refuse(why, cap, "%s: cannot rename the temporary file into place: %s", file->path, strerror(errno));
        file->has_temp = 0;
    }
    /* the renames themselves reach the disk */
    if (o->frame_dir_fd >= 0) fsync(o->frame_dir_fd);
    if (o->gif_dir_fd >= 0) fsync(o->gif_dir_fd);
    o->frame_dir_created = 0; /* it now holds the run's files */
    let_signals_through(o);
    return 0;
}

void kn_out_abort(kn_out_files *o) {
    for (int i = 0; i < o->n_files; i++) {
        out_file *file = &o->files[i];
        if (file->has_temp) unlinkat(dir_fd_of(o, file), file->temp, 0);
        file->has_temp = 0;
    }
    if (o->frame_dir_created) rmdir(o->frame_dir);
    o->frame_dir_created = 0;
    let_signals_through(o);
}
