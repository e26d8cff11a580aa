/* The streaming CSV reader: fixed-size blocks from read(2), checked for NUL bytes and UTF-8,
 * handed to libcsv, whose callbacks append fields to a reused arena and close rows into a
 * queue that sb_csv_next drains one row at a time. Memory is bounded by the block plus one
 * row; nothing is allocated per field once the buffers have grown to the widest block.
 *
 * libcsv says nothing of lines, so they are counted here: a row ends on CR or LF (libcsv's
 * CSV_REPALL_NL reports every one, the LF of a CRLF as an empty row right after the CR),
 * and newlines inside quoted fields are counted in the field's text. A row's line is where
 * it starts. libcsv runs in its lenient mode (a stray quote inside an unquoted field is
 * kept as text, to fail later as a bad value of its column); the one quoting error it cannot
 * report, a quote still open at the end of the file, is read from its public parser state. */
#include "datasets/csv.h"

#include "common/utf8.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libcsv.c's parser state "inside a field" (3.0.x); with p->quoted set, the quote is open. */
#define LIBCSV_FIELD_BEGUN 2

typedef struct fref {
    uint32_t off, len; /* into the arena; offsets survive its growth */
} fref;

typedef struct qrow {
    uint64_t line;
    size_t first, n; /* fields[first .. first + n) */
} qrow;

struct sb_csv {
    char *path;
    int fd;
    struct csv_parser p;
    char delim;

    unsigned char *block; /* SB_CSV_BLOCK + room for a UTF-8 sequence cut by the last block */
    size_t carry;         /* bytes of that sequence at the start of block */
    uint64_t file_off;    /* bytes read from the file */
    int eof;              /* everything parsed (or a fatal error): only the queue is left */

    char *arena;
    size_t arena_len, arena_cap;
    fref *fields;
    size_t n_fields, fields_cap;
    qrow *rows;
    size_t n_rows, rows_head, rows_cap;

    /* The row being built by the callbacks. */
    size_t row_first;      /* its first field in fields[] */
    size_t row_arena;      /* its first byte in the arena */
    size_t arena_limit;    /* on_field's fast path while arena_len + len stays within this */
    size_t fields_limit;   /* ... and n_fields below this (both 0 after a fatal error) */
    uint64_t line;         /* line of the next byte libcsv has not yet reported on */
    uint64_t row_line;     /* line where the row being built starts */
    int prev_cr;           /* the last row ended on CR: an empty row on LF is its CRLF */
    int quotes;            /* a quote was seen in this pass (before it no field holds a LF) */

    sb_err fatal;          /* sticky until rewind, reported once the queue is drained */
    char fatal_msg[512];

    sb_csv_field *out;     /* the fields of the row handed out */
    size_t out_cap;
    uint64_t blank_lines;
};

void sb_csv_errf(char *err, size_t n, const char *fmt, ...)
{
    if (!err || n == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* The fast-path limits of on_field: room in the buffers, the row within its size and field
 * count. One comparison each per field instead of five. */
static void set_limits(sb_csv *r)
{
    size_t room = r->arena_cap >= 16 ? r->arena_cap - 16 : 0;
    size_t row = r->row_arena + SB_CSV_MAX_ROW - 1;
    size_t nf = r->row_first + SB_CSV_MAX_FIELDS;
    r->arena_limit = r->fatal ? 0 : room < row ? room : row;
    r->fields_limit = r->fatal ? 0 : r->fields_cap < nf ? r->fields_cap : nf;
}

static void set_fatal(sb_csv *r, sb_err rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_fatal(sb_csv *r, sb_err rc, const char *fmt, ...)
{
    if (r->fatal) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->fatal_msg, sizeof r->fatal_msg, fmt, ap);
    va_end(ap);
    r->fatal = rc;
    r->eof = 1;
    set_limits(r);
}

/* Grow *p (elements of size sz) to hold need; doubling, so that growth stops early. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * sz);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* ---- the delimiter ------------------------------------------------------------------------ */

/* The delimiter of the first non-blank line of buf (after a byte-order mark): the most frequent
 * of , ; and tab outside quotes; ',' when none or on a tie with ','. */
static char detect_delimiter(const char *buf, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) i = 3;
    /* Skip blank lines. */
    for (size_t j = i; j < len; j++) {
        if (buf[j] == '\n') i = j + 1;
        else if (buf[j] != '\r' && buf[j] != ' ') break;
    }
    size_t comma = 0, semi = 0, tab = 0;
    int quoted = 0;
    for (; i < len; i++) {
        char c = buf[i];
        if (c == '"') quoted = !quoted;
        else if (quoted) continue;
        else if (c == '\n' || c == '\r') break;
        else if (c == ',') comma++;
        else if (c == ';') semi++;
        else if (c == '\t') tab++;
    }
    if (semi > comma && semi >= tab) return ';';
    if (tab > comma && tab > semi) return '\t';
    return ',';
}

/* ---- libcsv callbacks --------------------------------------------------------------------- */

/* The rare cases of on_field: a limit reached, or a buffer to grow. -1: stop. */
static int field_slow(sb_csv *r, size_t len)
{
    if (r->fatal) return -1;
    if (r->arena_len - r->row_arena + len + 1 > SB_CSV_MAX_ROW) {
        set_fatal(r, SB_ERR_PARSE, "%s:%llu: row longer than %u bytes (1 MiB)", r->path,
                  (unsigned long long)r->row_line, SB_CSV_MAX_ROW);
        return -1;
    }
    if (r->n_fields - r->row_first >= SB_CSV_MAX_FIELDS) {
        set_fatal(r, SB_ERR_PARSE, "%s:%llu: row with more than %u fields", r->path,
                  (unsigned long long)r->row_line, SB_CSV_MAX_FIELDS);
        return -1;
    }
    if (grow((void **)&r->arena, &r->arena_cap, r->arena_len + len + 16, 1) ||
        grow((void **)&r->fields, &r->fields_cap, r->n_fields + 1, sizeof *r->fields)) {
        set_fatal(r, SB_ERR_NOMEM, "%s: out of memory", r->path);
        return -1;
    }
    set_limits(r);
    return 0;
}

static void on_field(void *data, size_t len, void *ctx)
{
    sb_csv *r = ctx;
    if (__builtin_expect(r->arena_len + len > r->arena_limit || r->n_fields >= r->fields_limit, 0) &&
        field_slow(r, len))
        return;
    char *dst = r->arena + r->arena_len;
    /* Most fields are short: a fixed 16-byte copy is inlined where memcpy(len) is a call.
     * data is libcsv's field buffer, entry_size bytes long, so the over-read stays inside it;
     * the arena keeps 16 bytes to spare. */
    if (len <= 16 && r->p.entry_size >= 16 && data == r->p.entry_buf)
        memcpy(dst, data, 16);
    else
        memcpy(dst, data, len);
    dst[len] = '\0';
    r->fields[r->n_fields++] = (fref){(uint32_t)r->arena_len, (uint32_t)len};
    r->arena_len += len + 1;
    /* Only a quoted field can hold a newline, and none can before the file's first quote. */
    if (r->quotes)
        for (const char *q = dst, *end = dst + len; (q = memchr(q, '\n', (size_t)(end - q))); q++)
            r->line++;
}

static void on_row(int c, void *ctx)
{
    sb_csv *r = ctx;
    if (r->fatal) return;
    size_t nf = r->n_fields - r->row_first;
    if (nf == 0) {
        /* An empty row: the LF of a CRLF, or a blank (or all-blank) line. */
        if (!(c == '\n' && r->prev_cr) && c != -1) {
            r->blank_lines++;
            r->line++;
        }
    } else {
        if (grow((void **)&r->rows, &r->rows_cap, r->n_rows + 1, sizeof *r->rows)) {
            set_fatal(r, SB_ERR_NOMEM, "%s: out of memory", r->path);
            return;
        }
        r->rows[r->n_rows++] = (qrow){r->row_line, r->row_first, nf};
        r->row_first = r->n_fields;
        r->row_arena = r->arena_len;
        set_limits(r);
        if (c == '\n' || c == '\r') r->line++;
    }
    r->prev_cr = c == '\r';
    r->row_line = r->line;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* The line of file offset off: 1 + the newlines before it (only on the error path). */
static uint64_t line_at(int fd, uint64_t off)
{
    char buf[SB_CSV_BLOCK];
    uint64_t line = 1, pos = 0;
    while (pos < off) {
        size_t want = off - pos < sizeof buf ? (size_t)(off - pos) : sizeof buf;
        ssize_t got = pread(fd, buf, want, (off_t)pos);
        if (got <= 0) break;
        for (ssize_t i = 0; i < got; i++) line += buf[i] == '\n';
        pos += (uint64_t)got;
    }
    return line;
}

static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -1;
        if (k == 0) break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

static void feed(sb_csv *r, const unsigned char *s, size_t len)
{
    if (r->fatal || len == 0) return;
    if (!r->quotes && memchr(s, '"', len)) r->quotes = 1;
    if (csv_parse(&r->p, s, len, on_field, on_row, r) != len && !r->fatal)
        set_fatal(r, SB_ERR_NOMEM, "%s: %s", r->path, csv_strerror(csv_error(&r->p)));
    /* A field still open counts against the row too. */
    if (!r->fatal && r->arena_len - r->row_arena + r->p.entry_pos > SB_CSV_MAX_ROW) {
        if (r->p.quoted && r->p.pstate == LIBCSV_FIELD_BEGUN)
            set_fatal(r, SB_ERR_PARSE, "%s:%llu: row longer than %u bytes (1 MiB), inside a "
                      "quoted field opened on line %llu; expected a closing quote (\")",
                      r->path, (unsigned long long)r->row_line, SB_CSV_MAX_ROW,
                      (unsigned long long)r->line);
        else
            set_fatal(r, SB_ERR_PARSE, "%s:%llu: row longer than %u bytes (1 MiB)", r->path,
                      (unsigned long long)r->row_line, SB_CSV_MAX_ROW);
    }
}

static void bad_bytes(sb_csv *r, uint64_t off, int nul, unsigned byte)
{
    if (nul)
        set_fatal(r, SB_ERR_PARSE, "%s: looks binary (NUL byte at offset %llu); expected a "
                  "text CSV file", r->path, (unsigned long long)off);
    else
        set_fatal(r, SB_ERR_PARSE, "%s:%llu: not UTF-8 (byte 0x%02X at offset %llu); expected "
                  "UTF-8 text: convert the file first, e.g. iconv -f LATIN1 -t UTF-8 %s > "
                  "converted.csv", r->path, (unsigned long long)line_at(r->fd, off), byte,
                  (unsigned long long)off, r->path);
}

/* One block: read, check, parse. At the end of the file, close the last row. */
static void fill(sb_csv *r)
{
    unsigned char *buf = r->block;
    size_t carry = r->carry;
    uint64_t base = r->file_off - carry; /* file offset of buf[0] */
    ssize_t got = read_full(r->fd, buf + carry, SB_CSV_BLOCK);
    if (got < 0) {
        set_fatal(r, SB_ERR_IO, "%s: read error: %s", r->path, strerror(errno));
        return;
    }
    r->file_off += (uint64_t)got;
    if (got == 0) {
        if (carry) {
            bad_bytes(r, base, 0, buf[0]); /* a sequence cut by the end of the file */
            return;
        }
        if (r->p.quoted && r->p.pstate == LIBCSV_FIELD_BEGUN) {
            set_fatal(r, SB_ERR_PARSE, "%s:%llu: unterminated quoted field: the quote opened "
                      "on this line is still open at the end of the file; expected a closing "
                      "quote (\")", r->path, (unsigned long long)r->line);
            return;
        }
        csv_fini(&r->p, on_field, on_row, r);
        r->eof = 1;
        return;
    }
    size_t n = carry + (size_t)got, start = 0;
    if (base == 0) {
        if (n >= 2 && ((buf[0] == 0xFF && buf[1] == 0xFE) || (buf[0] == 0xFE && buf[1] == 0xFF))) {
            set_fatal(r, SB_ERR_PARSE, "%s: is UTF-16 (byte-order mark %02X %02X); expected "
                      "UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8 %s > converted.csv",
                      r->path, buf[0], buf[1], r->path);
            return;
        }
        if (n >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) start = 3;
    }
    int nul;
    size_t partial;
    size_t ok = start + sb_utf8_prefix(buf + start, n - start, &nul, &partial);
    if (ok < n && !partial) {
        feed(r, buf + start, ok - start);
        bad_bytes(r, base + ok, nul, buf[ok]);
        return;
    }
    feed(r, buf + start, ok - start);
    memmove(buf, buf + ok, partial);
    r->carry = partial;
}

sb_err sb_csv_next(sb_csv *r, sb_csv_row *row, int *got, char *err, size_t err_len)
{
    *got = 0;
    for (;;) {
        if (r->rows_head < r->n_rows) {
            const qrow *q = &r->rows[r->rows_head++];
            if (grow((void **)&r->out, &r->out_cap, q->n, sizeof *r->out)) {
                sb_csv_errf(err, err_len, "%s: out of memory", r->path);
                return SB_ERR_NOMEM;
            }
            for (size_t i = 0; i < q->n; i++) {
                const fref *f = &r->fields[q->first + i];
                r->out[i] = (sb_csv_field){r->arena + f->off, f->len};
            }
            row->line = q->line;
            row->n = q->n;
            row->f = r->out;
            *got = 1;
            return SB_OK;
        }
        if (r->fatal) {
            sb_csv_errf(err, err_len, "%s", r->fatal_msg);
            return r->fatal;
        }
        if (r->eof) return SB_OK;
        /* Every queued row is handed out: keep only the row in progress, at the front. */
        size_t keep_fields = r->n_fields - r->row_first, keep_bytes = r->arena_len - r->row_arena;
        if (keep_bytes) memmove(r->arena, r->arena + r->row_arena, keep_bytes);
        for (size_t i = 0; i < keep_fields; i++) {
            r->fields[i] = r->fields[r->row_first + i];
            r->fields[i].off -= (uint32_t)r->row_arena;
        }
        r->arena_len = keep_bytes;
        r->n_fields = keep_fields;
        r->row_first = r->row_arena = 0;
        r->n_rows = r->rows_head = 0;
        set_limits(r);
        fill(r);
    }
}

static void reset(sb_csv *r)
{
    csv_fini(&r->p, NULL, NULL, NULL); /* no callbacks: just back to the start of a row */
    r->carry = 0;
    r->file_off = 0;
    r->eof = 0;
    r->arena_len = r->n_fields = r->n_rows = r->rows_head = 0;
    r->row_first = r->row_arena = 0;
    r->line = r->row_line = 1;
    r->prev_cr = 0;
    r->quotes = 0;
    r->fatal = SB_OK;
    r->fatal_msg[0] = '\0';
    r->blank_lines = 0;
    set_limits(r);
}

sb_err sb_csv_rewind(sb_csv *r, char *err, size_t err_len)
{
    if (lseek(r->fd, 0, SEEK_SET) != 0) {
        sb_csv_errf(err, err_len, "%s: cannot rewind: %s", r->path, strerror(errno));
        return SB_ERR_IO;
    }
    reset(r);
    return SB_OK;
}

sb_err sb_csv_open(sb_csv **out, const char *path, char delim, char *err, size_t err_len)
{
    *out = NULL;
    if (delim == '"' || delim == '\n' || delim == '\r') {
        sb_csv_errf(err, err_len, "%s: the delimiter cannot be a quote or a newline", path);
        return SB_ERR_ARG;
    }
    sb_csv *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path)) || !(r->block = malloc(SB_CSV_BLOCK + 4))) {
        if (r) free(r->path);
        free(r);
        sb_csv_errf(err, err_len, "%s: out of memory", path);
        return SB_ERR_NOMEM;
    }
    sb_err rc = SB_ERR_IO;
    struct stat st;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        sb_csv_errf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        sb_csv_errf(err, err_len, "%s: is a directory; expected a CSV file", path);
        goto fail;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    if (delim == 0) {
        ssize_t n = pread(r->fd, r->block, SB_CSV_BLOCK, 0);
        if (n < 0) {
            sb_csv_errf(err, err_len, "%s: read error: %s", path, strerror(errno));
            goto fail;
        }
        delim = detect_delimiter((const char *)r->block, (size_t)n);
    }
    r->delim = delim;
    if (csv_init(&r->p, CSV_REPALL_NL) != 0) {
        sb_csv_errf(err, err_len, "%s: out of memory", path);
        rc = SB_ERR_NOMEM;
        goto fail;
    }
    csv_set_delim(&r->p, (unsigned char)delim);
    csv_set_blk_size(&r->p, 4096); /* libcsv grows its field buffer by this much at a time */
    reset(r);
    *out = r;
    return SB_OK;
fail:
    if (r->fd >= 0) close(r->fd);
    free(r->block);
    free(r->path);
    free(r);
    return rc;
}

char sb_csv_delimiter(const sb_csv *r) { return r->delim; }
uint64_t sb_csv_blank_lines(const sb_csv *r) { return r->blank_lines; }
uint64_t sb_csv_bytes(const sb_csv *r) { return r->file_off; }

void sb_csv_close(sb_csv *r)
{
    if (!r) return;
    csv_free(&r->p);
    close(r->fd);
    free(r->block);
    free(r->arena);
    free(r->fields);
    free(r->rows);
    free(r->out);
    free(r->path);
    free(r);
}
