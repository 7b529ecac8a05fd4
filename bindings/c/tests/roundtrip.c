/* The C ABI end to end, built and run by .ci/run:
 *   roundtrip CLIP.wav
 * compresses CLIP at every level and decompresses it, streams it through Lyra and Opus
 * live encoders and decoders, plays compressed files through the player (blocks, a seek, a
 * queue joined sample for sample, time to first audio), and checks that bad input gives an
 * error code and a message.
 * Prints what it did; exits non-zero on the first failure. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encodec.h"

static int failures = 0;

#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, " (%s)\n", encodec_last_error_message()); \
      failures++;                                          \
      return;                                              \
    }                                                      \
  } while (0)

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc((size_t)size);
  *len = fread(data, 1, (size_t)size, f);
  fclose(f);
  return data;
}

/* Compresses `clip` at a level and decodes the result. */
static void level_round_trip(const unsigned char *clip, size_t clip_len, const char *level,
                             const char *codec, double seconds) {
  EncodecCompressor *compressor = NULL;
  EncodecStatus status = encodec_compressor_new(level, codec, 0.0f, 1024, NULL, &compressor);
  CHECK(status == ENCODEC_STATUS_OK, "compressor_new(%s) gave %d", level, status);

  CHECK(encodec_should_compress(compressor, 1024) && !encodec_should_compress(compressor, 1023),
        "should_compress at the 1024-byte minimum");
  EncodecBytes packed = {0}, metadata = {0};
  status = encodec_compress(compressor, clip, clip_len, &packed, &metadata);
  CHECK(status == ENCODEC_STATUS_OK, "compress at %s gave %d", level, status);
  CHECK(packed.len > 0 && metadata.len > 0, "empty output at %s", level);

  EncodecPcm pcm = {0};
  status = encodec_decompress(compressor, packed.data, packed.len, &pcm);
  CHECK(status == ENCODEC_STATUS_OK, "decompress at %s gave %d", level, status);
  double decoded = (double)pcm.frames / pcm.sample_rate;
  CHECK(pcm.channels >= 1 && decoded > seconds - 0.1 && decoded < seconds + 0.1,
        "%s decoded %.3f s, expected %.3f", level, decoded, seconds);

  printf("%-9s %-5s %7zu -> %6zu bytes, decoded %zu frames x %u ch at %u Hz; %.*s\n", level,
         codec ? codec : "-", clip_len, packed.len, pcm.frames, pcm.channels, pcm.sample_rate,
         (int)metadata.len, (const char *)metadata.data);

  EncodecBytes stats = {0};
  status = encodec_compressor_stats_json(compressor, &stats);
  CHECK(status == ENCODEC_STATUS_OK && stats.len > 0 && memchr(stats.data, '{', stats.len),
        "stats at %s", level);

  encodec_bytes_free(&stats);
  encodec_pcm_free(&pcm);
  CHECK(pcm.samples == NULL && pcm.frames == 0, "pcm_free did not empty the buffer");
  encodec_bytes_free(&packed);
  encodec_bytes_free(&metadata);
  encodec_compressor_free(compressor);
}

/* Streams the clip's decoded PCM through a live encoder 20 ms at a time, and the bytes through
 * a live decoder in 7-byte pieces. */
static void live_round_trip(const unsigned char *clip, size_t clip_len, const char *codec) {
  EncodecCompressor *reader = NULL;
  CHECK(encodec_compressor_new("off", NULL, 0.0f, 0, NULL, &reader) == ENCODEC_STATUS_OK, "reader");
  EncodecPcm source = {0};
  CHECK(encodec_decompress(reader, clip, clip_len, &source) == ENCODEC_STATUS_OK, "read clip");

  EncodecStreamEncoder *encoder = NULL;
  EncodecStatus status =
      encodec_stream_encoder_new(codec, 0.0f, source.sample_rate, source.channels, &encoder);
  CHECK(status == ENCODEC_STATUS_OK, "stream_encoder_new(%s) gave %d", codec, status);
  size_t chunk = source.sample_rate / 50, total = 0, messages = 0;
  unsigned char *stream = NULL;
  for (size_t at = 0; at < source.frames + chunk; at += chunk) {
    size_t frames = source.frames - at < chunk ? source.frames - at : chunk;
    EncodecBytes bytes = {0};
    if (at < source.frames) {
      status = encodec_stream_encoder_push(encoder, source.samples + at * source.channels, frames,
                                           source.channels, &bytes);
    } else {
      status = encodec_stream_encoder_finish(encoder, &bytes);
    }
    CHECK(status == ENCODEC_STATUS_OK, "stream push gave %d", status);
    if (bytes.len > 0) {
      stream = realloc(stream, total + bytes.len);
      memcpy(stream + total, bytes.data, bytes.len);
      total += bytes.len;
      messages++;
    }
    encodec_bytes_free(&bytes);
  }
  EncodecBytes late = {0};
  status = encodec_stream_encoder_push(encoder, source.samples, 1, source.channels, &late);
  CHECK(status == ENCODEC_STATUS_FINISHED, "push after finish gave %d", status);
  encodec_stream_encoder_free(encoder);

  EncodecStreamDecoder *decoder = NULL;
  CHECK(encodec_stream_decoder_new(codec, 0.0f, &decoder) == ENCODEC_STATUS_OK, "decoder_new");
  size_t decoded = 0;
  unsigned rate = 0;
  for (size_t at = 0; at < total; at += 7) {
    EncodecPcm pcm = {0};
    size_t len = total - at < 7 ? total - at : 7;
    status = encodec_stream_decoder_push(decoder, stream + at, len, &pcm);
    CHECK(status == ENCODEC_STATUS_OK, "decoder push gave %d", status);
    decoded += pcm.frames;
    if (pcm.frames > 0) rate = pcm.sample_rate;
    encodec_pcm_free(&pcm);
  }
  CHECK(encodec_stream_decoder_finish(decoder) == ENCODEC_STATUS_OK, "decoder finish");
  encodec_stream_decoder_free(decoder);
  double seconds = (double)source.frames / source.sample_rate, got = (double)decoded / rate;
  CHECK(got > seconds - 0.03 && got < seconds + 0.03, "%s live decoded %.3f s of %.3f s", codec,
        got, seconds);
  printf("live %-5s %zu messages, %zu bytes (%.2f kbps), decoded %.3f s at %u Hz\n", codec,
         messages, total, total * 8.0 / seconds / 1000.0, got, rate);
  free(stream);
  encodec_pcm_free(&source);
  encodec_compressor_free(reader);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Reads everything `player` gives, `block` frames at a time, into a new buffer. */
static float *drain(EncodecPlayer *player, unsigned channels, size_t block, size_t *frames) {
  float *all = NULL;
  *frames = 0;
  for (;;) {
    all = realloc(all, (*frames + block) * channels * sizeof(float));
    size_t read = 0;
    if (encodec_player_read(player, all + *frames * channels, block, &read) != ENCODEC_STATUS_OK) {
      free(all);
      return NULL;
    }
    *frames += read;
    if (read < block) return all;
  }
}

/* Compresses the clip at `level`, then plays the file: its samples equal encodec_decompress's,
 * a seek lands on the exact sample, a queue of three copies is the decode three times over. */
static void player_round_trip(const unsigned char *clip, size_t clip_len, const char *level,
                              const char *codec) {
  EncodecCompressor *compressor = NULL;
  CHECK(encodec_compressor_new(level, codec, 0.0f, 0, NULL, &compressor) == ENCODEC_STATUS_OK,
        "compressor %s", level);
  EncodecBytes packed = {0};
  CHECK(encodec_compress(compressor, clip, clip_len, &packed, NULL) == ENCODEC_STATUS_OK, "compress");
  EncodecPcm whole = {0};
  CHECK(encodec_decompress(compressor, packed.data, packed.len, &whole) == ENCODEC_STATUS_OK, "decompress");

  double start = now_ms();
  EncodecPlayer *player = NULL;
  EncodecStatus status = encodec_player_open_bytes(packed.data, packed.len, NULL, &player);
  CHECK(status == ENCODEC_STATUS_OK, "player_open_bytes(%s) gave %d", level, status);
  EncodecPlayerInfo info = {0};
  CHECK(encodec_player_info(player, &info) == ENCODEC_STATUS_OK, "info");
  size_t first = info.sample_rate / 50, read = 0; /* 20 ms */
  float *block = malloc(first * info.channels * sizeof(float));
  CHECK(encodec_player_read(player, block, first, &read) == ENCODEC_STATUS_OK && read == first, "first read");
  double first_ms = now_ms() - start;
  free(block);
  CHECK(info.sample_rate == whole.sample_rate && info.channels == whole.channels, "format");
  CHECK(info.duration > 0 && (size_t)(info.duration * info.sample_rate + 0.5) == whole.frames,
        "duration %.3f s for %zu frames", info.duration, whole.frames);
  CHECK(encodec_player_seek(player, 0.0) == ENCODEC_STATUS_OK, "seek to 0");

  size_t frames = 0;
  float *all = drain(player, info.channels, 441, &frames);
  CHECK(all && frames == whole.frames && memcmp(all, whole.samples, frames * whole.channels * 4) == 0,
        "%s: player read %zu frames, decompress %zu", level, frames, whole.frames);
  free(all);

  size_t at = (size_t)(1.25 * info.sample_rate + 0.5);
  CHECK(encodec_player_seek(player, 1.25) == ENCODEC_STATUS_OK, "seek");
  CHECK(encodec_player_info(player, &info) == ENCODEC_STATUS_OK && info.position > 1.25 - 1.0 / info.sample_rate && info.position < 1.25 + 1.0 / info.sample_rate, "position %f", info.position);
  all = drain(player, info.channels, 1000, &frames);
  CHECK(all && frames == whole.frames - at &&
            memcmp(all, whole.samples + at * whole.channels, frames * whole.channels * 4) == 0,
        "%s: after a seek to 1.25 s, %zu frames", level, frames);
  free(all);

  CHECK(encodec_player_seek(player, 0.0) == ENCODEC_STATUS_OK, "seek back");
  CHECK(encodec_player_queue_bytes(player, packed.data, packed.len) == ENCODEC_STATUS_OK, "queue");
  CHECK(encodec_player_queue_bytes(player, packed.data, packed.len) == ENCODEC_STATUS_OK, "queue");
  all = drain(player, info.channels, 777, &frames);
  int joined = all && frames == 3 * whole.frames;
  for (int copy = 0; joined && copy < 3; copy++)
    joined = memcmp(all + copy * whole.frames * whole.channels, whole.samples,
                    whole.frames * whole.channels * 4) == 0;
  CHECK(joined, "%s: three queued copies gave %zu frames, not the decode three times", level, frames);
  free(all);
  printf("player %-8s %-4s %zu frames x %u ch at %u Hz: reads, seek and a queue of 3 exact; "
         "first 20 ms in %.1f ms\n", level, codec ? codec : "-", whole.frames, whole.channels,
         whole.sample_rate, first_ms);

  CHECK(encodec_player_seek(player, -1.0) == ENCODEC_STATUS_FAILED, "seek to -1 s");
  encodec_player_free(player);
  encodec_pcm_free(&whole);
  encodec_bytes_free(&packed);
  encodec_compressor_free(compressor);
}

/* Whether the library's bytes (not NUL-terminated) hold `text`. */
static int contains(const EncodecBytes *bytes, const char *text) {
  size_t n = strlen(text);
  for (size_t at = 0; at + n <= bytes->len; at++)
    if (memcmp(bytes->data + at, text, n) == 0) return 1;
  return 0;
}

/* Bad input and misuse: an error code and a message, never a crash. */
static void errors(void) {
  EncodecCompressor *compressor = NULL;
  EncodecStatus status = encodec_compressor_new("ultra", "mp3", 0.0f, 0, NULL, &compressor);
  CHECK(status == ENCODEC_STATUS_FAILED && strlen(encodec_last_error_message()) > 0,
        "unknown codec gave %d", status);
  status = encodec_compressor_new(NULL, NULL, 0.0f, 0, NULL, &compressor);
  CHECK(status == ENCODEC_STATUS_INVALID_ARGUMENT, "NULL level gave %d", status);
  CHECK(encodec_compressor_new("compact", NULL, 0.0f, 0, NULL, &compressor) == ENCODEC_STATUS_OK,
        "compact");
  unsigned char garbage[4096];
  for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (unsigned char)(i * 7 + 3);
  /* Not audio: stored or gzipped, never refused, and restored byte for byte. */
  EncodecBytes out = {0}, meta = {0}, back = {0};
  status = encodec_compress(compressor, garbage, sizeof garbage, &out, &meta);
  CHECK(status == ENCODEC_STATUS_OK && out.len > 0 && out.len <= sizeof garbage, "garbage gave %d", status);
  CHECK(contains(&meta, "\"codec\":\"gzip\""), "garbage: %.*s", (int)meta.len,
        (const char *)meta.data);
  status = encodec_restore(out.data, out.len, 1, &back);
  CHECK(status == ENCODEC_STATUS_OK && back.len == sizeof garbage && memcmp(back.data, garbage, back.len) == 0,
        "garbage restored: %d, %zu bytes", status, back.len);
  printf("garbage input: %zu -> %zu bytes, restored; %.*s\n", sizeof garbage, out.len, (int)meta.len,
         (const char *)meta.data);
  encodec_bytes_free(&out);
  encodec_bytes_free(&meta);
  encodec_bytes_free(&back);
  /* A chunk (a slice of any stream) at a lossy level: gzip or stored, restored exactly. */
  status = encodec_compress_chunk(compressor, garbage + 1000, 2000, &out, NULL);
  CHECK(status == ENCODEC_STATUS_OK && out.len <= 2000, "chunk gave %d", status);
  status = encodec_restore(out.data, out.len, -1, &back);
  CHECK(status == ENCODEC_STATUS_OK && back.len == 2000 && memcmp(back.data, garbage + 1000, 2000) == 0,
        "chunk restored: %d", status);
  encodec_bytes_free(&out);
  encodec_bytes_free(&back);
  status = encodec_restore(garbage, sizeof garbage, 7, &back);
  CHECK(status == ENCODEC_STATUS_INVALID_ARGUMENT, "is_compressed 7 gave %d", status);
  EncodecPcm pcm = {0};
  unsigned char truncated[] = {'E', 'C', 'D', 'C', 0, 0, 0, 99};
  status = encodec_decompress(compressor, truncated, sizeof truncated, &pcm);
  CHECK(status == ENCODEC_STATUS_FAILED, "truncated .ecdc gave %d", status);
  status = encodec_decompress(compressor, NULL, 10, &pcm);
  CHECK(status == ENCODEC_STATUS_INVALID_ARGUMENT, "NULL data gave %d", status);
  encodec_compressor_free(compressor);

  EncodecStreamDecoder *decoder = NULL;
  CHECK(encodec_stream_decoder_new("lyra", 6.0f, &decoder) == ENCODEC_STATUS_OK, "lyra decoder");
  status = encodec_stream_decoder_push(decoder, garbage, 20, &pcm); /* one packet and 5 bytes */
  CHECK(status == ENCODEC_STATUS_OK && pcm.frames == 320, "lyra push gave %d", status);
  encodec_pcm_free(&pcm);
  status = encodec_stream_decoder_finish(decoder);
  CHECK(status == ENCODEC_STATUS_FAILED, "a cut packet gave %d", status);
  encodec_stream_decoder_free(decoder);
  status = encodec_stream_decoder_new("ecdc", 0.0f, &decoder);
  CHECK(status == ENCODEC_STATUS_FAILED, "ecdc live gave %d", status);
  printf("ecdc live: \"%s\"\n", encodec_last_error_message());

  EncodecPlayer *player = NULL;
  status = encodec_player_open_bytes(garbage, sizeof garbage, NULL, &player);
  CHECK(status == ENCODEC_STATUS_FAILED && player == NULL, "a player of garbage gave %d", status);
  status = encodec_player_open("/nonexistent/x.lyra", NULL, &player);
  CHECK(status == ENCODEC_STATUS_FAILED, "a player of a missing file gave %d", status);
  size_t read = 0;
  status = encodec_player_read(NULL, NULL, 0, &read);
  CHECK(status == ENCODEC_STATUS_INVALID_ARGUMENT, "read from NULL gave %d", status);
  printf("player of garbage: \"%s\"\n", encodec_last_error_message());
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CLIP.wav\n", argv[0]);
    return 2;
  }
  size_t clip_len = 0;
  unsigned char *clip = read_file(argv[1], &clip_len);
  if (!clip) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  printf("encodec %s\n", encodec_version());
  EncodecCompressor *reader = NULL;
  EncodecPcm source = {0};
  if (encodec_compressor_new("off", NULL, 0.0f, 0, NULL, &reader) != ENCODEC_STATUS_OK ||
      encodec_decompress(reader, clip, clip_len, &source) != ENCODEC_STATUS_OK) {
    fprintf(stderr, "cannot decode %s: %s\n", argv[1], encodec_last_error_message());
    return 1;
  }
  double seconds = (double)source.frames / source.sample_rate;
  encodec_pcm_free(&source);
  encodec_compressor_free(reader);

  level_round_trip(clip, clip_len, "ultra", "lyra", seconds);
  level_round_trip(clip, clip_len, "ultra", NULL, seconds); /* no EnCodec model: falls back */
  level_round_trip(clip, clip_len, "compact", NULL, seconds);
  level_round_trip(clip, clip_len, "standard", NULL, seconds);
  level_round_trip(clip, clip_len, "lossless", NULL, seconds);
  live_round_trip(clip, clip_len, "lyra");
  live_round_trip(clip, clip_len, "opus");
  player_round_trip(clip, clip_len, "ultra", "lyra");
  player_round_trip(clip, clip_len, "compact", NULL);
  player_round_trip(clip, clip_len, "standard", NULL);
  player_round_trip(clip, clip_len, "lossless", NULL);
  errors();
  free(clip);
  if (failures) {
    fprintf(stderr, "%d failure(s)\n", failures);
    return 1;
  }
  printf("all C ABI checks passed\n");
  return 0;
}
