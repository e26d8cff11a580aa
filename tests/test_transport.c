/* Transport helpers without a broker: the keys file (every malformed line is refused with
 * "path:line"), the topic layout of PROTOCOL.md §2, and the synthetic payloads a gateway
 * checks with --verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "protocol/session.h" /* SB_TOPIC_MAX, which transport/topics.h refers to */
#include "transport/keys.h"
#include "transport/payload.h"
#include "transport/topics.h"
#include "tests/check.h"

static char dir[64];

/* Write a file in the scratch folder; returns its path (static storage, one at a time). */
static const char *put(const char *name, const char *text, size_t len)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        perror(path);
        exit(2);
    }
    fwrite(text, 1, len, fp);
    fclose(fp);
    return path;
}

#define PSK_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define PSK_B "ffeeddccbbaa99887766554433221100FFEEDDCCBBAA99887766554433221100"
#define ID64 "a234567890123456789012345678901234567890123456789012345678901234"
#define ID65 ID64 "5"

static void test_keys_good(void)
{
    static const char text[] =
        "# sealbench keys\r\n"
        "\r\n"
        "   \t \n"
        "  # an indented comment\n"
        "dev-0002 " PSK_B "\r\n"
        "\tdev-0001\t\t" PSK_A "   \n"
        "Sensor_9.kitchen-1 " PSK_A "\n"
        ID64 " " PSK_B; /* no newline at the end */
    const char *path = put("good.txt", text, sizeof text - 1);
    sb_keyfile kf;
    char err[512] = "";
    sb_err rc = sb_keyfile_load(&kf, path, err, sizeof err);
    CHECK(rc == SB_OK, "good file: %s: %s", sb_err_str(rc), err);
    if (rc != SB_OK)
        return;
    CHECK(kf.n == 4, "good file: %zu keys, expected 4", kf.n);
    int sorted = 1;
    for (size_t i = 1; i < kf.n; i++)
        sorted &= strcmp(kf.v[i - 1].id, kf.v[i].id) < 0;
    CHECK(sorted, "entries sorted by id");

    uint8_t a[32], b[32];
    CHECK(sb_hex_decode(PSK_A, a, sizeof a) == 32 && sb_hex_decode(PSK_B, b, sizeof b) == 32,
          "test keys decode");
    const uint8_t *p = sb_keyfile_find(&kf, "dev-0001");
    CHECK(p && memcmp(p, a, 32) == 0, "dev-0001 (tabs, indented, trailing spaces) has its PSK");
    p = sb_keyfile_find(&kf, "dev-0002");
    CHECK(p && memcmp(p, b, 32) == 0, "dev-0002 (CRLF, upper-case hex) has its PSK");
    p = sb_keyfile_find(&kf, "Sensor_9.kitchen-1");
    CHECK(p && memcmp(p, a, 32) == 0, "an id with _ . - and capitals is found");
    p = sb_keyfile_find(&kf, ID64);
    CHECK(p && memcmp(p, b, 32) == 0, "a 64-character id on a last line without newline");
    CHECK(sb_keyfile_find(&kf, "dev-0003") == NULL, "an unknown id is not found");
    CHECK(sb_keyfile_find(&kf, "dev-000") == NULL, "a prefix of an id is not found");
    CHECK(sb_keyfile_find(&kf, "DEV-0001") == NULL, "ids are case-sensitive");
    CHECK(sb_keyfile_find(&kf, "") == NULL, "the empty id is not found");
    CHECK(sb_keyfile_find(&kf, ID65) == NULL, "a 65-character id is not found");
    sb_keyfile_free(&kf);
    CHECK(kf.v == NULL && kf.n == 0, "free empties the keyfile");
    sb_keyfile_free(&kf); /* twice is harmless */

    sb_keyfile empty = {0};
    CHECK(sb_keyfile_find(&empty, "dev-0001") == NULL, "lookup in an empty keyfile");
}

/* A file whose line `line` is the malformed one must be refused with "path:line:". */
static void bad_file(const char *what, const char *text, unsigned line, const char *also)
{
    const char *path = put("bad.txt", text, strlen(text));
    sb_keyfile kf = {(sb_key_entry *)1, 99}; /* must be reset */
    char err[512] = "";
    sb_err rc = sb_keyfile_load(&kf, path, err, sizeof err);
    char want[300];
    snprintf(want, sizeof want, "%s:%u:", path, line);
    CHECK(rc == SB_ERR_PARSE, "%s: %s, expected a parse error (%s)", what, sb_err_str(rc), err);
    CHECK(strstr(err, want) != NULL, "%s: error '%s' does not name '%s'", what, err, want);
    if (also)
        CHECK(strstr(err, also) != NULL, "%s: error '%s' does not mention '%s'", what, err, also);
    CHECK(kf.v == NULL && kf.n == 0, "%s: the keyfile is left empty", what);
    if (rc == SB_OK)
        sb_keyfile_free(&kf);
}

static void test_keys_bad(void)
{
    bad_file("one field", "dev-0001 " PSK_A "\ndev-0002\n", 2, "1 field");
    bad_file("three fields", "dev-0001 " PSK_A " extra\n", 1, "3 fields");
    bad_file("a comment after the key", "# x\ndev-0001 " PSK_A " # mine\n", 2, NULL);
    bad_file("a lone word after good lines", "dev-0001 " PSK_A "\n\ndev-0002 " PSK_B "\n# c\nbroken\n", 5,
             NULL);
}

static void test_keys_bad_psk(void)
{
    char text[300];
    /* 63 and 65 digits, a non-hex character, an odd character in the middle. */
    static const char *psks[] = {
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
        "0001020304050607080 0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    };
    for (size_t i = 0; i < sizeof psks / sizeof psks[0]; i++) {
        snprintf(text, sizeof text, "# keys\r\ndev-0001 " PSK_A "\r\n\r\ndev-0002 %s\r\n", psks[i]);
        char what[64];
        snprintf(what, sizeof what, "bad PSK #%zu (CRLF file)", i);
        bad_file(what, text, 4, NULL);
    }
    /* Device ids that break the topic rules or the length limit. */
    static const char *ids[] = {"dev/1", "dev+1", "dev#1", "dév-1", ID65, "dev*1", "a:b"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(text, sizeof text, "dev-0001 " PSK_A "\n%s " PSK_B "\n", ids[i]);
        char what[100];
        snprintf(what, sizeof what, "device id '%.20s'", ids[i]);
        bad_file(what, text, 2, "not valid");
    }
    /* A NUL byte inside a line. */
    static const char nul[] = "dev-0001 " PSK_A "\ndev-0002 \0" PSK_B "\n";
    const char *path = put("nul.txt", nul, sizeof nul - 1);
    sb_keyfile kf;
    char err[512] = "", want[300];
    sb_err rc = sb_keyfile_load(&kf, path, err, sizeof err);
    snprintf(want, sizeof want, "%s:2:", path);
    CHECK(rc == SB_ERR_PARSE && strstr(err, want), "NUL byte: %s: %s", sb_err_str(rc), err);
    if (rc == SB_OK)
        sb_keyfile_free(&kf);
}

static void test_keys_other(void)
{
    sb_keyfile kf;
    char err[512] = "";
    /* Duplicates. */
    const char *path = put("dup.txt", "dev-0002 " PSK_A "\ndev-0001 " PSK_A "\ndev-0002 " PSK_B "\n",
                           strlen("dev-0002 " PSK_A "\ndev-0001 " PSK_A "\ndev-0002 " PSK_B "\n"));
    sb_err rc = sb_keyfile_load(&kf, path, err, sizeof err);
    CHECK(rc == SB_ERR_PARSE, "duplicate id: %s (%s)", sb_err_str(rc), err);
    CHECK(strstr(err, path) && strstr(err, "'dev-0002'"), "duplicate id: '%s' names file and id", err);
    CHECK(kf.v == NULL && kf.n == 0, "duplicate id: keyfile left empty");
    if (rc == SB_OK)
        sb_keyfile_free(&kf);

    /* Nothing but comments, and an empty file: no keys is an error too. */
    static const char *empties[] = {"", "# only a comment\n\n  \r\n"};
    for (size_t i = 0; i < 2; i++) {
        path = put("empty.txt", empties[i], strlen(empties[i]));
        err[0] = 0;
        rc = sb_keyfile_load(&kf, path, err, sizeof err);
        CHECK(rc == SB_ERR_PARSE && strstr(err, path) && strstr(err, "no keys"),
              "file without keys #%zu: %s: %s", i, sb_err_str(rc), err);
        if (rc == SB_OK)
            sb_keyfile_free(&kf);
    }

    /* A missing file, and a folder. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/no-such-file.txt", dir);
    err[0] = 0;
    rc = sb_keyfile_load(&kf, missing, err, sizeof err);
    CHECK(rc == SB_ERR_IO, "missing file: %s, expected SB_ERR_IO", sb_err_str(rc));
    CHECK(strstr(err, missing) != NULL, "missing file: '%s' names the file", err);
    CHECK(kf.v == NULL && kf.n == 0, "missing file: keyfile empty");
    err[0] = 0;
    rc = sb_keyfile_load(&kf, dir, err, sizeof err);
    CHECK(rc == SB_ERR_IO && strstr(err, dir), "a folder: %s: %s", sb_err_str(rc), err);
    if (rc == SB_OK)
        sb_keyfile_free(&kf);

    /* Many keys: the table grows past its first allocation and every one is found. */
    size_t n = 1000, cap = n * 80 + 1;
    char *big = malloc(cap), *w = big;
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "dev-%04zu %064zx\n", n - i, i + 1);
    path = put("big.txt", big, (size_t)(w - big));
    free(big);
    rc = sb_keyfile_load(&kf, path, err, sizeof err);
    CHECK(rc == SB_OK && kf.n == n, "1000 keys: %s, %zu loaded (%s)", sb_err_str(rc), kf.n, err);
    int all = rc == SB_OK;
    for (size_t i = 0; all && i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "dev-%04zu", n - i);
        const uint8_t *p = sb_keyfile_find(&kf, id);
        all = p && p[31] == (uint8_t)((i + 1) & 0xff) && p[30] == (uint8_t)((i + 1) >> 8);
    }
    CHECK(all, "1000 keys: each found with its own PSK");
    if (rc == SB_OK)
        sb_keyfile_free(&kf);
}

/* ---- topics -------------------------------------------------------------------------------- */

static void test_topics(void)
{
    static const struct { sb_topic_kind k; const char *suffix; } kinds[] = {
        {SB_TOPIC_HS, "hs"}, {SB_TOPIC_HS_ACK, "hs/ack"}, {SB_TOPIC_UP, "up"}, {SB_TOPIC_DOWN, "down"}};
    static const char *prefixes[] = {"sealbench", "a/b/c", "x", "site-1/floor_2.east"};
    static const char *ids[] = {"dev-0001", "D", "Sensor_9.kitchen-1", ID64};
    char t[SB_TOPIC_MAX], want[SB_TOPIC_MAX], id[SB_DEVICE_ID_MAX + 1];
    for (size_t p = 0; p < 4; p++)
        for (size_t i = 0; i < 4; i++)
            for (size_t k = 0; k < 4; k++) {
                sb_topic_make(t, sizeof t, prefixes[p], ids[i], kinds[k].k);
                snprintf(want, sizeof want, "%s/%s/%s", prefixes[p], ids[i], kinds[k].suffix);
                CHECK(strcmp(t, want) == 0, "make: '%s', expected '%s'", t, want);
                memset(id, 'x', sizeof id);
                sb_topic_kind got = sb_topic_parse(prefixes[p], t, id);
                CHECK(got == kinds[k].k && strcmp(id, ids[i]) == 0,
                      "parse('%s', '%s') = %d '%.*s', expected %d '%s'", prefixes[p], t, got,
                      SB_DEVICE_ID_MAX, id, kinds[k].k, ids[i]);
            }
    /* Not ours: another prefix, suffix or an invalid id. */
    static const struct { const char *prefix, *topic; } none[] = {
        {"sealbench", "other/dev-0001/up"},
        {"sealbench", "sealbenchX/dev-0001/up"},
        {"sealbench", "sealbenc/dev-0001/up"},
        {"sealbench", "seal/dev-0001/up"},
        {"sealbench", "sealbench"},
        {"sealbench", "sealbench/"},
        {"sealbench", "sealbench/dev-0001"},
        {"sealbench", "sealbench/dev-0001/"},
        {"sealbench", "sealbench//up"},
        {"sealbench", "sealbench/dev-0001/up/"},
        {"sealbench", "sealbench/dev-0001/up/x"},
        {"sealbench", "sealbench/dev-0001/hs/"},
        {"sealbench", "sealbench/dev-0001/ack"},
        {"sealbench", "sealbench/dev-0001/UP"},
        {"sealbench", "sealbench/dev-0001/down/ack"},
        {"sealbench", "sealbench/+/up"},
        {"sealbench", "sealbench/#"},
        {"sealbench", "sealbench/dev 1/up"},
        {"sealbench", "sealbench/dev+1/up"},
        {"sealbench", "sealbench/d\xc3\xa9v/up"},
        {"sealbench", "sealbench/" ID65 "/up"},
        {"sealbench", "/sealbench/dev-0001/up"},
        {"a/b", "a/dev-0001/up"},
        {"a/b", "a/b/c/dev-0001/up"},
        {"a/b", "a/bdev-0001/up"},
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        sb_topic_kind got = sb_topic_parse(none[i].prefix, none[i].topic, id);
        CHECK(got == SB_TOPIC_NONE, "parse('%s', '%s') = %d, expected none", none[i].prefix,
              none[i].topic, got);
    }

    /* Prefixes. */
    char p200[202], p201[203];
    memset(p200, 'p', 200);
    p200[200] = 0;
    memset(p201, 'p', 201);
    p201[201] = 0;
    static const char *good[] = {"sealbench", "a/b", "a.b-c_d", "site 1/x", "x"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(sb_prefix_problem(good[i]) == NULL, "prefix '%s' refused: %s", good[i],
              sb_prefix_problem(good[i]));
    CHECK(sb_prefix_problem(p200) == NULL, "a 200-byte prefix is fine");
    const char *bad[] = {"", p201, "+", "a/+", "a/+/b", "#", "a/#", "a#", "/a", "a/", "a//b", "/",
                         "a\tb", "a\nb", "a\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = sb_prefix_problem(bad[i]);
        CHECK(why != NULL && *why, "prefix #%zu '%.20s' accepted", i, bad[i]);
    }
    const char *plus = sb_prefix_problem("a/+/b"), *hash = sb_prefix_problem("a/#");
    CHECK(plus && strstr(plus, "wildcard"), "'+' is named a wildcard: %s", plus ? plus : "accepted");
    CHECK(hash && strstr(hash, "wildcard"), "'#' is named a wildcard: %s", hash ? hash : "accepted");

    /* The longest prefix and id still fit SB_TOPIC_MAX. */
    sb_topic_make(t, sizeof t, p200, ID64, SB_TOPIC_HS_ACK);
    CHECK(strlen(t) == 200 + 1 + 64 + 1 + 6, "longest topic is whole: %zu bytes", strlen(t));
    CHECK(sb_topic_parse(p200, t, id) == SB_TOPIC_HS_ACK && strcmp(id, ID64) == 0,
          "longest topic parses");
}

/* ---- payloads ------------------------------------------------------------------------------ */

static void test_payloads(void)
{
    static const size_t lens[] = {8, 9, 15, 16, 17, 64, 255, 256, 257, 263, 264, 265, 520, 1000, 4096};
    static const uint64_t ns[] = {0, 1, 12345, UINT64_C(1) << 40, UINT64_MAX};
    uint8_t a[4096], b[4096];
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t len = lens[li];
        int round = 1, head = 1, same = 1, other_id = 1, other_n = 1;
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
            uint64_t n = ns[ni], got = ~n;
            sb_payload_make("dev-0001", n, a, len);
            sb_payload_make("dev-0001", n, b, len);
            same &= memcmp(a, b, len) == 0;
            round &= sb_payload_check("dev-0001", a, len, &got) == 1 && got == n;
            head &= sb_get_u64be(a) == n;
            if (len > 8) {
                other_id &= sb_payload_check("dev-0002", a, len, &got) == 0;
                sb_payload_make("dev-0001", n + 1, b, len);
                other_n &= memcmp(a + 8, b + 8, len - 8) != 0;
            }
        }
        CHECK(round, "len %zu: make then check gives 1 and the message number", len);
        CHECK(head && same, "len %zu: starts with u64be(n) and is deterministic", len);
        if (len > 8)
            CHECK(other_id && other_n, "len %zu: another device's or number's bytes differ", len);
        /* Every single bit flip is detected. */
        sb_payload_make("dev-0001", 777, a, len);
        size_t missed = 0, limit = len < 600 ? len : 600;
        for (size_t i = 0; i < limit * 8; i++) {
            uint64_t got;
            a[i / 8] ^= (uint8_t)(1u << (i % 8));
            int r = sb_payload_check("dev-0001", a, len, &got);
            if (len > 8 ? r != 0 : (r == 1 && got == 777))
                missed++;
            a[i / 8] ^= (uint8_t)(1u << (i % 8));
        }
        CHECK(missed == 0, "len %zu: %zu of %zu single-bit flips not detected", len, missed, limit * 8);
    }
    /* Shorter than 8 bytes: a truncated number, and the check cannot tell. */
    for (size_t len = 0; len < SB_PAYLOAD_MIN_CHECKABLE; len++) {
        uint8_t p[8] = {0}, want[8];
        sb_put_u64be(want, UINT64_C(0x0102030405060708));
        sb_payload_make("dev-0001", UINT64_C(0x0102030405060708), p, len);
        uint64_t got = 42;
        CHECK(memcmp(p, want, len) == 0 && (len == 7 || p[len] == 0),
              "len %zu: the first bytes of u64be(n), nothing written beyond", len);
        CHECK(sb_payload_check("dev-0001", p, len, &got) == -1, "len %zu: check gives -1", len);
    }
    /* The bytes themselves are fixed (a device and a gateway on different machines or builds
     * must agree): vectors from an independent implementation of payload.c's stream
     * (FNV-1a seed of the id mixed with n, splitmix64, each output little-endian). */
    static const struct { const char *id; uint64_t n; size_t len; const char *hex; } kat[] = {
        {"dev-0001", 5, 27, "0000000000000005462a67c50a3309ffb2cc7ee45de62486bc81c5"},
        {"Sensor_9", UINT64_C(1) << 33, 12, "0000000200000000ad339d9f"},
    };
    for (size_t i = 0; i < 2; i++) {
        uint8_t want[64];
        sb_hex_decode(kat[i].hex, want, sizeof want);
        sb_payload_make(kat[i].id, kat[i].n, a, kat[i].len);
        CHECK(memcmp(a, want, kat[i].len) == 0, "payload of %s #%llu is the fixed vector", kat[i].id,
              (unsigned long long)kat[i].n);
    }
    /* A buffer of zeros is not a message (unless by the stream's chance: it is not). */
    memset(a, 0, 64);
    uint64_t got;
    CHECK(sb_payload_check("dev-0001", a, 64, &got) == 0, "64 zero bytes are not a payload");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sealbench-test-transport-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_keys_good();
    test_keys_bad();
    test_keys_bad_psk();
    test_keys_other();
    test_topics();
    test_payloads();
    static const char *files[] = {"good.txt", "bad.txt", "nul.txt", "dup.txt", "empty.txt", "big.txt"};
    char path[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return check_done("transport");
}
