/* Payload levels of a config (experiments/config.h): size:BYTES, or dataset:PATH:ENCODING
 * checked against the file at reading time; one pool per config, shared by equal levels. */
#include "experiments/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "datasets/encode.h"
#include "experiments/config_impl.h"
#include "protocol/session.h"

/* ---- payload levels -------------------------------------------------------------------------- */

void sb_cfg_payload_free(sb_payload_level *p)
{
    if (p) {
        free(p->dataset);
        free(p->encoding);
        free(p);
    }
}

int sb_cfg_payload_same(const sb_payload_level *a, const sb_payload_level *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == SB_PAYLOAD_SIZE)
        return a->size == b->size;
    return strcmp(a->dataset, b->dataset) == 0 && strcmp(a->encoding, b->encoding) == 0;
}

sb_payload_level *sb_cfg_pool_add(ctx *c, sb_payload_level *p)
{
    sb_payload_level **grown = realloc(c->pool, (c->n_pool + 1) * sizeof *grown);
    if (!grown) {
        sb_cfg_payload_free(p);
        return NULL;
    }
    c->pool = grown;
    c->pool[c->n_pool++] = p;
    return p;
}

/* Parses one payload level into the pool. Returns it, or NULL after sb_cfg_fail(). */
const sb_payload_level *sb_cfg_parse_payload(ctx *c, unsigned line, const section *s,
                                             const key_spec *k, const char *item)
{
    sb_payload_level *p = calloc(1, sizeof *p);
    if (!p) {
        sb_cfg_nomem(c, line, "reading a payload level");
        return NULL;
    }
    if (strncmp(item, "size:", 5) == 0) {
        uint64_t v = 0;
        const char *why = sb_cfg_parse_u64(item + 5, &v);
        if (!why && (v < k->min || v > k->max))
            why = "is out of range";
        if (why) {
            sb_cfg_key_fail(c, line, s, k->name, "level '%s': size '%s' %s (sizes are 1 to 1048576 bytes)",
                     item, item + 5, why);
            goto bad;
        }
        p->kind = SB_PAYLOAD_SIZE;
        p->size = (size_t)v;
        snprintf(p->label, sizeof p->label, "size%zu", p->size);
    } else if (strncmp(item, "dataset:", 8) == 0) {
        const char *path = item + 8, *colon = strrchr(path, ':');
        if (!colon || colon == path || !colon[1]) {
            sb_cfg_key_fail(c, line, s, k->name,
                     "level '%s' is not dataset:PATH:ENCODING (e.g. "
                     "dataset:datasets/vitals_small.csv:cbor)", item);
            goto bad;
        }
        if (sb_encoding_parse(colon + 1) < 0) {
            sb_cfg_key_fail(c, line, s, k->name, "level '%s': unknown encoding '%s' (known: json, csv, cbor)",
                     item, colon + 1);
            goto bad;
        }
        p->kind = SB_PAYLOAD_DATASET;
        p->dataset = strndup(path, (size_t)(colon - path));
        p->encoding = strdup(colon + 1);
        if (!p->dataset || !p->encoding) {
            sb_cfg_nomem(c, line, "reading a payload level");
            goto bad;
        }
        /* Checked now rather than when the cell runs: a typo should not cost the cells before it. */
        struct stat st;
        int fd = open(p->dataset, O_RDONLY | O_CLOEXEC);
        int e = fd < 0 ? errno : fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
        if (fd >= 0)
            close(fd);
        if (e) {
            char cwd[PATH_MAX];
            sb_cfg_key_fail(c, line, s, k->name,
                     "dataset file '%s' cannot be read: %s (a relative path starts at the working "
                     "directory, %s)", p->dataset, strerror(e),
                     getcwd(cwd, sizeof cwd) ? cwd : "unknown");
            goto bad;
        }
        /* The label is the base name without its extension; '.' separates the fields of a cell
         * id and other characters may not be safe in file names, so both become '_'. */
        const char *base = strrchr(p->dataset, '/');
        base = base ? base + 1 : p->dataset;
        const char *dot = strrchr(base, '.');
        size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        if (stem + 1 + strlen(p->encoding) >= sizeof p->label) {
            sb_cfg_key_fail(c, line, s, k->name,
                     "level '%s': the file name is too long to label cell ids (rename the file "
                     "to at most %zu characters before the extension)", item,
                     sizeof p->label - 2 - strlen(p->encoding));
            goto bad;
        }
        for (size_t i = 0; i < stem; i++)
            p->label[i] = isalnum((unsigned char)base[i]) || base[i] == '-' ? base[i] : '_';
        snprintf(p->label + stem, sizeof p->label - stem, "-%s", p->encoding);
    } else {
        sb_cfg_key_fail(c, line, s, k->name, "level '%s' is not size:BYTES or dataset:PATH:ENCODING "
                 "(e.g. size:64, dataset:datasets/vitals_small.csv:cbor)", item);
        goto bad;
    }
    if (!sb_cfg_pool_add(c, p)) {
        sb_cfg_nomem(c, line, "reading a payload level");
        return NULL;
    }
    return p;
bad:
    sb_cfg_payload_free(p);
    return NULL;
}
