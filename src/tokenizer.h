/* tokenizer.h — prompt text to vocabulary ids, as train/model.py's split_words and tokenize. */
#ifndef KN_TOKENIZER_H
#define KN_TOKENIZER_H

#include <stddef.h>

/* Splits text into lower-case words (runs of a-z, 0-9 and '; every other byte separates) and looks
   each up in vocab (vocab[0] = "<null>" never matches). Writes up to max_ids known ids to ids and
   appends unknown words, space-separated, to unknown (capacity unknown_cap, NUL-terminated; an
   unknown buffer of strlen(text) + 1 bytes always suffices). Returns the number of known words (which
   may exceed max_ids: the caller reports that), and *n_words the number of all words. */
int kn_tokenize(const char *text, char *const *vocab, int vocab_size, int *ids, int max_ids, char *unknown,
                size_t unknown_cap, int *n_words);

#endif
