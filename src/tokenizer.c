/* tokenizer.c — split a prompt into words and map them to vocabulary ids (train/model.py tokenize).
   Works on arbitrary bytes: anything that is not an ASCII letter, digit or apostrophe separates. */
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

static int lookup(const char *word, size_t len, char *const *vocab, int vocab_size) {
    for (int i = 1; i < vocab_size; i++)
        if (strlen(vocab[i]) == len && !memcmp(vocab[i], word, len)) return i;
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

int kn_tokenize(const char *text, char *const *vocab, int vocab_size, int *ids, int max_ids, char *unknown,
                size_t unknown_cap, int *n_words) {
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
            int id = len > MAX_WORD ? -1 : lookup(word, len, vocab, vocab_size);
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
