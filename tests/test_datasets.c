/* Tests of the dataset loader (datasets/): sb_value_parse for each type and time format; a
 * table of small files with one quirk each, written into a temporary folder, with the exact
 * records, counts or error message each must give; description files and their mistakes; the
 * three real CSVs of ../shared/datasets/real (argument 1; skipped when absent); and flat
 * memory while streaming a generated ~50 MB file.
 *
 * Usage: test_datasets [REAL_DATASETS_FOLDER] */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "tests/check.h"

static char dir[64];

/* ---- helpers -------------------------------------------------------------------------------- */

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

/* tmpl with every '@' replaced by csv and every '$' by desc. */
static void expand(char *out, size_t cap, const char *tmpl, const char *csv, const char *desc)
{
    size_t o = 0;
    for (const char *t = tmpl; *t && o + 1 < cap; t++) {
        const char *sub = *t == '@' ? csv : *t == '$' ? desc : NULL;
        if (sub) o += (size_t)snprintf(out + o, cap - o, "%s", sub);
        else out[o++] = *t;
        if (o >= cap) o = cap - 1;
    }
    out[o] = '\0';
}

/* "name:type" of the sent columns, comma-separated. */
static void render_types(const sb_dataset *ds, char *out, size_t cap)
{
    const sb_dataset_column *c;
    size_t n = sb_dataset_columns(ds, &c), o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s:%s", i ? "," : "", c[i].name,
                              sb_col_type_name(c[i].type));
}

/* Every record as "line:[d=dev;][t=ns;]v1|v2" ("?" for missing), space-separated; the
 * error of the read, if any, into err. */
static sb_err render_records(sb_dataset *ds, char *out, size_t cap, char *err, size_t err_len)
{
    size_t o = 0;
    sb_record r;
    int got;
    sb_err rc;
    out[0] = '\0';
    err[0] = '\0';
    while ((rc = sb_dataset_next(ds, &r, &got, err, err_len)) == SB_OK && got) {
        if (o < cap) o += (size_t)snprintf(out + o, cap - o, "%s%" PRIu64 ":", o ? " " : "", r.line);
        if (r.device && o < cap) o += (size_t)snprintf(out + o, cap - o, "d=%s;", r.device);
        if (r.has_time && o < cap) o += (size_t)snprintf(out + o, cap - o, "t=%" PRId64 ";", r.t_ns);
        CHECK(!!r.has_time == !!r.time_text, "line %" PRIu64 ": time_text without a time, or the reverse", r.line);
        for (size_t i = 0; i < r.n && o < cap; i++)
            o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "|" : "",
                                  r.values[i].missing ? "?" : r.values[i].text);
    }
    return rc;
}

/* ---- sb_value_parse --------------------------------------------------------------------------- */

typedef struct vcase {
    sb_col_type t;
    sb_time_format f;
    const char *text;
    int ok;
    int64_t i;        /* INT and TIME */
    double r;         /* REAL */
    const char *want; /* on failure */
} vcase;

#define NS(s) ((int64_t)(s) * 1000000000)
static const vcase vcases[] = {
    {SB_COL_INT, 0, "0", 1, 0, 0, NULL},
    {SB_COL_INT, 0, "-0", 1, 0, 0, NULL},
    {SB_COL_INT, 0, "+5", 1, 5, 0, NULL},
    {SB_COL_INT, 0, "2022484408", 1, 2022484408, 0, NULL},
    {SB_COL_INT, 0, "9223372036854775807", 1, INT64_MAX, 0, NULL},
    {SB_COL_INT, 0, "-9223372036854775808", 1, INT64_MIN, 0, NULL},
    {SB_COL_INT, 0, "9223372036854775808", 0, 0, 0,
     "an integer between -9223372036854775808 and 9223372036854775807"},
    {SB_COL_INT, 0, "-9223372036854775809", 0, 0, 0,
     "an integer between -9223372036854775808 and 9223372036854775807"},
    {SB_COL_INT, 0, "99999999999999999999999", 0, 0, 0,
     "an integer between -9223372036854775808 and 9223372036854775807"},
    {SB_COL_INT, 0, "000207", 0, 0, 0, "an integer without leading zeros"},
    {SB_COL_INT, 0, "1.5", 0, 0, 0, "an integer"},
    {SB_COL_INT, 0, "9 8", 0, 0, 0, "an integer"},
    {SB_COL_INT, 0, "12a", 0, 0, 0, "an integer"},
    {SB_COL_INT, 0, "", 0, 0, 0, "an integer"},
    {SB_COL_INT, 0, "-", 0, 0, 0, "an integer"},
    {SB_COL_REAL, 0, "0.35386", 1, 0, 0.35386, NULL},
    {SB_COL_REAL, 0, "0.1", 1, 0, 0.1, NULL},
    {SB_COL_REAL, 0, "-.5", 1, 0, -0.5, NULL},
    {SB_COL_REAL, 0, "37", 1, 0, 37.0, NULL},
    {SB_COL_REAL, 0, "5.", 1, 0, 5.0, NULL},
    {SB_COL_REAL, 0, "1e-3", 1, 0, 0.001, NULL},
    {SB_COL_REAL, 0, "2.5E+2", 1, 0, 250.0, NULL},
    {SB_COL_REAL, 0, "007.5", 1, 0, 7.5, NULL},
    {SB_COL_REAL, 0, "12345678901234567890.5", 1, 0, 12345678901234567890.5, NULL},
    {SB_COL_REAL, 0, "1.7976931348623157e308", 1, 0, 1.7976931348623157e308, NULL},
    {SB_COL_REAL, 0, "1e400", 0, 0, 0, "a finite number"},
    {SB_COL_REAL, 0, "inf", 0, 0, 0, "a number"},
    {SB_COL_REAL, 0, "9 8", 0, 0, 0, "a number"},
    {SB_COL_REAL, 0, "1,5", 0, 0, 0, "a number"},
    {SB_COL_REAL, 0, ".", 0, 0, 0, "a number"},
    {SB_COL_REAL, 0, "1e", 0, 0, 0, "a number"},
    {SB_COL_TEXT, 0, "h\xC3\xA9llo", 1, 0, 0, NULL},
    {SB_COL_TEXT, 0, "caf\xE9", 0, 0, 0, "UTF-8 text"},
    /* ISO-8601 */
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T18:28:48Z", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T20:28:48+02:00", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T20:28:48+0200", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T14:58:48-03:30", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10 18:28:48", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T18:28:48.5Z", 1, NS(1681151328) + 500000000, 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T18:28:48.123456789123Z", 1,
     NS(1681151328) + 123456789, 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T18:28Z", 1, NS(1681151280), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2016-02-29", 1, NS(1456704000), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2000-02-29T12:00:00Z", 1, NS(951825600), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "1969-12-31T23:59:59Z", 1, NS(-1), 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2262-04-11T23:47:16.854775807Z", 1, INT64_MAX, 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "1677-09-21T00:12:43.145224192Z", 1, INT64_MIN, 0, NULL},
    {SB_COL_TIME, SB_TIME_ISO8601, "2262-04-11T23:47:16.854775808Z", 0, 0, 0, "a time between 1677 and 2262"},
    {SB_COL_TIME, SB_TIME_ISO8601, "1677-09-21T00:12:43.145224191Z", 0, 0, 0, "a time between 1677 and 2262"},
    {SB_COL_TIME, SB_TIME_ISO8601, "9999-12-31T23:59:59Z", 0, 0, 0, "a time between 1677 and 2262"},
    {SB_COL_TIME, SB_TIME_ISO8601, "2015-02-29T00:00:00Z", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-31T00:00:00Z", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T24:00:00Z", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T18:28:48+25:00", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_ISO8601, "2023-04-10T18:28:48Q", 0, 0, 0,
     "an ISO-8601 timestamp (like 2023-04-10T18:28:48Z)"},
    {SB_COL_TIME, SB_TIME_ISO8601, "4/1/2016 7:54:00 AM", 0, 0, 0,
     "an ISO-8601 timestamp (like 2023-04-10T18:28:48Z)"},
    /* M/D/YYYY h:mm:ss AM/PM */
    {SB_COL_TIME, SB_TIME_US_12H, "4/1/2016 7:54:00 AM", 1, NS(1459497240), 0, NULL},
    {SB_COL_TIME, SB_TIME_US_12H, "04/01/2016 07:54:00 am", 1, NS(1459497240), 0, NULL},
    {SB_COL_TIME, SB_TIME_US_12H, "4/1/2016 12:00:00 AM", 1, NS(1459468800), 0, NULL},
    {SB_COL_TIME, SB_TIME_US_12H, "4/1/2016 12:00:00 PM", 1, NS(1459512000), 0, NULL},
    {SB_COL_TIME, SB_TIME_US_12H, "4/1/2016 12:30 PM", 1, NS(1459513800), 0, NULL},
    {SB_COL_TIME, SB_TIME_US_12H, "2/29/2016 11:59:59 PM", 1, NS(1456790399), 0, NULL},
    {SB_COL_TIME, SB_TIME_US_12H, "2/30/2016 1:00:00 AM", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_US_12H, "2/29/2015 1:00:00 AM", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_US_12H, "13/1/2016 1:00:00 AM", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_US_12H, "4/1/2016 13:00:00 PM", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_US_12H, "4/1/2016 0:00:00 AM", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_US_12H, "4/1/2016 7:54:00", 0, 0, 0, "a date and time like 4/1/2016 7:54:00 AM"},
    {SB_COL_TIME, SB_TIME_US_12H, "2023-04-10T18:28:48Z", 0, 0, 0, "a date and time like 4/1/2016 7:54:00 AM"},
    /* numbers */
    {SB_COL_TIME, SB_TIME_EPOCH_S, "1681151328", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "1681151328.25", 1, NS(1681151328) + 250000000, 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "-1.5", 1, -1500000000, 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "1.681151328e9", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "9223372036.854775807", 1, INT64_MAX, 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "-9223372036.854775808", 1, INT64_MIN, 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "9223372036.854775808", 0, 0, 0, "a time between 1677 and 2262"},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "1e300", 0, 0, 0, "a time between 1677 and 2262"},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "1e-300", 1, 0, 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_S, "soon", 0, 0, 0, "seconds since 1970 (a number)"},
    {SB_COL_TIME, SB_TIME_EPOCH_MS, "1681151328250", 1, NS(1681151328) + 250000000, 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_MS, "1681151328250.5", 1, NS(1681151328) + 250500000, 0, NULL},
    {SB_COL_TIME, SB_TIME_EPOCH_MS, "9223372036855", 0, 0, 0, "a time between 1677 and 2262"},
    {SB_COL_TIME, SB_TIME_RELATIVE_S, "0.008", 1, 8000000, 0, NULL},
    {SB_COL_TIME, SB_TIME_RELATIVE_S, "480", 1, NS(480), 0, NULL},
    {SB_COL_TIME, SB_TIME_RELATIVE_S, "0.0000000019", 1, 1, 0, NULL},
    {SB_COL_TIME, SB_TIME_RELATIVE_S, "", 0, 0, 0, "seconds (a number)"},
    /* auto: each format in turn, numbers by their size */
    {SB_COL_TIME, SB_TIME_AUTO, "2023-04-10T18:28:48Z", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_AUTO, "4/1/2016 7:54:00 AM", 1, NS(1459497240), 0, NULL},
    {SB_COL_TIME, SB_TIME_AUTO, "1681151328250", 1, NS(1681151328) + 250000000, 0, NULL},
    {SB_COL_TIME, SB_TIME_AUTO, "1681151328", 1, NS(1681151328), 0, NULL},
    {SB_COL_TIME, SB_TIME_AUTO, "12.5", 1, 12500000000, 0, NULL},
    {SB_COL_TIME, SB_TIME_AUTO, "2/30/2016 1:00:00 AM", 0, 0, 0, "a valid date and time"},
    {SB_COL_TIME, SB_TIME_AUTO, "yesterday", 0, 0, 0, "a timestamp"},
};

static void test_values(void)
{
    for (size_t k = 0; k < sizeof vcases / sizeof *vcases; k++) {
        const vcase *c = &vcases[k];
        sb_value v;
        const char *want = NULL;
        sb_err rc = sb_value_parse(c->t, c->f, c->text, strlen(c->text), &v, &want);
        const char *what = c->t == SB_COL_TIME ? sb_time_format_name(c->f) : sb_col_type_name(c->t);
        if (c->ok) {
            CHECK(rc == SB_OK, "%s \"%s\": failed, expected %s", what, c->text, want ? want : "?");
            if (rc != SB_OK) continue;
            CHECK(!v.missing && v.text == c->text && v.text_len == strlen(c->text),
                  "%s \"%s\": text not kept", what, c->text);
            if (c->t == SB_COL_INT || c->t == SB_COL_TIME)
                CHECK(v.i == c->i, "%s \"%s\": %" PRId64 ", expected %" PRId64, what, c->text, v.i, c->i);
            if (c->t == SB_COL_REAL)
                CHECK(v.r == c->r, "%s \"%s\": %.17g, expected %.17g", what, c->text, v.r, c->r);
            if (c->t == SB_COL_INT)
                CHECK(v.r == (double)c->i, "int \"%s\": r not set", c->text);
        } else {
            CHECK(rc == SB_ERR_PARSE, "%s \"%s\": accepted (%" PRId64 ")", what, c->text, v.i);
            CHECK(want && strcmp(want, c->want) == 0, "%s \"%s\": want \"%s\", expected \"%s\"",
                  what, c->text, want ? want : "(null)", c->want);
        }
    }
    /* The length is the field's, not the string's. */
    sb_value v;
    CHECK(sb_value_parse(SB_COL_INT, SB_TIME_AUTO, "123456", 3, &v, NULL) == SB_OK && v.i == 123,
          "length not honoured");
    CHECK(sb_value_parse(SB_COL_AUTO, SB_TIME_AUTO, "1", 1, &v, NULL) == SB_ERR_ARG, "auto parsed");

    /* Names both ways. */
    for (int t = SB_COL_AUTO; t <= SB_COL_TIME; t++)
        CHECK(sb_col_type_parse(sb_col_type_name((sb_col_type)t)) == t, "type %d round trip", t);
    for (int f = SB_TIME_AUTO; f <= SB_TIME_US_12H; f++)
        CHECK(sb_time_format_parse(sb_time_format_name((sb_time_format)f)) == f, "format %d round trip", f);
    CHECK(sb_col_type_parse("integer") == -1 && sb_time_format_parse("iso") == -1, "unknown names");
    CHECK(strcmp(sb_time_format_name(SB_TIME_US_12H), "us_12h") == 0 &&
          strcmp(sb_col_type_name(SB_COL_REAL), "real") == 0, "names");
}

/* ---- files with one quirk each ---------------------------------------------------------------- */

typedef struct fcase {
    const char *title;
    const char *csv;        /* NULL: the file does not exist */
    size_t len;             /* 0: strlen(csv) */
    const char *desc;       /* description written beside the CSV and loaded; NULL: defaults */
    const char *open_err;   /* exact ('@' is the CSV's path); NULL: open succeeds */
    const char *types;      /* render_types; NULL: unchecked */
    const char *records;    /* render_records; NULL: unchecked */
    const char *next_err;   /* exact error ending the read; NULL: reads to the end */
    long skipped, blank;    /* -1: unchecked */
    char delim;             /* 0: unchecked */
    const char *first_skip; /* exact; NULL: unchecked */
} fcase;

static const fcase fcases[] = {
    {"plain LF", "a,b\n1,2\n3,4\n", 0, NULL, NULL, "a:int,b:int", "2:1|2 3:3|4", NULL, 0, 0, ',', NULL},
    {"UTF-8 byte-order mark", "\xEF\xBB\xBF" "a,b\n1,2\n", 0, NULL, NULL, "a:int,b:int", "2:1|2", NULL, 0, 0, 0, NULL},
    {"CRLF", "a,b\r\n1,2\r\n3,4\r\n", 0, NULL, NULL, "a:int,b:int", "2:1|2 3:3|4", NULL, 0, 0, 0, NULL},
    {"CRLF, no final newline", "a,b\r\n1,2\r\n3,4", 0, NULL, NULL, NULL, "2:1|2 3:3|4", NULL, 0, 0, 0, NULL},
    {"quoted comma, quote and newline",
     "id,note,v\n1,\"x, y\",5\n2,\"say \"\"hi\"\"\",6\n3,\"two\nlines\",7\n4,z,8\n", 0, NULL, NULL,
     "id:int,note:text,v:int", "2:1|x, y|5 3:2|say \"hi\"|6 4:3|two\nlines|7 6:4|z|8", NULL, 0, 0, 0, NULL},
    {"quoted CRLF", "a,b\r\n1,\"p\r\nq\"\r\n2,r\r\n", 0, NULL, NULL, NULL, "2:1|p\r\nq 4:2|r", NULL, 0, 0, 0, NULL},
    {"line after a quoted newline, in an error",
     "id,v\n1,\"multi\nline\"\n2,3\nx,4\n", 0, "[columns]\nid = id:int\nv =\n", NULL, "id:int,v:text",
     "2:1|multi\nline 4:2|3", "@:5: column \"id\": expected an integer, found \"x\"", 0, 0, 0, NULL},
    {"blank lines", "a,b\n\n1,2\n\n\n3,4\n\n", 0, NULL, NULL, NULL, "3:1|2 6:3|4", NULL, 0, 4, 0, NULL},
    {"blank CRLF line and blanks", "a,b\r\n\r\n1,2\r\n  \r\n3,4\r\n", 0, NULL, NULL, NULL, "3:1|2 5:3|4", NULL, 0, 2, 0, NULL},
    {"blank lines before the header", "\n\na,b\n1,2\n", 0, NULL, NULL, NULL, "4:1|2", NULL, 0, 2, 0, NULL},
    {"semicolon, detected", "a;b;c\n1;2,5;x\n", 0, NULL, NULL, "a:int,b:text,c:text", "2:1|2,5|x", NULL, 0, 0, ';', NULL},
    {"tab, detected", "a\tb\n1\t2.5\n", 0, NULL, NULL, "a:int,b:real", "2:1|2.5", NULL, 0, 0, '\t', NULL},
    {"semicolon, declared over a tie", "a;b,c\n1;2,3\n", 0, "[dataset]\ndelimiter = ;   ; not a comment\n",
     NULL, "a:int,b,c:text", "2:1|2,3", NULL, 0, 0, ';', NULL},
    {"tab, declared", "a\tb\n1\t2\n", 0, "[dataset]\ndelimiter = tab\n", NULL, NULL, "2:1|2", NULL, 0, 0, '\t', NULL},
    {"names trimmed, quoted or not", "\"t\",\" RESP\", PLETH \n0,1,2\n", 0, NULL, NULL, "t:int,RESP:int,PLETH:int",
     NULL, NULL, 0, 0, 0, NULL},
    {"empty header name", "a,,c\n1,2,3\n", 0, NULL, NULL, "a:int,c2:int,c:int", NULL, NULL, 0, 0, 0, NULL},
    {"default missing markers", "a,b\n1,NA\n2,NaN\n3,null\n4,\n5,7.5\n", 0, NULL, NULL, "a:int,b:real",
     "2:1|? 3:2|? 4:3|? 5:4|? 6:5|7.5", NULL, 0, 0, 0, NULL},
    {"custom missing markers", "a,b\n1,-\n2,n/a\n3,NA\n4,6\n5,7.5\n", 0, "[dataset]\nmissing = -, n/a\n",
     NULL, "a:int,b:real", "2:1|? 3:2|? 4:3|? 5:4|6 6:5|7.5", NULL, 0, 0, 0, NULL},
    {"every value missing: text", "a,b\n1,NA\n2,\n", 0, NULL, NULL, "a:int,b:text", "2:1|? 3:2|?", NULL, 0, 0, 0, NULL},
    {"leading zeros: text; int with real: real", "id,v\n000207,1\n000208,2.5\n", 0, NULL, NULL,
     "id:text,v:real", "2:000207|1 3:000208|2.5", NULL, 0, 0, 0, NULL},
    {"stray quote in an unquoted field is text", "a,b\n1,5\"\n", 0, NULL, NULL, "a:int,b:text", "2:1|5\"", NULL, 0, 0, 0, NULL},
    {"no header", "1,2\n3,4\n", 0, "[dataset]\nheader = no\n", NULL, "c1:int,c2:int", "1:1|2 2:3|4", NULL, 0, 0, 0, NULL},
    {"renamed and typed columns, in the description's order", "a,b,c\n1,2,3\n", 0,
     "[columns]\nc = see:real\na =\n", NULL, "see:real,a:int", "2:3|1", NULL, 0, 0, 0, NULL},
    /* the file as a whole */
    {"binary", "a,b\n1,2\n3,\0\n", 11, NULL, "@: looks binary (NUL byte at offset 10); expected a text CSV file",
     NULL, NULL, NULL, -1, -1, 0, NULL},
    {"binary after the rows read at open", "a\n1\n2\n3\n\0\n", 10, "[dataset]\ninfer_rows = 1\n", NULL, "a:int",
     "2:1 3:2 4:3", "@: looks binary (NUL byte at offset 8); expected a text CSV file", 0, 0, 0, NULL},
    {"not UTF-8", "a,b\n1,2\n3,caf\xE9\n", 0, NULL,
     "@:3: not UTF-8 (byte 0xE9 at offset 13); expected UTF-8 text: convert the file first, e.g. "
     "iconv -f LATIN1 -t UTF-8 @ > converted.csv", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"UTF-8 cut by the end of the file", "a\n\xC3", 0, NULL,
     "@:2: not UTF-8 (byte 0xC3 at offset 2); expected UTF-8 text: convert the file first, e.g. "
     "iconv -f LATIN1 -t UTF-8 @ > converted.csv", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"UTF-16", "\xFF\xFE" "a\0,\0b\0", 8, NULL, "@: is UTF-16 (byte-order mark FF FE); expected UTF-8: convert it "
     "first, e.g. iconv -f UTF-16 -t UTF-8 @ > converted.csv", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"empty file", "", 0, NULL, "@: the file is empty; expected a header row and data rows", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"only a byte-order mark", "\xEF\xBB\xBF", 0, NULL, "@: the file is empty; expected a header row and data rows",
     NULL, NULL, NULL, -1, -1, 0, NULL},
    {"only blank lines", "\n\r\n\n", 0, NULL, "@: the file holds only blank lines; expected a header row and data rows",
     NULL, NULL, NULL, -1, -1, 0, NULL},
    {"header only", "a,b\n", 0, NULL, "@: has a header (line 1) but no data rows", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"header and blank lines only", "\na,b\n\n\n", 0, NULL, "@: has a header (line 2) but no data rows", NULL, NULL,
     NULL, -1, -1, 0, NULL},
    {"duplicate header names", "t,HR,x,HR,x\n1,2,3,4,5\n", 0, NULL,
     "@:1: duplicate column name \"HR\" in the header (columns 2 and 4)", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"duplicate header names after trimming", "a, a\n1,2\n", 0, NULL,
     "@:1: duplicate column name \"a\" in the header (columns 1 and 2)", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"unterminated quote", "a,b\n1,2\n3,\"open\n4,5\n", 0, NULL,
     "@:3: unterminated quoted field: the quote opened on this line is still open at the end of the file; "
     "expected a closing quote (\")", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"unterminated quote after the rows read at open", "a,b\n1,2\n3,4\n5,\"six\n\n7,8\n", 0,
     "[dataset]\ninfer_rows = 1\n", NULL, NULL, "2:1|2 3:3|4",
     "@:4: unterminated quoted field: the quote opened on this line is still open at the end of the file; "
     "expected a closing quote (\")", 0, 0, 0, NULL},
    {"missing file", NULL, 0, NULL, "@: cannot open: No such file or directory", NULL, NULL, NULL, -1, -1, 0, NULL},
    /* bad rows */
    {"ragged row, stop", "a,b,c\n1,2,3\n4,5\n6,7,8\n", 0, NULL, NULL, NULL, "2:1|2|3",
     "@:3: expected 3 fields as in the header, found 2", 0, 0, 0, NULL},
    {"ragged rows, skip", "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n", 0, "[dataset]\nbad_rows = skip\n", NULL,
     NULL, "2:1|2|3 4:6|7|8", NULL, 2, 0, 0, "@:3: expected 3 fields as in the header, found 2"},
    {"bad number in a declared int column, stop", "t,HR\n1,80\n2,9 8\n3,81\n", 0, "[columns]\nHR = heart_rate:int\n",
     NULL, "heart_rate:int", "2:80", "@:3: column \"HR\": expected an integer, found \"9 8\"", 0, 0, 0, NULL},
    {"bad number in a declared int column, skip", "t,HR\n1,80\n2,9 8\n3,81\n4,x\n5,NA\n", 0,
     "[dataset]\nbad_rows = skip\n[columns]\nHR = heart_rate:int\n", NULL, "heart_rate:int", "2:80 4:81 6:?", NULL,
     2, 0, 0, "@:3: column \"HR\": expected an integer, found \"9 8\""},
    {"bad number in a declared real column", "t,SpO2\n1,98\n2,9 8\n", 0, "[columns]\nSpO2 = spo2:real\n", NULL,
     "spo2:real", "2:98", "@:3: column \"SpO2\": expected a number, found \"9 8\"", 0, 0, 0, NULL},
    {"bad value after inference", "a,b\n1,2\n3,4.5\n5,x\n", 0, "[dataset]\ninfer_rows = 2\n", NULL, "a:int,b:real",
     "2:1|2 3:3|4.5", "@:4: column \"b\": expected a number, found \"x\"", 0, 0, 0, NULL},
    {"long bad value is cut in the message", "a\n1\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
     0, "[dataset]\ninfer_rows = 1\n", NULL, "a:int", "2:1",
     "@:3: column \"a\": expected an integer, found "
     "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"", 0, 0, 0, NULL},
    /* time and device */
    {"ISO-8601 time column", "ts,v\n2023-04-10T18:28:48Z,1\n2023-04-10T20:28:49+02:00,2\n,3\n", 0,
     "[dataset]\ntime = ts\n", NULL, "v:int",
     "2:t=1681151328000000000;1 3:t=1681151329000000000;2 4:3", NULL, 0, 0, 0, NULL},
    {"epoch_ms time column, detected", "ts,v\n1681151328250,1\n", 0, "[dataset]\ntime = ts\n", NULL, "v:int",
     "2:t=1681151328250000000;1", NULL, 0, 0, 0, NULL},
    {"epoch_s time column, detected", "ts,v\n1681151328,1\n1681151328.5,2\n", 0, "[dataset]\ntime = ts\n", NULL,
     "v:int", "2:t=1681151328000000000;1 3:t=1681151328500000000;2", NULL, 0, 0, 0, NULL},
    {"relative_s time column, detected", "ts,v\n0,1\n0.008,2\n", 0, "[dataset]\ntime = ts\n", NULL, "v:int",
     "2:t=0;1 3:t=8000000;2", NULL, 0, 0, 0, NULL},
    {"epoch_ms declared over a small number", "ts,v\n5,1\n", 0, "[dataset]\ntime = ts\ntime_format = epoch_ms\n",
     NULL, "v:int", "2:t=5000000;1", NULL, 0, 0, 0, NULL},
    {"time column's format given in [columns]", "ts,v\n5,1\n", 0,
     "[dataset]\ntime = ts\n[columns]\nts = t:time:epoch_ms\nv =\n", NULL, "t:time,v:int", "2:t=5000000;5|1", NULL,
     0, 0, 0, NULL},
    {"US 12-hour time column, sent too", "Id,Time,Value\n7,4/1/2016 12:00:05 AM,93\n7,4/1/2016 12:00:10 PM,91\n", 0,
     "[dataset]\ntime = Time\ndevice = Id\n[columns]\nTime = time\nValue = bpm\n", NULL, "time:time,bpm:int",
     "2:d=7;t=1459468805000000000;4/1/2016 12:00:05 AM|93 3:d=7;t=1459512010000000000;4/1/2016 12:00:10 PM|91",
     NULL, 0, 0, 0, NULL},
    {"a time-looking column not named as time stays text", "ts,v\n2023-04-10T18:28:48Z,1\n", 0, NULL, NULL,
     "ts:text,v:int", NULL, NULL, 0, 0, 0, NULL},
    {"a column declared time, format detected", "a,start\n1,4/1/2016 7:54:00 AM\n", 0, "[columns]\nstart = s:time\n",
     NULL, "s:time", "2:4/1/2016 7:54:00 AM", NULL, 0, 0, 0, NULL},
    {"time column that fits no format", "ts,v\n2023-04-10T18:28:48Z,1\nyesterday,2\n", 0, "[dataset]\ntime = ts\n",
     "@:3: time column \"ts\": expected a timestamp (ISO-8601, M/D/YYYY h:mm:ss AM/PM, or seconds), found "
     "\"yesterday\"", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"time column with mixed formats", "ts,v\n4/1/2016 7:54:00 AM,1\n2023-04-10T18:28:48Z,2\n", 0,
     "[dataset]\ntime = ts\n", "@:3: time column \"ts\": expected a timestamp (ISO-8601, M/D/YYYY h:mm:ss AM/PM, or "
     "seconds), found \"2023-04-10T18:28:48Z\"", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"time column without values", "ts,v\nNA,1\n,2\n", 0, "[dataset]\ntime = ts\n",
     "@: time column \"ts\" has no values in the first 2 rows; expected timestamps, or declare the format "
     "(time_format)", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"invalid date after inference", "ts,v\n2023-04-10T18:28:48Z,1\n2023-02-30T00:00:00Z,2\n", 0,
     "[dataset]\ntime = ts\ninfer_rows = 1\n", NULL, "v:int", "2:t=1681151328000000000;1",
     "@:3: column \"ts\": expected a valid date and time, found \"2023-02-30T00:00:00Z\"", 0, 0, 0, NULL},
    {"device column", "id,v\nA,1\nB,2\n", 0, "[dataset]\ndevice = id\n", NULL, "v:int", "2:d=A;1 3:d=B;2", NULL,
     0, 0, 0, NULL},
    {"device id missing", "id,v\nA,1\n,2\n", 0, "[dataset]\ndevice = id\n", NULL, "v:int", "2:d=A;1",
     "@:3: column \"id\": expected a device id, found \"\"", 0, 0, 0, NULL},
    /* the description against the header */
    {"unknown column in [columns]", "a,b\n1,2\n", 0, "[columns]\nSpO2 =\n",
     "@: column \"SpO2\" is not in the header, which has: \"a\", \"b\"", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"unknown time column", "a,b\n1,2\n", 0, "[dataset]\ntime = tiem\n",
     "@: time column \"tiem\" is not in the header, which has: \"a\", \"b\"", NULL, NULL, NULL, -1, -1, 0, NULL},
    {"unknown device column", "a,b\n1,2\n", 0, "[dataset]\ndevice = PatientId\n",
     "@: device column \"PatientId\" is not in the header, which has: \"a\", \"b\"", NULL, NULL, NULL, -1, -1, 0, NULL},
};

static void run_fcase(const fcase *c, unsigned k)
{
    char csv[128], desc[128], want[1024], err[1024];
    snprintf(csv, sizeof csv, "%s/case%02u.csv", dir, k);
    snprintf(desc, sizeof desc, "%s/case%02u.dataset", dir, k);
    if (c->csv) write_bytes(csv, c->csv, c->len ? c->len : strlen(c->csv));
    sb_dataset_desc d;
    sb_dataset_desc_init(&d);
    if (c->desc) {
        write_bytes(desc, c->desc, strlen(c->desc));
        char beside[128];
        sb_dataset_desc_beside(csv, beside, sizeof beside);
        CHECK(strcmp(beside, desc) == 0, "%s: desc beside is \"%s\"", c->title, beside);
        sb_err rc = sb_dataset_desc_load(&d, desc, err, sizeof err);
        CHECK(rc == SB_OK, "%s: description: %s", c->title, err);
    }
    sb_dataset *ds = NULL;
    err[0] = '\0';
    sb_err rc = sb_dataset_open(&ds, csv, &d, err, sizeof err);
    if (c->open_err) {
        expand(want, sizeof want, c->open_err, csv, desc);
        CHECK(rc != SB_OK && ds == NULL, "%s: opened", c->title);
        CHECK(strcmp(err, want) == 0, "%s: error\n    got:  %s\n    want: %s", c->title, err, want);
        sb_dataset_close(ds);
        goto out;
    }
    CHECK(rc == SB_OK, "%s: open: %s", c->title, err);
    if (rc != SB_OK) goto out;
    char got[2048];
    if (c->types) {
        render_types(ds, got, sizeof got);
        CHECK(strcmp(got, c->types) == 0, "%s: types \"%s\", want \"%s\"", c->title, got, c->types);
    }
    if (c->delim) CHECK(sb_dataset_delimiter(ds) == c->delim, "%s: delimiter '%c'", c->title, sb_dataset_delimiter(ds));
    rc = render_records(ds, got, sizeof got, err, sizeof err);
    if (c->records)
        CHECK(strcmp(got, c->records) == 0, "%s: records\n    got:  %s\n    want: %s", c->title, got, c->records);
    if (c->next_err) {
        expand(want, sizeof want, c->next_err, csv, desc);
        CHECK(rc != SB_OK && strcmp(err, want) == 0, "%s: read error\n    got:  %s\n    want: %s", c->title,
              rc ? err : "(none)", want);
    } else {
        CHECK(rc == SB_OK, "%s: read: %s", c->title, err);
    }
    sb_dataset_stats st;
    sb_dataset_get_stats(ds, &st);
    if (c->skipped >= 0) CHECK(st.skipped == (uint64_t)c->skipped, "%s: skipped %" PRIu64, c->title, st.skipped);
    if (c->blank >= 0) CHECK(st.blank_lines == (uint64_t)c->blank, "%s: blank lines %" PRIu64, c->title, st.blank_lines);
    if (c->first_skip) {
        expand(want, sizeof want, c->first_skip, csv, desc);
        CHECK(strcmp(st.first_skip_error, want) == 0, "%s: first skip error \"%s\"", c->title, st.first_skip_error);
    }
    if (!c->next_err)
        CHECK(st.rows == st.records + st.skipped, "%s: rows %" PRIu64 " records %" PRIu64 " skipped %" PRIu64,
              c->title, st.rows, st.records, st.skipped);
    sb_dataset_close(ds);
out:
    unlink(csv);
    unlink(desc);
}

/* Rows over 1 MiB: a long field, and a quote that never closes. */
static void test_long_rows(void)
{
    size_t big = 1200 * 1024;
    char *buf = malloc(big + 64);
    char csv[128], err[512], want[512];
    snprintf(csv, sizeof csv, "%s/long.csv", dir);
    for (int quoted = 0; quoted < 2; quoted++) {
        size_t o = (size_t)sprintf(buf, "a,b\n1,2\n3,%s", quoted ? "\"" : "");
        memset(buf + o, 'x', big);
        o += big;
        o += (size_t)sprintf(buf + o, "\n4,5\n");
        write_bytes(csv, buf, o);
        sb_dataset_desc d;
        sb_dataset_desc_init(&d);
        d.infer_rows = 1;
        sb_dataset *ds;
        sb_err rc = sb_dataset_open(&ds, csv, &d, err, sizeof err);
        CHECK(rc == SB_OK, "long row %d: open: %s", quoted, err);
        if (rc) continue;
        char got[256];
        rc = render_records(ds, got, sizeof got, err, sizeof err);
        if (quoted)
            snprintf(want, sizeof want, "%s:3: row longer than 1048576 bytes (1 MiB), inside a quoted field "
                     "opened on line 3; expected a closing quote (\")", csv);
        else
            snprintf(want, sizeof want, "%s:3: row longer than 1048576 bytes (1 MiB)", csv);
        CHECK(strcmp(got, "2:1|2") == 0, "long row %d: records %s", quoted, got);
        CHECK(rc == SB_ERR_PARSE && strcmp(err, want) == 0, "long row %d:\n    got:  %s\n    want: %s",
              quoted, err, want);
        sb_dataset_close(ds);
        /* Without a row limit at open, the error comes from open. */
        d.infer_rows = 10;
        rc = sb_dataset_open(&ds, csv, &d, err, sizeof err);
        CHECK(rc == SB_ERR_PARSE && strcmp(err, want) == 0, "long row %d at open: %s", quoted, err);
        sb_dataset_close(ds);
    }
    /* Just under the limit is fine. */
    size_t o = (size_t)sprintf(buf, "a,b\n1,");
    memset(buf + o, 'y', 1000 * 1024);
    o += 1000 * 1024;
    o += (size_t)sprintf(buf + o, "\n");
    write_bytes(csv, buf, o);
    sb_dataset *ds;
    sb_err rc = sb_dataset_open(&ds, csv, NULL, err, sizeof err);
    CHECK(rc == SB_OK, "long row under the limit: %s", err);
    if (rc == SB_OK) {
        sb_record r;
        int got;
        rc = sb_dataset_next(ds, &r, &got, err, sizeof err);
        CHECK(rc == SB_OK && got && r.n == 2 && r.values[1].text_len == 1000 * 1024, "long row under the limit read");
        sb_dataset_close(ds);
    }
    unlink(csv);
    free(buf);
}

/* Files over several 64 KiB blocks: a UTF-8 character cut by a block boundary, and bad bytes
 * far from the start, reported with their true line and offset. */
static void test_blocks(void)
{
    char csv[128], err[512], want[512];
    snprintf(csv, sizeof csv, "%s/blocks.csv", dir);
    const unsigned rows = 20000;
    size_t cap = 16 + rows * 16, o;
    char *buf = malloc(cap);

    /* "1,€€\n" is 9 bytes: boundaries fall inside the 3-byte euro signs. */
    o = (size_t)sprintf(buf, "a,b\n");
    for (unsigned k = 0; k < rows; k++) o += (size_t)sprintf(buf + o, "%u,\xE2\x82\xAC\xE2\x82\xAC\n", k % 10);
    write_bytes(csv, buf, o);
    sb_dataset *ds;
    sb_err rc = sb_dataset_open(&ds, csv, NULL, err, sizeof err);
    CHECK(rc == SB_OK, "multibyte across blocks: %s", err);
    if (rc == SB_OK) {
        sb_record r;
        int got;
        unsigned n = 0, good = 0;
        while ((rc = sb_dataset_next(ds, &r, &got, err, sizeof err)) == SB_OK && got) {
            n++;
            good += r.n == 2 && r.line == n + 1 && strcmp(r.values[1].text, "\xE2\x82\xAC\xE2\x82\xAC") == 0;
        }
        CHECK(rc == SB_OK && n == rows && good == rows, "multibyte across blocks: %u rows, %u good: %s", n, good,
              rc ? err : "");
        sb_dataset_close(ds);
    }

    /* A Latin-1 byte and a NUL after 20000 rows. */
    for (int nul = 0; nul < 2; nul++) {
        o = (size_t)sprintf(buf, "a,b\n");
        for (unsigned k = 0; k < rows; k++) o += (size_t)sprintf(buf + o, "1,2\n");
        o += (size_t)sprintf(buf + o, "3,");
        buf[o++] = nul ? '\0' : '\xE9';
        o += (size_t)sprintf(buf + o, "\n4,5\n");
        write_bytes(csv, buf, o);
        sb_dataset_desc d;
        sb_dataset_desc_init(&d);
        d.infer_rows = 1;
        rc = sb_dataset_open(&ds, csv, &d, err, sizeof err);
        CHECK(rc == SB_OK, "bad byte far away: open: %s", err);
        if (rc) continue;
        sb_record r;
        int got;
        unsigned n = 0;
        while ((rc = sb_dataset_next(ds, &r, &got, err, sizeof err)) == SB_OK && got) n++;
        if (nul)
            snprintf(want, sizeof want, "%s: looks binary (NUL byte at offset 80006); expected a text CSV file", csv);
        else
            snprintf(want, sizeof want, "%s:20002: not UTF-8 (byte 0xE9 at offset 80006); expected UTF-8 text: "
                     "convert the file first, e.g. iconv -f LATIN1 -t UTF-8 %s > converted.csv", csv, csv);
        CHECK(n == rows && rc == SB_ERR_PARSE && strcmp(err, want) == 0, "bad byte far away (%s): %u rows, %s",
              nul ? "NUL" : "Latin-1", n, err);
        /* The error stays; a rewind starts over. */
        rc = sb_dataset_next(ds, &r, &got, err, sizeof err);
        CHECK(rc == SB_ERR_PARSE && strcmp(err, want) == 0, "error is sticky");
        CHECK(sb_dataset_rewind(ds, err, sizeof err) == SB_OK &&
              sb_dataset_next(ds, &r, &got, err, sizeof err) == SB_OK && got && r.line == 2, "rewind after an error");
        sb_dataset_close(ds);
    }
    unlink(csv);
    free(buf);
}

/* ---- descriptions --------------------------------------------------------------------------- */

typedef struct dcase {
    const char *ini;
    const char *err; /* '$' is the description's path */
} dcase;

static const dcase dcases[] = {
    {"[dataset]\n; a comment\ntiem = obsTime\n", "$:3: unknown key \"tiem\" in [dataset] (known: delimiter, header, "
     "missing, time, time_format, device, bad_rows, infer_rows)"},
    {"[dataset]\ndelimiter = |\n", "$:2: delimiter: expected , ; tab or auto, found \"|\""},
    {"[data]\n", "$:1: unknown section [data]; expected [dataset] or [columns]"},
    {"[dataset\n", "$:1: expected a section name in brackets, found \"[dataset\""},
    {"time = x\n", "$:1: \"time\" outside a section; expected [dataset] or [columns] first"},
    {"[dataset]\ntime = a\n\ntime = b\n", "$:4: \"time\" is set twice (first on line 2)"},
    {"[dataset]\ndelimiter\n", "$:2: expected delimiter = value"},
    {"[dataset]\nheader = maybe\n", "$:2: header: expected yes or no, found \"maybe\""},
    {"[dataset]\nbad_rows = ignore\n", "$:2: bad_rows: expected stop or skip, found \"ignore\""},
    {"[dataset]\ninfer_rows = -5\n", "$:2: infer_rows: expected a positive whole number, found \"-5\""},
    {"[dataset]\ninfer_rows = 0\n", "$:2: infer_rows: expected a positive whole number, found \"0\""},
    {"[dataset]\ntime_format = iso\n", "$:2: time_format: expected auto, iso8601, epoch_s, epoch_ms, relative_s or "
     "us_12h, found \"iso\""},
    {"[dataset]\nmissing = \"-, n/a\n", "$:2: \"missing\": unterminated quoted value"},
    {"[columns]\nHR = hr:integer\n", "$:2: column \"HR\": unknown type \"integer\"; expected int, real, text, time or auto"},
    {"[columns]\nHR = hr:int:iso8601\n", "$:2: column \"HR\": a time format is for type time, not \"int\""},
    {"[columns]\nT = t:time:iso\n", "$:2: column \"T\": unknown time format \"iso\"; expected auto, iso8601, epoch_s, "
     "epoch_ms, relative_s or us_12h"},
    {"[columns]\nHR = hr\nHR = h2\n", "$:3: column \"HR\" is listed twice in [columns]"},
    {"[columns]\nHR = x\nRR = x\n", "$:3: column \"RR\" is sent as \"x\", like column \"HR\""},
    {"[columns]\n[columns]\n", "$:2: a second [columns] section"},
};

static void test_descriptions(void)
{
    char path[128], want[512], err[512];
    snprintf(path, sizeof path, "%s/d.dataset", dir);
    for (size_t k = 0; k < sizeof dcases / sizeof *dcases; k++) {
        write_bytes(path, dcases[k].ini, strlen(dcases[k].ini));
        sb_dataset_desc d;
        sb_dataset_desc_init(&d);
        err[0] = '\0';
        sb_err rc = sb_dataset_desc_load(&d, path, err, sizeof err);
        expand(want, sizeof want, dcases[k].err, "", path);
        CHECK(rc == SB_ERR_PARSE && strcmp(err, want) == 0, "description %zu:\n    got:  %s\n    want: %s", k,
              err, want);
    }

    /* Everything, read back. */
    const char *ini = "\xEF\xBB\xBF# vitals\n[dataset]\n"
                      "delimiter = ;          ; , ; tab\n"
                      "header = yes\n"
                      "missing = -, n/a ,\"?\"   ; extra markers\n"
                      "time = obsTime\n"
                      "time_format = iso8601\n"
                      "device = Patient ID\n"
                      "bad_rows = skip\n"
                      "infer_rows = 500\n"
                      "\n[columns]\n"
                      "HR = heart_rate:int\n"
                      "Temp = temperature : real\n"
                      "Time [s] = :time:relative_s\n"
                      "SpO2\n";
    write_bytes(path, ini, strlen(ini));
    sb_dataset_desc d;
    sb_dataset_desc_init(&d);
    d.n_columns = 1; /* replaced by the file's [columns] */
    sb_err rc = sb_dataset_desc_load(&d, path, err, sizeof err);
    CHECK(rc == SB_OK, "full description: %s", err);
    CHECK(d.delimiter == ';' && !d.no_header && d.bad_rows == SB_BAD_ROWS_SKIP && d.infer_rows == 500,
          "full description: delimiter/header/bad_rows/infer_rows");
    CHECK(d.n_missing == 3 && !strcmp(d.missing[0], "-") && !strcmp(d.missing[1], "n/a") &&
          !strcmp(d.missing[2], "\"?\""), "full description: missing (%d)", d.n_missing);
    CHECK(!strcmp(d.time_column, "obsTime") && d.time_format == SB_TIME_ISO8601 &&
          !strcmp(d.device_column, "Patient ID"), "full description: time/device");
    CHECK(d.n_columns == 4, "full description: %zu columns", d.n_columns);
    if (d.n_columns == 4) {
        CHECK(!strcmp(d.columns[0].source, "HR") && !strcmp(d.columns[0].name, "heart_rate") &&
              d.columns[0].type == SB_COL_INT, "column 0");
        CHECK(!strcmp(d.columns[1].source, "Temp") && !strcmp(d.columns[1].name, "temperature") &&
              d.columns[1].type == SB_COL_REAL, "column 1");
        CHECK(!strcmp(d.columns[2].source, "Time [s]") && !strcmp(d.columns[2].name, "Time [s]") &&
              d.columns[2].type == SB_COL_TIME && d.columns[2].time_format == SB_TIME_RELATIVE_S, "column 2");
        CHECK(!strcmp(d.columns[3].source, "SpO2") && !strcmp(d.columns[3].name, "SpO2") &&
              d.columns[3].type == SB_COL_AUTO, "column 3");
    }
    /* A quoted value keeps what would be a comment. */
    ini = "[dataset]\nmissing = \"#\"\ndelimiter = \"tab\"\n";
    write_bytes(path, ini, strlen(ini));
    sb_dataset_desc_init(&d);
    rc = sb_dataset_desc_load(&d, path, err, sizeof err);
    CHECK(rc == SB_OK && d.n_missing == 1 && !strcmp(d.missing[0], "#") && d.delimiter == '\t',
          "quoted values: %s", rc ? err : "");
    unlink(path);

    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    rc = sb_dataset_desc_load(&d, path, err, sizeof err);
    CHECK(rc == SB_ERR_IO && strcmp(err, want) == 0, "missing description: %s", err);

    /* Beside: the extension replaced, or added; empty when absent. */
    char csv[128], out[128], expect[128];
    snprintf(csv, sizeof csv, "%s/vitals.v1.csv", dir);
    snprintf(expect, sizeof expect, "%s/vitals.v1.dataset", dir);
    sb_dataset_desc_beside(csv, out, sizeof out);
    CHECK(out[0] == '\0', "beside without a description: \"%s\"", out);
    write_bytes(expect, "", 0);
    sb_dataset_desc_beside(csv, out, sizeof out);
    CHECK(strcmp(out, expect) == 0, "beside: \"%s\"", out);
    unlink(expect);
    snprintf(csv, sizeof csv, "%s/noext", dir);
    snprintf(expect, sizeof expect, "%s/noext.dataset", dir);
    write_bytes(expect, "", 0);
    sb_dataset_desc_beside(csv, out, sizeof out);
    CHECK(strcmp(out, expect) == 0, "beside without an extension: \"%s\"", out);
    unlink(expect);
}

/* ---- rewind and stats ----------------------------------------------------------------------- */

static void test_rewind(void)
{
    char csv[128], err[512];
    snprintf(csv, sizeof csv, "%s/rewind.csv", dir);
    const char *text = "a,b\n\n1,2\n3,x\n5,6\n";
    write_bytes(csv, text, strlen(text));
    sb_dataset_desc d;
    sb_dataset_desc_init(&d);
    d.bad_rows = SB_BAD_ROWS_SKIP;
    d.n_columns = 2;
    snprintf(d.columns[0].source, sizeof d.columns[0].source, "b");
    d.columns[0].type = SB_COL_INT;
    snprintf(d.columns[1].source, sizeof d.columns[1].source, "a");
    snprintf(d.columns[1].name, sizeof d.columns[1].name, "first");
    sb_dataset *ds;
    sb_err rc = sb_dataset_open(&ds, csv, &d, err, sizeof err);
    CHECK(rc == SB_OK, "rewind: open: %s", err);
    if (rc) return;
    CHECK(strcmp(sb_dataset_path(ds), csv) == 0, "path");
    CHECK(sb_dataset_time_format(ds) == SB_TIME_AUTO && !sb_dataset_time_column(ds) && !sb_dataset_device_column(ds),
          "no time or device column");
    for (int pass = 0; pass < 2; pass++) {
        char got[256];
        rc = render_records(ds, got, sizeof got, err, sizeof err);
        CHECK(rc == SB_OK && strcmp(got, "3:2|1 5:6|5") == 0, "pass %d: %s", pass, got);
        sb_dataset_stats st;
        sb_dataset_get_stats(ds, &st);
        CHECK(st.rows == 3 && st.records == 2 && st.skipped == 1 && st.blank_lines == 1 &&
              st.bytes == strlen(text), "pass %d: stats %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
              pass, st.rows, st.records, st.skipped, st.blank_lines, st.bytes);
        rc = sb_dataset_rewind(ds, err, sizeof err);
        CHECK(rc == SB_OK, "rewind: %s", err);
    }
    sb_record r;
    int got;
    rc = sb_dataset_next(ds, &r, &got, err, sizeof err);
    CHECK(rc == SB_OK && got && r.index == 0 && r.line == 3, "first record after rewind");
    rc = sb_dataset_next(ds, &r, &got, err, sizeof err);
    CHECK(rc == SB_OK && got && r.index == 1 && r.line == 5, "second record after rewind (index counts records)");
    sb_dataset_close(ds);
    sb_dataset_close(NULL);
    unlink(csv);
}

/* ---- the real datasets ---------------------------------------------------------------------- */

typedef struct real_run {
    uint64_t records, missing[8];
    int64_t first_t, last_t;
    uint64_t last_line;
    char first_device[32];
    double first_value;
} real_run;

static sb_err read_all(const char *path, const sb_dataset_desc *d, const char *types, real_run *out)
{
    char err[512], got[512];
    sb_dataset *ds;
    memset(out, 0, sizeof *out);
    sb_err rc = sb_dataset_open(&ds, path, d, err, sizeof err);
    CHECK(rc == SB_OK, "%s: %s", path, err);
    if (rc) return rc;
    render_types(ds, got, sizeof got);
    CHECK(strcmp(got, types) == 0, "%s: types\n    got:  %s\n    want: %s", path, got, types);
    sb_record r;
    int g;
    while ((rc = sb_dataset_next(ds, &r, &g, err, sizeof err)) == SB_OK && g) {
        if (out->records == 0) {
            out->first_t = r.t_ns;
            if (r.device) snprintf(out->first_device, sizeof out->first_device, "%s", r.device);
            out->first_value = r.n ? r.values[0].r : 0;
        }
        out->last_t = r.t_ns;
        out->last_line = r.line;
        out->records++;
        for (size_t i = 0; i < r.n && i < 8; i++) out->missing[i] += (uint64_t)r.values[i].missing;
    }
    CHECK(rc == SB_OK, "%s: %s", path, err);
    sb_dataset_stats st;
    sb_dataset_get_stats(ds, &st);
    CHECK(st.skipped == 0 && st.blank_lines == 0 && st.rows == out->records, "%s: stats", path);
    struct stat sst;
    CHECK(stat(path, &sst) == 0 && st.bytes == (uint64_t)sst.st_size, "%s: bytes %" PRIu64, path, st.bytes);
    sb_dataset_close(ds);
    return rc;
}

static void test_real(const char *folder)
{
    struct stat st;
    if (!folder || stat(folder, &st) != 0 || !S_ISDIR(st.st_mode)) {
        SKIP("the real-file checks: %s not found (the real datasets of the shared workspace are "
             "optional; give their folder as argument 1)",
             folder ? folder : "(no folder given)");
        return;
    }
    char path[512];
    sb_dataset_desc d;
    real_run run;

    /* Sepsis subset: NA, zero-padded ids, ISO-8601 with Z. */
    snprintf(path, sizeof path, "%s/physionet2019_sepsis_subset_50pt.csv", folder);
    sb_dataset_desc_init(&d);
    if (read_all(path, &d, "PatientID:text,ICULOS:int,HR:int,Temp:real,Resp:int,SepsisLabel:int,obsTime:text",
                 &run) == SB_OK) {
        CHECK(run.records == 1753, "sepsis: %" PRIu64 " records", run.records);
        CHECK(run.missing[2] == 83 && run.missing[3] == 1148 && run.missing[4] == 177,
              "sepsis: missing HR %" PRIu64 " Temp %" PRIu64 " Resp %" PRIu64, run.missing[2], run.missing[3],
              run.missing[4]);
    }
    snprintf(d.time_column, sizeof d.time_column, "obsTime");
    snprintf(d.device_column, sizeof d.device_column, "PatientID");
    if (read_all(path, &d, "ICULOS:int,HR:int,Temp:real,Resp:int,SepsisLabel:int", &run) == SB_OK) {
        CHECK(run.records == 1753 && run.last_line == 1754, "sepsis: %" PRIu64 " records", run.records);
        CHECK(run.first_t == NS(1681151328), "sepsis: first time %" PRId64, run.first_t);     /* 2023-04-10T18:28:48Z */
        CHECK(run.last_t == NS(1681241461), "sepsis: last time %" PRId64, run.last_t);        /* 2023-04-11T19:31:01Z */
        CHECK(strcmp(run.first_device, "000207") == 0, "sepsis: first device %s", run.first_device);
        CHECK(run.missing[1] == 83 && run.missing[2] == 1148 && run.missing[3] == 177, "sepsis: missing");
    }
    {
        sb_dataset *ds;
        char err[256];
        if (sb_dataset_open(&ds, path, &d, err, sizeof err) == SB_OK) {
            CHECK(sb_dataset_time_format(ds) == SB_TIME_ISO8601, "sepsis: obsTime is %s",
                  sb_time_format_name(sb_dataset_time_format(ds)));
            CHECK(!strcmp(sb_dataset_device_column(ds), "PatientID") && !strcmp(sb_dataset_time_column(ds), "obsTime"),
                  "sepsis: device and time column names");
            sb_record r;
            int g;
            CHECK(sb_dataset_next(ds, &r, &g, err, sizeof err) == SB_OK && g && r.time_text &&
                  !strcmp(r.time_text, "2023-04-10T18:28:48Z") && !strcmp(r.device, "000207"), "sepsis: first record");
            sb_dataset_close(ds);
        }
    }

    /* Fitbit: CRLF, US 12-hour times, a 10-digit id. */
    snprintf(path, sizeof path, "%s/fitbit_heartrate_seconds_merged_subset.csv", folder);
    sb_dataset_desc_init(&d);
    if (read_all(path, &d, "Id:int,Time:text,Value:int", &run) == SB_OK)
        CHECK(run.records == 8418 && run.first_value == 2022484408.0, "fitbit: %" PRIu64 " records", run.records);
    snprintf(d.time_column, sizeof d.time_column, "Time");
    snprintf(d.device_column, sizeof d.device_column, "Id");
    if (read_all(path, &d, "Value:int", &run) == SB_OK) {
        CHECK(run.records == 8418 && run.last_line == 8419, "fitbit: %" PRIu64 " records", run.records);
        CHECK(run.first_t == NS(1459497240), "fitbit: first time %" PRId64, run.first_t); /* 4/1/2016 7:54:00 AM */
        CHECK(run.last_t == NS(1459675415), "fitbit: last time %" PRId64, run.last_t);   /* 4/3/2016 9:23:35 AM */
        CHECK(strcmp(run.first_device, "2022484408") == 0 && run.first_value == 93.0, "fitbit: first row");
        sb_dataset *ds;
        char err[256];
        if (sb_dataset_open(&ds, path, &d, err, sizeof err) == SB_OK) {
            CHECK(sb_dataset_time_format(ds) == SB_TIME_US_12H, "fitbit: Time is %s",
                  sb_time_format_name(sb_dataset_time_format(ds)));
            sb_dataset_close(ds);
        }
    }

    /* BIDMC: " RESP" names, relative seconds at 125 Hz. */
    snprintf(path, sizeof path, "%s/bidmc_01_Signals.csv", folder);
    sb_dataset_desc_init(&d);
    if (read_all(path, &d, "Time [s]:real,RESP:real,PLETH:real,V:real,AVR:real,II:real", &run) == SB_OK)
        CHECK(run.records == 60001, "bidmc: %" PRIu64 " records", run.records);
    snprintf(d.time_column, sizeof d.time_column, "Time [s]");
    if (read_all(path, &d, "RESP:real,PLETH:real,V:real,AVR:real,II:real", &run) == SB_OK) {
        CHECK(run.records == 60001 && run.last_line == 60002, "bidmc: %" PRIu64 " records", run.records);
        CHECK(run.first_t == 0 && run.last_t == NS(480), "bidmc: times %" PRId64 " .. %" PRId64, run.first_t,
              run.last_t);
        CHECK(run.first_value == 0.35386, "bidmc: first RESP %.17g", run.first_value);
        sb_dataset *ds;
        char err[256];
        if (sb_dataset_open(&ds, path, &d, err, sizeof err) == SB_OK) {
            CHECK(sb_dataset_time_format(ds) == SB_TIME_RELATIVE_S, "bidmc: Time [s] is %s",
                  sb_time_format_name(sb_dataset_time_format(ds)));
            sb_record r;
            int g;
            sb_dataset_next(ds, &r, &g, err, sizeof err);
            sb_dataset_next(ds, &r, &g, err, sizeof err);
            CHECK(g && r.has_time && r.t_ns == 8000000 && r.line == 3, "bidmc: second sample at 8 ms");
            sb_dataset_close(ds);
        }
    }
}

/* ---- flat memory ------------------------------------------------------------------------------ */

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

/* Streams a generated ~50 MB file: the peak resident set must not grow with it. */
static void test_flat_memory(void)
{
    char csv[128], err[512];
    snprintf(csv, sizeof csv, "%s/big.csv", dir);
    int fd = open(csv, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        CHECK(0, "cannot create %s: %s", csv, strerror(errno));
        return;
    }
    static char buf[1 << 16];
    size_t o = (size_t)snprintf(buf, sizeof buf, "device,ts,hr,spo2,temp,note\n");
    uint64_t rows = 0, bytes = 0, last_line = 0, extra = 0;
    while (bytes < 50u * 1000 * 1000) {
        if (o > sizeof buf - 128) {
            if (write(fd, buf, o) != (ssize_t)o) break;
            bytes += o;
            o = 0;
        }
        o += (size_t)snprintf(buf + o, sizeof buf - o, "dev-%04u,%" PRIu64 ",%u,%u,%u.%u,%s\n",
                              (unsigned)(rows % 1000), 1681151328000 + rows * 250, 50 + (unsigned)(rows % 97),
                              90 + (unsigned)(rows % 11), 36 + (unsigned)(rows % 3), (unsigned)(rows % 10),
                              rows % 1000 == 7 ? "\"a, quoted\nnote\"" : "ok");
        last_line = 2 + rows + extra; /* the header, the rows before, their quoted newlines */
        extra += rows % 1000 == 7;
        rows++;
    }
    bytes += o;
    CHECK(write(fd, buf, o) == (ssize_t)o && close(fd) == 0, "writing %s", csv);

    /* Peak RSS from here on (writing "5" resets VmHWM, Linux 4.0+). */
    int fd_cr = open("/proc/self/clear_refs", O_WRONLY);
    if (fd_cr >= 0) {
        if (write(fd_cr, "5", 1) != 1) { /* the absolute peak then */ }
        close(fd_cr);
    }
    long before = vm_hwm_kb();
    sb_dataset_desc d;
    sb_dataset_desc_init(&d);
    snprintf(d.time_column, sizeof d.time_column, "ts");
    snprintf(d.device_column, sizeof d.device_column, "device");
    sb_dataset *ds;
    sb_err rc = sb_dataset_open(&ds, csv, &d, err, sizeof err);
    CHECK(rc == SB_OK, "big file: %s", err);
    if (rc == SB_OK) {
        sb_record r;
        int got;
        uint64_t n = 0, line = 0;
        int64_t last_t = 0;
        while ((rc = sb_dataset_next(ds, &r, &got, err, sizeof err)) == SB_OK && got) {
            n++;
            line = r.line;
            last_t = r.t_ns;
        }
        long after = vm_hwm_kb();
        sb_dataset_stats st;
        sb_dataset_get_stats(ds, &st);
        CHECK(rc == SB_OK && n == rows, "big file: %" PRIu64 " of %" PRIu64 " records: %s", n, rows, rc ? err : "");
        CHECK(line == last_line, "big file: last line %" PRIu64 ", expected %" PRIu64, line, last_line);
        CHECK(last_t == (int64_t)(1681151328000 + (rows - 1) * 250) * 1000000, "big file: last time");
        CHECK(st.bytes == bytes, "big file: %" PRIu64 " bytes read of %" PRIu64, st.bytes, bytes);
        CHECK(before > 0 && after - before < 4096, "big file: peak RSS grew by %ld kB (from %ld kB) over %" PRIu64
              " MB", after - before, before, bytes >> 20);
        printf("flat memory: %" PRIu64 " MB, %" PRIu64 " rows, peak RSS %ld kB -> %ld kB\n", bytes >> 20, rows,
               before, after);
        sb_dataset_close(ds);
    }
    unlink(csv);
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "/tmp/sb-datasets-XXXXXX");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 2;
    }
    test_flat_memory(); /* first, before other tests raise the peak */
    test_values();
    for (unsigned k = 0; k < sizeof fcases / sizeof *fcases; k++) run_fcase(&fcases[k], k);
    test_long_rows();
    test_blocks();
    test_descriptions();
    test_rewind();
    /* The real files of the shared workspace, where a clone of it has them (skipped, with the
     * reason, elsewhere). */
    test_real(argc > 1 ? argv[1] : "../shared/datasets/real");
    rmdir(dir);
    return check_done("datasets");
}
