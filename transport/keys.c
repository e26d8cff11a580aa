/* Reading the pre-shared keys file (transport/keys.h). */
#include "transport/keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static int by_id(const void *a, const void *b)
{
    return strcmp(((const sb_key_entry *)a)->id, ((const sb_key_entry *)b)->id);
}

/* Split line into at most 3 whitespace-separated fields; returns how many were found. */
static int split(char *line, char **f)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n < 3)
            f[n] = t;
        n++;
    }
    return n;
}

sb_err sb_keyfile_load(sb_keyfile *kf, const char *path, char *err, size_t err_len)
{
    kf->v = NULL;
    kf->n = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, err_len, "%s: cannot open keys file: %s", path, strerror(errno));
        return SB_ERR_IO;
    }
    sb_err rc = SB_ERR_PARSE;
    size_t cap = 0, lineno = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t got;
    while ((got = getline(&line, &line_cap, fp)) != -1) {
        lineno++;
        if ((size_t)got != strlen(line)) {
            snprintf(err, err_len, "%s:%zu: a NUL byte in a text line; is this a keys file?",
                     path, lineno);
            goto out;
        }
        char *f[3];
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#')
            continue;
        int n = split(line, f);
        if (n == 0)
            continue;
        if (n != 2) {
            snprintf(err, err_len,
                     "%s:%zu: expected 'device_id psk_hex' (2 fields), found %d field%s", path,
                     lineno, n, n == 1 ? "" : "s");
            goto out;
        }
        if (!sb_device_id_valid(f[0])) {
            snprintf(err, err_len,
                     "%s:%zu: device id '%.80s' is not valid: use 1 to %d characters from "
                     "A-Z a-z 0-9 _ . -",
                     path, lineno, f[0], SB_DEVICE_ID_MAX);
            goto out;
        }
        size_t hl = strlen(f[1]);
        if (hl != 2 * SB_PSK_BYTES) {
            snprintf(err, err_len,
                     "%s:%zu: the PSK of '%s' must be %d hex digits (32 bytes), found %zu "
                     "characters",
                     path, lineno, f[0], 2 * SB_PSK_BYTES, hl);
            goto out;
        }
        if (kf->n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            sb_key_entry *nv = calloc(ncap, sizeof *nv);
            if (!nv) {
                snprintf(err, err_len, "%s: out of memory", path);
                rc = SB_ERR_NOMEM;
                goto out;
            }
            if (kf->v) {
                memcpy(nv, kf->v, kf->n * sizeof *nv);
                sb_wipe(kf->v, kf->n * sizeof *nv);
                free(kf->v);
            }
            kf->v = nv;
            cap = ncap;
        }
        sb_key_entry *e = &kf->v[kf->n];
        if (sb_hex_decode(f[1], e->psk, SB_PSK_BYTES) != SB_PSK_BYTES) {
            sb_wipe(e, sizeof *e); /* not yet counted in kf->n, so free would not wipe it */
            snprintf(err, err_len, "%s:%zu: the PSK of '%s' has a character that is not a hex digit",
                     path, lineno, f[0]);
            goto out;
        }
        snprintf(e->id, sizeof e->id, "%s", f[0]);
        e->line = lineno;
        kf->n++;
        sb_wipe(line, line_cap);
    }
    if (ferror(fp)) {
        snprintf(err, err_len, "%s: read error: %s", path, strerror(errno));
        rc = SB_ERR_IO;
        goto out;
    }
    if (kf->n == 0) {
        snprintf(err, err_len, "%s: no keys in the file (expected lines 'device_id psk_hex')",
                 path);
        goto out;
    }
    qsort(kf->v, kf->n, sizeof *kf->v, by_id);
    for (size_t i = 1; i < kf->n; i++)
        if (strcmp(kf->v[i - 1].id, kf->v[i].id) == 0) {
            size_t a = kf->v[i - 1].line, b = kf->v[i].line;
            snprintf(err, err_len, "%s:%zu: device '%s' is listed twice (first on line %zu)",
                     path, a > b ? a : b, kf->v[i].id, a < b ? a : b);
            goto out;
        }
    rc = SB_OK;
out:
    if (line) {
        sb_wipe(line, line_cap);
        free(line);
    }
    fclose(fp);
    if (rc != SB_OK)
        sb_keyfile_free(kf);
    return rc;
}

const uint8_t *sb_keyfile_find(const sb_keyfile *kf, const char *id)
{
    sb_key_entry key;
    if (!kf->n || strlen(id) >= sizeof key.id)
        return NULL;
    snprintf(key.id, sizeof key.id, "%s", id);
    const sb_key_entry *e = bsearch(&key, kf->v, kf->n, sizeof *kf->v, by_id);
    return e ? e->psk : NULL;
}

void sb_keyfile_free(sb_keyfile *kf)
{
    if (kf->v) {
        sb_wipe(kf->v, kf->n * sizeof *kf->v);
        free(kf->v);
    }
    kf->v = NULL;
    kf->n = 0;
}
