/* tokenizer.c — split a prompt into words and map them to vocabulary ids (train/model.py tokenize).
   Works on arbitrary bytes: anything that is not an ASCII letter, digit or apostrophe separates. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

#define MAX_WORD 255 /* vocabulary entries are at most 255 bytes: a longer word is always unknown */

static int word_char(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\''; }

/* Python's str.lower() maps two non-ASCII characters onto ASCII letters; match it so the engine
   splits exactly as model.py does. Returns the letter (0 if none), its byte length and whether the
   lower-cased form ends the word (U+0130 becomes "i" + a combining dot, which separates). */
static char unicode_lower_ascii(const unsigned char *s, int *len, int *ends_word) {
    if (s[0] == 0xE2 && s[1] == 0x84 && s[2] == 0xAA) { *len = 3; *ends_word = 0; return 'k'; } /* U+212A */
    if (s[0] == 0xC4 && s[1] == 0xB0) { *len = 2; *ends_word = 1; return 'i'; }                  /* U+0130 */
    return 0;
}

/* Orders words by length, then bytes: the order of kn_vocab.sorted. */
static int compare_words(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen != blen) return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

static int id_before(const kn_vocab *v, int a, int b) {
    return compare_words(v->words[a], strlen(v->words[a]), v->words[b], strlen(v->words[b])) < 0;
}

/* Bottom-up merge sort of ids 1..size-1 (qsort has no context argument for the word table). */
int kn_vocab_init(kn_vocab *v, char *const *words, int size) {
    size_t n = size > 1 ? (size_t)size - 1 : 0;
    v->words = words;
    v->size = size;
    v->sorted = malloc(sizeof(int) * (n ? n : 1));
    int *spare = malloc(sizeof(int) * (n ? n : 1));
    if (!v->sorted || !spare) {
        free(v->sorted);
        free(spare);
        v->sorted = NULL;
        return -1;
    }
    for (size_t i = 0; i < n; i++) v->sorted[i] = (int)i + 1;
    int *from = v->sorted, *to = spare;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) to[k++] = id_before(v, from[j], from[i]) ? from[j++] : from[i++];
            while (i < mid) to[k++] = from[i++];
            while (j < hi) to[k++] = from[j++];
        }
        int *t = from; from = to; to = t;
    }
    if (from != v->sorted) memcpy(v->sorted, from, sizeof(int) * n);
    free(spare);
    return 0;
}

void kn_vocab_free(kn_vocab *v) {
    free(v->sorted);
    v->sorted = NULL;
}

static int lookup(const char *word, size_t len, const kn_vocab *v) {
    int lo = 0, hi = v->size - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2, id = v->sorted[mid];
        int c = compare_words(v->words[id], strlen(v->words[id]), word, len);
        if (c == 0) return id;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static void append_unknown(char *unknown, size_t cap, size_t *at, const char *word, size_t len) {
    if (!unknown || cap == 0) return;
    size_t need = len + (*at ? 1 : 0);
    if (*at + need + 1 > cap) return; /* a buffer of strlen(text) + 1 always has room */
    if (*at) unknown[(*at)++] = ' ';
    memcpy(unknown + *at, word, len);
    *at += len;
    unknown[*at] = 0;
}

int kn_tokenize(const char *text, const kn_vocab *vocab, int *ids, int max_ids, char *unknown, size_t unknown_cap,
                int *n_words) {
    const unsigned char *s = (const unsigned char *)text;
    char word[MAX_WORD];
    size_t len = 0, unknown_at = 0;
    int known = 0, words = 0;
    if (unknown && unknown_cap) unknown[0] = 0;
    for (size_t i = 0;; i++) {
        unsigned char c = s[i];
        int bytes = 1, ends_word = 0;
        char lower = 0;
        if (c >= 'A' && c <= 'Z') lower = (char)(c - 'A' + 'a');
        else if (word_char(c)) lower = (char)c;
        else if (c >= 0xC0) lower = unicode_lower_ascii(s + i, &bytes, &ends_word);
        if (lower) {
            if (len < MAX_WORD) word[len] = lower;
            len++;
            i += (size_t)bytes - 1;
            if (!ends_word) continue;
        }
        if (len) { /* a word ends here */
            words++;
            int id = len > MAX_WORD ? -1 : lookup(word, len, vocab);
            if (id > 0) {
                if (known < max_ids) ids[known] = id;
                known++;
            } else {
                append_unknown(unknown, unknown_cap, &unknown_at, word, len > MAX_WORD ? MAX_WORD : len);
            }
            len = 0;
        }
        if (c == 0) break;
    }
    *n_words = words;
    return known;
}
