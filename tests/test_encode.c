/* Payload encoders (datasets/encode.c): exact bytes for JSON, CSV and CBOR of hand-built
 * records. The CBOR expectations were encoded by hand from RFC 8949 (major types, tag 4
 * decimal fractions, integer keys), not by libcbor, so the test does not check libcbor against itself. */
#include <stdio.h>
#include <string.h>

#include "datasets/encode.h"
#include "tests/check.h"

static sb_value val(const char *text, int64_t i, double r)
{
    sb_value v = {.i = i, .r = r, .text = text, .text_len = strlen(text)};
    return v;
}

static sb_value missing(void)
{
    sb_value v = {.missing = 1, .text = "", .text_len = 0};
    return v;
}

static void expect(sb_encoding e, const sb_encode_schema *s, const sb_record *r, const void *want,
                   size_t want_len, const char *what)
{
    uint8_t out[512];
    size_t len = 0;
    sb_err rc = sb_encode_record(e, s, r, out, sizeof out, &len);
    CHECK(rc == SB_OK, "%s %s: rc %d", sb_encoding_name(e), what, rc);
    CHECK(len == want_len && memcmp(out, want, len) == 0, "%s %s: got %zu bytes '%.*s', want %zu",
          sb_encoding_name(e), what, len, (int)len, (const char *)out, want_len);
}

static void full_record(void)
{
    sb_dataset_column cols[4] = {{.source = "HR", .name = "hr", .type = SB_COL_INT},
                                 {.source = "SpO2", .name = "spo2", .type = SB_COL_INT},
                                 {.source = "Temp", .name = "temp", .type = SB_COL_REAL},
                                 {.source = "note", .type = SB_COL_TEXT}};
    sb_value v[4] = {val("72", 72, 72), missing(), val("36.60", 0, 36.6), val("a,\"b\"\n", 0, 0)};
    sb_encode_schema s = {.device_key = "patient_id", .time_key = "timestamp", .n = 4, .cols = cols};
    sb_record r = {.device = "P1", .has_time = 1, .t_ns = INT64_C(1767225600000000000),
                   .time_text = "2026-01-01T00:00:00.000Z", .n = 4, .values = v};

    const char *json = "{\"patient_id\":\"P1\",\"timestamp\":\"2026-01-01T00:00:00.000Z\","
                       "\"hr\":72,\"temp\":36.60,\"note\":\"a,\\\"b\\\"\\n\"}";
    expect(SB_ENC_JSON, &s, &r, json, strlen(json), "full record");
    const char *csv = "P1,2026-01-01T00:00:00.000Z,72,,36.60,\"a,\"\"b\"\"\n\"";
    expect(SB_ENC_CSV, &s, &r, csv, strlen(csv), "full record");
    /* Keys: 0 device, 1 time, 2 + column index; spo2 (key 3) is missing. */
    static const uint8_t cbor[] = "\xa5\x00\x62\x50\x31\x01\x1b\x00\x00\x01\x9b\x76\xda\xa8\x00"
                                  "\x02\x18\x48\x04\xc4\x82\x20\x19\x01\x6e\x05\x66\x61\x2c"
                                  "\x22\x62\x22\x0a";
    expect(SB_ENC_CBOR, &s, &r, cbor, sizeof cbor - 1, "full record");

    /* Too small a buffer is an error, not a truncated payload. */
    uint8_t small[20];
    size_t len = 99;
    for (int e = 0; e < SB_ENC_COUNT; e++) {
        sb_err rc = sb_encode_record((sb_encoding)e, &s, &r, small, sizeof small, &len);
        CHECK(rc == SB_ERR_ARG && len == 0, "%s into 20 bytes: rc %d len %zu",
              sb_encoding_name((sb_encoding)e), rc, len);
    }
}

static void numbers_and_text(void)
{
    sb_dataset_column cols[6] = {{.source = "a", .type = SB_COL_REAL}, {.source = "b", .type = SB_COL_REAL},
                                 {.source = "c", .type = SB_COL_INT},  {.source = "d", .type = SB_COL_TEXT},
                                 {.source = "e", .type = SB_COL_REAL}, {.source = "f", .type = SB_COL_REAL}};
    /* "+3.5" and ".25" are numbers in a CSV but not in JSON: they are re-printed. */
    sb_value v[6] = {val("+3.5", 0, 3.5),  val(".25", 0, 0.25), val("-7", -7, -7),
                     val("\x01tab\t", 0, 0), val("-0.001", 0, -0.001), val("1e3", 0, 1000)};
    sb_encode_schema s = {.n = 6, .cols = cols};
    sb_record r = {.n = 6, .values = v};
    const char *json = "{\"a\":3.5,\"b\":0.25,\"c\":-7,\"d\":\"\\u0001tab\\t\",\"e\":-0.001,\"f\":1e3}";
    expect(SB_ENC_JSON, &s, &r, json, strlen(json), "numbers");
    /* CBOR: 3.5 = 35e-1, 0.25 = 25e-2, -7, text, -0.001 = -1e-3, 1e3 = 1000 (exponent folded
     * into an integer only when it is 0: 1e3 stays [3, 1]). */
    static const uint8_t cbor[] = "\xa6"
                                  "\x02\xc4\x82\x20\x18\x23"
                                  "\x03\xc4\x82\x21\x18\x19"
                                  "\x04\x26"
                                  "\x05\x65\x01\x74\x61\x62\x09"
                                  "\x06\xc4\x82\x22\x20"
                                  "\x07\xc4\x82\x03\x01";
    expect(SB_ENC_CBOR, &s, &r, cbor, sizeof cbor - 1, "numbers");
    const char *csvw = "+3.5,.25,-7,\x01tab\t,-0.001,1e3";
    expect(SB_ENC_CSV, &s, &r, csvw, strlen(csvw), "numbers (as in the file)");
}

static void names(void)
{
    CHECK(sb_encoding_parse("json") == SB_ENC_JSON && sb_encoding_parse("csv") == SB_ENC_CSV &&
              sb_encoding_parse("cbor") == SB_ENC_CBOR && sb_encoding_parse("xml") == -1,
          "encoding names");
    /* A record with every value missing and no device or time is an empty object/map. */
    sb_dataset_column c = {.source = "x", .type = SB_COL_INT};
    sb_value v = missing();
    sb_encode_schema s = {.n = 1, .cols = &c};
    sb_record r = {.n = 1, .values = &v};
    expect(SB_ENC_JSON, &s, &r, "{}", 2, "all missing");
    expect(SB_ENC_CBOR, &s, &r, "\xa0", 1, "all missing");
    expect(SB_ENC_CSV, &s, &r, "", 0, "all missing");
}

int main(void)
{
    full_record();
    numbers_and_text();
    names();
    return check_done("encode");
}
