/* Per-message samples (transport/trace.h). Memory is taken up front, per device, so that
 * recording a message is a few stores on the hot path and never an allocation; only the
 * gateway's log grows, on its own thread. */
#include "transport/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rec {
    uint64_t t_seal, seq, rtt;
    uint32_t seal_ns, epoch, pt, wire;
    uint8_t sealed;
} rec;

typedef struct epoch_base {
    uint32_t epoch;
    uint64_t base; /* n of seq 0 in this epoch: seq restarts at 0 with each epoch */
} epoch_base;

typedef struct tdev {
    rec *r;
    epoch_base *eb;
    size_t neb, ebcap;
} tdev;

typedef struct open_rec {
    char id[24]; /* kept for devices outside the traced range */
    uint32_t idx, epoch, open_ns;
    uint64_t seq, t_end;
} open_rec;

struct sb_trace {
    unsigned devices, first;
    uint64_t per_device, warmup;
    tdev *d;
    int device_side;
    /* Taken by the gateway's log, by echoes and by sb_trace_write, which may run while late
     * messages still arrive; sealing happens only while publishing, before any write. */
    pthread_mutex_t mu;
    open_rec *opens;
    size_t nopen, opencap;
};

sb_trace *sb_trace_new(unsigned devices, unsigned first, uint64_t per_device, uint64_t warmup)
{
    sb_trace *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->devices = devices;
    t->first = first;
    t->per_device = per_device;
    t->warmup = warmup;
    pthread_mutex_init(&t->mu, NULL);
    if (!(t->d = calloc(devices ? devices : 1, sizeof *t->d)))
        goto fail;
    for (unsigned i = 0; i < devices; i++)
        if (per_device && !(t->d[i].r = calloc(per_device, sizeof(rec))))
            goto fail;
    return t;
fail:
    sb_trace_free(t);
    return NULL;
}

static int64_t find_base(const tdev *d, uint32_t epoch)
{
    /* Newest first: echoes and opens concern recent epochs. */
    for (size_t i = d->neb; i-- > 0;)
        if (d->eb[i].epoch == epoch)
            return (int64_t)d->eb[i].base;
    return -1;
}

void sb_trace_sealed(sb_trace *t, unsigned idx, uint64_t n, uint32_t epoch, uint64_t seq,
                     uint64_t t_start_ns, uint64_t seal_ns, size_t pt_len, size_t wire_len)
{
    if (!t || idx >= t->devices || n >= t->per_device)
        return;
    tdev *d = &t->d[idx];
    t->device_side = 1;
    if (!d->neb || d->eb[d->neb - 1].epoch != epoch) {
        if (d->neb == d->ebcap) {
            size_t nc = d->ebcap ? 2 * d->ebcap : 8;
            epoch_base *ne = realloc(d->eb, nc * sizeof *ne);
            if (!ne)
                return;
            d->eb = ne;
            d->ebcap = nc;
        }
        d->eb[d->neb++] = (epoch_base){epoch, n - seq};
    }
    rec *r = &d->r[n];
    r->t_seal = t_start_ns;
    r->seal_ns = seal_ns > UINT32_MAX ? UINT32_MAX : (uint32_t)seal_ns;
    r->epoch = epoch;
    r->seq = seq;
    r->pt = (uint32_t)pt_len;
    r->wire = (uint32_t)wire_len;
    r->sealed = 1;
}

static rec *lookup(const sb_trace *t, unsigned idx, uint32_t epoch, uint64_t seq)
{
    if (idx >= t->devices)
        return NULL;
    const tdev *d = &t->d[idx];
    int64_t base = find_base(d, epoch);
    if (base < 0 || (uint64_t)base + seq >= t->per_device)
        return NULL;
    rec *r = &d->r[(uint64_t)base + seq];
    return r->sealed && r->epoch == epoch && r->seq == seq ? r : NULL;
}

void sb_trace_echoed(sb_trace *t, unsigned idx, uint32_t epoch, uint64_t seq, uint64_t rtt_ns)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    rec *r = lookup(t, idx, epoch, seq);
    if (r && !r->rtt)
        r->rtt = rtt_ns ? rtt_ns : 1;
    pthread_mutex_unlock(&t->mu);
}

void sb_trace_opened(sb_trace *t, const char *device_id, uint32_t epoch, uint64_t seq,
                     uint64_t open_ns, uint64_t t_end_ns)
{
    if (!t)
        return;
    unsigned num;
    char tail;
    uint32_t idx = UINT32_MAX;
    if (sscanf(device_id, "dev-%u%c", &num, &tail) == 1 && num >= t->first &&
        num - t->first < t->devices)
        idx = num - t->first;
    pthread_mutex_lock(&t->mu);
    if (t->nopen == t->opencap) {
        size_t nc = t->opencap ? 2 * t->opencap : 4096;
        open_rec *no = realloc(t->opens, nc * sizeof *no);
        if (!no) {
            pthread_mutex_unlock(&t->mu);
            return;
        }
        t->opens = no;
        t->opencap = nc;
    }
    open_rec *o = &t->opens[t->nopen++];
    snprintf(o->id, sizeof o->id, "%s", device_id);
    o->idx = idx;
    o->epoch = epoch;
    o->seq = seq;
    o->open_ns = open_ns > UINT32_MAX ? UINT32_MAX : (uint32_t)open_ns;
    o->t_end = t_end_ns;
    pthread_mutex_unlock(&t->mu);
}

typedef struct joined {
    uint64_t t_end;
    uint32_t open_ns, opens;
} joined;

static int write_device_rows(const sb_trace *t, FILE *fp)
{
    /* Join each open to the message it opened; the first open counts for latency. */
    joined **j = calloc(t->devices, sizeof *j);
    if (!j)
        return -1;
    int rc = -1;
    for (unsigned i = 0; i < t->devices; i++)
        if (!(j[i] = calloc(t->per_device ? t->per_device : 1, sizeof **j)))
            goto out;
    for (size_t k = 0; k < t->nopen; k++) {
        const open_rec *o = &t->opens[k];
        rec *r = lookup(t, o->idx, o->epoch, o->seq);
        if (!r)
            continue;
        joined *x = &j[o->idx][r - t->d[o->idx].r];
        if (!x->opens++) {
            x->t_end = o->t_end;
            x->open_ns = o->open_ns;
        }
    }
    uint64_t t0 = UINT64_MAX;
    for (unsigned i = 0; i < t->devices; i++)
        for (uint64_t n = 0; n < t->per_device; n++)
            if (t->d[i].r[n].sealed && t->d[i].r[n].t_seal < t0)
                t0 = t->d[i].r[n].t_seal;
    fputs("device,n,warmup,epoch,seq,plaintext_bytes,wire_bytes,t_seal_ns,seal_ns,open_ns,"
          "e2e_ns,rtt_ns,opens\n",
          fp);
    for (unsigned i = 0; i < t->devices; i++)
        for (uint64_t n = 0; n < t->per_device; n++) {
            const rec *r = &t->d[i].r[n];
            if (!r->sealed)
                continue;
            const joined *x = &j[i][n];
            fprintf(fp, "dev-%04u,%" PRIu64 ",%d,%" PRIu32 ",%" PRIu64 ",%" PRIu32 ",%" PRIu32
                        ",%" PRIu64 ",%" PRIu32 ",",
                    t->first + i, n, n < t->warmup, r->epoch, r->seq, r->pt, r->wire,
                    r->t_seal - t0, r->seal_ns);
            if (x->opens)
                fprintf(fp, "%" PRIu32 ",%" PRIu64 ",", x->open_ns, x->t_end - r->t_seal);
            else
                fputs(",,", fp);
            if (r->rtt)
                fprintf(fp, "%" PRIu64, r->rtt);
            fprintf(fp, ",%" PRIu32 "\n", x->opens);
        }
    rc = 0;
out:
    for (unsigned i = 0; i < t->devices; i++)
        free(j[i]);
    free(j);
    return rc;
}

static void write_gateway_rows(const sb_trace *t, FILE *fp)
{
    uint64_t t0 = UINT64_MAX;
    for (size_t k = 0; k < t->nopen; k++)
        if (t->opens[k].t_end < t0)
            t0 = t->opens[k].t_end;
    fputs("device,epoch,seq,open_ns,t_open_end_ns\n", fp);
    for (size_t k = 0; k < t->nopen; k++) {
        const open_rec *o = &t->opens[k];
        fprintf(fp, "%s,%" PRIu32 ",%" PRIu64 ",%" PRIu32 ",%" PRIu64 "\n", o->id, o->epoch,
                o->seq, o->open_ns, o->t_end - t0);
    }
}

sb_err sb_trace_write(sb_trace *t, const char *path, char *err, size_t err_len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, err_len, "%s: path too long", path);
        return SB_ERR_ARG;
    }
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        snprintf(err, err_len, "cannot write samples to %s: %s", tmp, strerror(errno));
        return SB_ERR_IO;
    }
    int rc = 0;
    pthread_mutex_lock(&t->mu);
    if (t->device_side)
        rc = write_device_rows(t, fp);
    else
        write_gateway_rows(t, fp);
    pthread_mutex_unlock(&t->mu);
    int bad = ferror(fp);
    bad |= fclose(fp);
    if (rc || bad || rename(tmp, path) != 0) {
        snprintf(err, err_len, "cannot write samples to %s: %s", path,
                 rc ? "out of memory" : strerror(errno));
        remove(tmp);
        return rc ? SB_ERR_NOMEM : SB_ERR_IO;
    }
    return SB_OK;
}

void sb_trace_free(sb_trace *t)
{
    if (!t)
        return;
    if (t->d)
        for (unsigned i = 0; i < t->devices; i++) {
            free(t->d[i].r);
            free(t->d[i].eb);
        }
    free(t->d);
    free(t->opens);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
