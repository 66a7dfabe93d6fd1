/* fuzz_weights.c — libFuzzer harness for the .kin loader (kineto_load_buffer).

   A random mutation almost never keeps the CRC-32 right, so the fuzzer would only ever reach the
   checksum gate. Built with -DKINETO_FUZZ_FIX_HEADER (as build.sh test_fuzz does), the harness
   rewrites file_size and the CRC of each input before loading it, so the parser behind the checksum
   (hyperparameters, vocabulary, tensor table, tensor data) is what gets fuzzed. The loader itself
   is unchanged: without the flag, this is the raw file as a browser would hand it over. */
#include <stdlib.h>
#include <string.h>

#include "kineto.h"
#include "weights.h"

static void quiet(int level, const char *msg, void *user) { (void)level; (void)msg; (void)user; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) { kineto_set_log(quiet, NULL); ready = 1; }
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
#ifdef KINETO_FUZZ_FIX_HEADER
    if (size >= 24) {
        uint64_t n = size;
        for (int i = 0; i < 8; i++) buf[8 + i] = (uint8_t)(n >> (8 * i));
        uint32_t crc = kn_crc32(buf + 24, size - 24);
        for (int i = 0; i < 4; i++) buf[16 + i] = (uint8_t)(crc >> (8 * i));
    }
#endif
    kineto_status st = KINETO_ERR_STATE;
    kineto_ctx *ctx = kineto_load_buffer(buf, size, &st);
    /* every refusal names its reason; a success is a usable model */
    if (!ctx && (st == KINETO_OK || kineto_last_error()[0] == 0)) __builtin_trap();
    if (ctx) {
        kineto_info in = kineto_model_info(ctx);
        if (st != KINETO_OK || in.frames < 1 || in.vocab_size < 2 || !kineto_vocab_word(ctx, in.vocab_size - 1))
            __builtin_trap();
        kineto_free(ctx);
    }
    free(buf);
    return 0;
}
