/* test_tokenizer.c — the tokenizer's vocabulary index against a plain scan: every word of a large
   vocabulary is found at its id, words that differ by a byte or a length are not, and a prompt at the
   byte cap of a 65,536-word vocabulary tokenizes to the ids the scan gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "tokenizer.h"

#define WORDS 65536

static int scan(char *const *words, int n, const char *word) {
    for (int i = 1; i < n; i++)
        if (!strcmp(words[i], word)) return i;
    return -1;
}

static char *copy(const char *s) {
    char *p = malloc(strlen(s) + 1);
    return p ? strcpy(p, s) : NULL;
}

/* Distinct words: 1 to 8 random letters, then the id in decimal (the trailing digits are exactly
   the id, so no two words are equal); word 0 = "<null>". */
static char **make_words(int n) {
    char **words = calloc((size_t)n, sizeof *words);
    unsigned s = 12345;
    words[0] = copy("<null>");
    for (int i = 1; i < n; i++) {
        char w[32];
        int len = 1 + i % 8, at = 0;
        for (int k = 0; k < len; k++) {
            s = s * 1103515245u + 12345u;
            w[at++] = (char)('a' + (s >> 16) % 26);
        }
        snprintf(w + at, sizeof w - (size_t)at, "%d", i);
        words[i] = copy(w);
    }
    return words;
}

int main(void) {
    char **words = make_words(WORDS);
    kn_vocab v;
    check(kn_vocab_init(&v, words, WORDS) == 0, "index of 65,536 words");

    int found = 1;
    for (int i = 1; i < WORDS && found; i++) {
        int ids[1], n_words;
        found = kn_tokenize(words[i], &v, ids, 1, NULL, 0, &n_words) == 1 && ids[0] == i;
    }
    check(found, "every word is found at its own id");

    int absent = 1;
    for (int i = 1; i < WORDS && absent; i += 97) {
        char w[32];
        snprintf(w, sizeof w, "%s0", words[i]); /* one digit longer: often another word's id */
        int ids[1], n_words, want = scan(words, WORDS, w);
        int got = kn_tokenize(w, &v, ids, 1, NULL, 0, &n_words);
        absent = want < 0 ? got == 0 : got == 1 && ids[0] == want;
    }
    check(absent, "a longer word is found only if it is in the vocabulary");

    /* A prompt at the byte cap of words and non-words: the same ids as the scan, in order. */
    char prompt[4097];
    int at = 0, want_ids[4096], n_want = 0;
    for (int i = 1; at < 4000; i = (i * 7919) % WORDS + 1) {
        const char *w = (i % 3) ? words[i] : "zzzzzzzzzzzzzzzzzz";
        int id = scan(words, WORDS, w);
        at += snprintf(prompt + at, sizeof prompt - (size_t)at, "%s ", w);
        if (id > 0) want_ids[n_want++] = id;
    }
    int *ids = malloc(sizeof(int) * 4096), n_words = 0;
    int n = kn_tokenize(prompt, &v, ids, 4096, NULL, 0, &n_words);
    check(n == n_want && !memcmp(ids, want_ids, sizeof(int) * (size_t)n), "a 4 KB prompt gives the scan's ids");

    free(ids);
    kn_vocab_free(&v);
    for (int i = 0; i < WORDS; i++) free(words[i]);
    free(words);
    return check_exit();
}
