/* tokenizer.h — prompt text to vocabulary ids, as train/model.py's split_words and tokenize. */
#ifndef KN_TOKENIZER_H
#define KN_TOKENIZER_H

#include <stddef.h>

/* The vocabulary with an index sorted by (length, bytes), so a word is found by binary search:
   a long prompt against a large vocabulary costs O(words * log vocab), not O(words * vocab). */
typedef struct {
    char *const *words; /* words[0] = "<null>", which never matches a prompt word */
    int size;
    int *sorted;        /* ids 1..size-1 in (length, bytes) order */
} kn_vocab;

/* 0 on success, -1 when out of memory. The words stay owned by the caller. */
int kn_vocab_init(kn_vocab *v, char *const *words, int size);
void kn_vocab_free(kn_vocab *v);

/* Splits text into lower-case words (runs of a-z, 0-9 and '; every other byte separates) and looks
   each up in vocab. Writes up to max_ids known ids to ids and appends unknown words, space-separated,
   to unknown (capacity unknown_cap, NUL-terminated; an unknown buffer of strlen(text) + 1 bytes
   always suffices). Returns the number of known words (which may exceed max_ids: the caller reports
   that), and *n_words the number of all words. */
int kn_tokenize(const char *text, const kn_vocab *vocab, int *ids, int max_ids, char *unknown, size_t unknown_cap,
                int *n_words);

#endif
