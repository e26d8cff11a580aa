/* A config, once read (experiments/config.c), expanded into what the runner does: every study's
 * factors crossed into cells in nesting order, combinations a backend cannot run dropped with
 * its reason, estimates, and the [micro] plan (experiments/config.h). */
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

const char *const sb_micro_op_names[SB_MICRO_OPS] = {
    "seal", "open", "forge", "keygen", "ecdh", "handshake", "rekey",
};

/* ---- expansion -------------------------------------------------------------------------------- */

/* The built-in default of every factor (line 0). */
int sb_cfg_builtin_init(ctx *c)
{
    section *b = &c->builtin;
    b->name = (char *)"built-in defaults";
    for (int s = 0; s < S_COUNT; s++) {
        b->v[s].sec = b;
        b->v[s].n = 1;
    }
    sb_cfg_expand_all(sb_cfg_key_of(S_BACKEND), &b->v[S_BACKEND]);
    sb_cfg_expand_all(sb_cfg_key_of(S_SUITE), &b->v[S_SUITE]);
    b->v[S_GROUP].v[0].p = sb_group_by_id(SB_GROUP_X25519);
    b->v[S_AUTH].v[0].u = 1; /* psk */
    sb_payload_level *p = calloc(1, sizeof *p);
    if (!p || !sb_cfg_pool_add(c, p))
        return -1;
    p->kind = SB_PAYLOAD_SIZE;
    p->size = 256;
    snprintf(p->label, sizeof p->label, "size%zu", p->size);
    b->v[S_PAYLOAD].v[0].p = p;
    b->v[S_MESSAGES].v[0].u = 1000;
    /* pad, qos, rekey, rate, warmup: 0; devices: 1; topology: inproc. */
    b->v[S_DEVICES].v[0].u = 1;
    return 0;
}

/* The list a study uses for a slot: its own, else [defaults]', else (warmup) [run]'s, else
 * the built-in one. */
static const levels *effective(const ctx *c, const section *study, const section *defaults,
                               const section *run, enum slot s)
{
    if (study && study->v[s].line)
        return &study->v[s];
    if (defaults && defaults->v[s].line)
        return &defaults->v[s];
    if (s == S_WARMUP && run && run->v[s].line)
        return &run->v[s];
    return &c->builtin.v[s];
}

/* The later of two keys (both given somewhere, or the combination could not be wrong). */
__attribute__((format(printf, 6, 7)))
static void combo_fail(ctx *c, const levels *a, enum slot sa, const levels *b, enum slot sb,
                       const char *fmt, ...)
{
    const levels *later = a->line >= b->line ? a : b;
    enum slot ls = later == a ? sa : sb, os = later == a ? sb : sa;
    const levels *other = later == a ? b : a;
    char prefix[256];
    snprintf(prefix, sizeof prefix, "key '%s' in [%s]: with %s at line %u: ", sb_cfg_key_name_of(ls),
             later->sec->name, sb_cfg_key_name_of(os), other->line);
    va_list ap;
    va_start(ap, fmt);
    sb_cfg_vfail(c, SB_ERR_PARSE, later->line, prefix, fmt, ap);
    va_end(ap);
}

/* Combinations the runner cannot measure as asked. */
static void check_combinations(ctx *c, const levels *f[S_COUNT])
{
    const levels *topo = f[S_TOPOLOGY], *dev = f[S_DEVICES], *rate = f[S_RATE];
    for (size_t t = 0; t < topo->n; t++)
        for (size_t d = 0; d < dev->n; d++)
            if (topo->v[t].u == SB_TOPO_SPLIT && dev->v[d].u > SPLIT_MAX_DEVICES) {
                combo_fail(c, topo, S_TOPOLOGY, dev, S_DEVICES,
                           "topology split with %" PRIu64 " devices: split runs a process per "
                           "device and is limited to %d (use topology = inproc, or fewer "
                           "devices)", dev->v[d].u, SPLIT_MAX_DEVICES);
                return;
            }
    for (size_t r = 0; r < rate->n; r++)
        for (size_t d = 0; d < dev->n; d++)
            if (rate->v[r].d > 0 && rate->v[r].d * (double)dev->v[d].u > MAX_OFFERED_RATE) {
                combo_fail(c, rate, S_RATE, dev, S_DEVICES,
                           "rate %g Hz x %" PRIu64 " devices offers %.0f messages/s, more than "
                           "the %.0f one cell can be asked for (lower the rate or the devices)",
                           rate->v[r].d, dev->v[d].u, rate->v[r].d * (double)dev->v[d].u,
                           MAX_OFFERED_RATE);
                return;
            }
}

/* Shortest decimal that reads back as r, with '.' as 'p' (the id's separator) and no '+'. */
static void rate_label(double r, char *out, size_t cap)
{
    char tmp[40];
    if (r == floor(r) && r < 1e15)
        snprintf(tmp, sizeof tmp, "%.0f", r);
    else
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, r);
            if (strtod(tmp, NULL) == r)
                break;
        }
    size_t n = 0;
    for (const char *p = tmp; *p && n + 1 < cap; p++)
        if (*p != '+')
            out[n++] = *p == '.' ? 'p' : *p;
    out[n] = '\0';
}

/* Rough wall time of one repetition of a cell, for "N cells, about M minutes".
 *   setup:    0.8 s (broker session, handshake, process start) + 0.05 s per device
 *   messages: devices x (messages + warmup) / throughput, where throughput is what the fleet
 *             sustains unthrottled: 20000 msg/s at QoS 0, 6000 at QoS 1, 3000 at QoS 2
 *             (figures of the MQTT bench on one host), halved for split (every message crosses
 *             two processes and is echoed); with a rate, rate x devices, capped at that. */
static double cell_estimate_s(const sb_cell *cell)
{
    static const double unthrottled[3] = {20000, 6000, 3000};
    double thr = unthrottled[cell->qos];
    if (cell->topology == SB_TOPO_SPLIT)
        thr /= 2;
    if (cell->rate_hz > 0 && cell->rate_hz * cell->devices < thr)
        thr = cell->rate_hz * cell->devices;
    return 0.8 + 0.05 * cell->devices +
           (double)cell->devices * (double)(cell->messages + cell->warmup) / thr;
}

static int push_payload(sb_plan *p, const sb_payload_level *lv)
{
    for (size_t i = 0; i < p->n_payloads; i++)
        if (sb_cfg_payload_same(&p->payloads[i], lv))
            return 0;
    sb_payload_level *grown = realloc(p->payloads, (p->n_payloads + 1) * sizeof *grown);
    if (!grown)
        return -1;
    p->payloads = grown;
    sb_payload_level *d = &p->payloads[p->n_payloads];
    *d = *lv;
    d->dataset = lv->dataset ? strdup(lv->dataset) : NULL;
    d->encoding = lv->encoding ? strdup(lv->encoding) : NULL;
    p->n_payloads++; /* counted before the check so that sb_plan_free frees what was copied */
    return (lv->dataset && !d->dataset) || (lv->encoding && !d->encoding) ? -1 : 0;
}

static const sb_payload_level *plan_payload(const sb_plan *p, const sb_payload_level *lv)
{
    for (size_t i = 0; i < p->n_payloads; i++)
        if (sb_cfg_payload_same(&p->payloads[i], lv))
            return &p->payloads[i];
    return NULL;
}

typedef struct study_view {
    const section *sec; /* NULL: the implicit study */
    const char *name;
    unsigned line;
    const levels *f[S_COUNT];
    size_t n_cells;
} study_view;

/* Cells of one study, appended to p->cells / p->dropped in nesting order. */
static void expand_study(ctx *c, sb_plan *p, const study_view *st, const char *study_name)
{
    size_t idx[N_FACTORS] = {0};
    size_t kept_before = p->n_cells;
    size_t dropped_before = p->n_dropped;
    for (size_t done = 0; done < st->n_cells; done++) {
        const level *v[N_FACTORS];
        for (int f = 0; f < N_FACTORS; f++)
            v[f] = &st->f[f]->v[idx[f]];
        const sb_backend *be = v[S_BACKEND]->p;
        const sb_suite *suite = v[S_SUITE]->p;
        const sb_group *group = v[S_GROUP]->p;
        const sb_payload_level *pl = v[S_PAYLOAD]->p;
        char rate[40], id[SB_CELL_ID_MAX + 64];
        rate_label(v[S_RATE]->d, rate, sizeof rate);
        int n = snprintf(id, sizeof id,
                         "%s.%s.%s.%s.%s.%s.pad%" PRIu64 ".qos%" PRIu64 ".rekey%" PRIu64
                         ".rate%s.dev%" PRIu64 ".%s",
                         study_name, be->name, suite->name, group->name,
                         sb_cfg_auth_words[v[S_AUTH]->u], pl->label, v[S_PAD]->u, v[S_QOS]->u,
                         v[S_REKEY]->u, rate, v[S_DEVICES]->u, sb_cfg_topology_words[v[S_TOPOLOGY]->u]);
        if (n < 0 || n >= SB_CELL_ID_MAX) {
            sb_cfg_fail(c, st->line, "study '%s': cell id '%s' is %d characters, more than %d (shorten "
                 "the study name or the dataset file name)", st->name, id, n, SB_CELL_ID_MAX - 1);
            return;
        }

        /* Dropped, never substituted: the reasons come from the backend's own table. */
        const char *why = NULL, *swhy = NULL, *gwhy = NULL;
        sb_cipher cipher;
        int no_suite = sb_cipher_get(be, suite, &cipher, &swhy) != SB_OK;
        int no_group = sb_kex_get(be, group, &gwhy) == NULL;
        char reason[sizeof p->dropped->why];
        if (no_suite || no_group) {
            int r = 0;
            if (no_suite)
                r = snprintf(reason, sizeof reason, "%s lacks suite %s: %s", be->name,
                             suite->name, swhy ? swhy : "unavailable");
            if (r < 0 || (size_t)r >= sizeof reason)
                r = (int)sizeof reason - 1;
            if (no_group)
                snprintf(reason + r, sizeof reason - (size_t)r, "%s%s lacks group %s: %s",
                         r ? "; " : "", be->name, group->name, gwhy ? gwhy : "unavailable");
            why = reason;
        }
        if (why) {
            sb_dropped_cell *d = &p->dropped[p->n_dropped++];
            memcpy(d->id, id, (size_t)n + 1);
            snprintf(d->why, sizeof d->why, "%s", why);
        } else {
            sb_cell *cell = &p->cells[p->n_cells++];
            memcpy(cell->id, id, (size_t)n + 1);
            cell->study = study_name;
            cell->be = be;
            cell->suite = suite;
            cell->group = group;
            cell->psk = (int)v[S_AUTH]->u;
            cell->payload = plan_payload(p, pl);
            cell->pad = (size_t)v[S_PAD]->u;
            cell->qos = (int)v[S_QOS]->u;
            cell->rekey = v[S_REKEY]->u;
            cell->rate_hz = v[S_RATE]->d;
            cell->devices = (unsigned)v[S_DEVICES]->u;
            cell->topology = (sb_topology)v[S_TOPOLOGY]->u;
            cell->messages = st->f[S_MESSAGES]->v[0].u;
            cell->warmup = st->f[S_WARMUP]->v[0].u;
            cell->estimate_s = cell_estimate_s(cell);
        }
        /* Next combination: the last factor varies fastest, as in nested loops. */
        for (int f = N_FACTORS - 1; f >= 0; f--) {
            if (++idx[f] < st->f[f]->n)
                break;
            idx[f] = 0;
        }
    }
    if (p->n_cells == kept_before)
        sb_cfg_fail(c, st->line, "study '%s': every cell is dropped, e.g. %s: %s (add a backend that "
             "offers the suite and group, or remove the study)", st->name,
             p->dropped[dropped_before].id, p->dropped[dropped_before].why);
}

/* Microbenchmark cases that can run: (backend, suite, size) per seal/open/forge op and
 * (backend, group) per keygen/ecdh/handshake/rekey op. */
static size_t micro_cases(const sb_micro_plan *m)
{
    size_t aead = 0, kex = 0, aead_ops = 0, kex_ops = 0;
    for (size_t b = 0; b < m->n_backends; b++) {
        sb_cipher cipher;
        for (size_t s = 0; s < m->n_suites; s++)
            aead += sb_cipher_get(m->backends[b], m->suites[s], &cipher, NULL) == SB_OK;
        for (size_t g = 0; g < m->n_groups; g++)
            kex += sb_kex_get(m->backends[b], m->groups[g], NULL) != NULL;
    }
    for (int op = 0; op < SB_MICRO_OPS; op++)
        if (m->ops & (1u << op))
            *(op <= SB_MICRO_FORGE ? &aead_ops : &kex_ops) += 1;
    return aead_ops * aead * m->n_sizes + kex_ops * kex;
}

static void build_micro(ctx *c, const section *s, sb_micro_plan *m)
{
    static const size_t default_sizes[] = {16, 64, 256, 1024, 16384};
    levels all;
    const levels *lv;
    m->enabled = 1;

    lv = s->v[S_BACKEND].line ? &s->v[S_BACKEND] : (sb_cfg_expand_all(sb_cfg_key_of(S_BACKEND), &all), &all);
    for (size_t i = 0; i < lv->n && i < sizeof m->backends / sizeof m->backends[0]; i++)
        m->backends[m->n_backends++] = lv->v[i].p;
    lv = s->v[S_SUITE].line ? &s->v[S_SUITE] : (sb_cfg_expand_all(sb_cfg_key_of(S_SUITE), &all), &all);
    for (size_t i = 0; i < lv->n; i++)
        m->suites[m->n_suites++] = lv->v[i].p;
    lv = s->v[S_GROUP].line ? &s->v[S_GROUP] : (sb_cfg_expand_all(sb_cfg_key_of(S_GROUP), &all), &all);
    for (size_t i = 0; i < lv->n && m->n_groups < SB_GROUP_COUNT; i++)
        m->groups[m->n_groups++] = lv->v[i].p;
    if (s->v[S_SIZES].line)
        for (size_t i = 0; i < s->v[S_SIZES].n; i++)
            m->sizes[m->n_sizes++] = (size_t)s->v[S_SIZES].v[i].u;
    else
        for (size_t i = 0; i < sizeof default_sizes / sizeof default_sizes[0]; i++)
            m->sizes[m->n_sizes++] = default_sizes[i];
    if (s->v[S_OPS].line)
        for (size_t i = 0; i < s->v[S_OPS].n; i++)
            m->ops |= 1u << s->v[S_OPS].v[i].u;
    else
        m->ops = (1u << SB_MICRO_OPS) - 1;
    m->repetitions = s->v[S_REPETITIONS].line ? (unsigned)s->v[S_REPETITIONS].v[0].u : 10;
    m->min_time_s = s->v[S_MIN_TIME].line ? s->v[S_MIN_TIME].v[0].d : 0.05;

    /* Each case: its repetitions of min_time, plus about half again for Google Benchmark's
     * iteration-count probing, plus 0.2 s of setup (keys, buffers, the library). Only cases
     * the backends can run are counted. */
    size_t cases = micro_cases(m);
    if (!cases) {
        sb_cfg_fail(c, s->line, "section [micro]: nothing to measure: no selected backend offers the "
             "selected suites (for seal, open, forge) or groups (for the other ops) (widen "
             "backend, suite or group)");
        return;
    }
    m->estimate_s = (double)cases * m->repetitions * m->min_time_s * 1.5 + 0.2 * (double)cases;
}

void sb_cfg_build_plan(ctx *c, sb_plan *p)
{
    const section *run = sb_cfg_find_kind(c, SEC_RUN), *defaults = sb_cfg_find_kind(c, SEC_DEFAULTS);
    const section *micro = sb_cfg_find_kind(c, SEC_MICRO);
    if (!run) {
        sb_cfg_fail(c, 0, "no [run] section (add [run] with name = a name for the results folder)");
        return;
    }
    if (!run->text[S_NAME]) {
        sb_cfg_fail(c, run->line, "section [run]: key 'name' is missing (add name = a name for the "
             "results folder)");
        return;
    }
    p->name = strdup(run->text[S_NAME]);
    p->description = strdup(run->text[S_DESCRIPTION] ? run->text[S_DESCRIPTION] : "");
    p->repetitions = run->v[S_REPETITIONS].line ? (unsigned)run->v[S_REPETITIONS].v[0].u : 1;
    p->seed = run->v[S_SEED].line ? run->v[S_SEED].v[0].u : 1;
    p->shuffle = run->v[S_ORDER].line ? (int)run->v[S_ORDER].v[0].u : 1;
    p->tcp_nodelay = run->v[S_NODELAY].line ? (int)run->v[S_NODELAY].v[0].u : 1;

    size_t n_studies = 0;
    for (size_t i = 0; i < c->n_secs; i++)
        n_studies += c->secs[i]->kind == SEC_STUDY;
    size_t n_views = n_studies ? n_studies : 1;
    study_view *views = calloc(n_views, sizeof *views);
    p->studies = calloc(n_views, sizeof *p->studies);
    if (!p->name || !p->description || !views || !p->studies) {
        free(views);
        sb_cfg_nomem(c, 0, "building the plan");
        return;
    }
    if (n_studies) {
        for (size_t i = 0, j = 0; i < c->n_secs; i++)
            if (c->secs[i]->kind == SEC_STUDY)
                views[j++] = (study_view){c->secs[i], c->secs[i]->study, c->secs[i]->line, {0}, 0};
    } else {
        views[0] = (study_view){NULL, p->name, defaults ? defaults->line : run->line, {0}, 0};
    }

    size_t total = 0;
    for (size_t i = 0; i < n_views && !c->have_err; i++) {
        study_view *st = &views[i];
        for (int s = 0; s < S_COUNT; s++)
            st->f[s] = effective(c, st->sec, defaults, run, (enum slot)s);
        check_combinations(c, st->f);
        if (c->have_err)
            break;
        /* Multiplying stops once past the cap, so the product cannot overflow (lists hold
         * at most 64 levels). */
        st->n_cells = 1;
        for (int f = 0; f < N_FACTORS && st->n_cells <= MAX_CELLS; f++)
            st->n_cells *= st->f[f]->n;
        if (st->n_cells > MAX_CELLS || total + st->n_cells > MAX_CELLS) {
            sb_cfg_fail(c, st->line, "study '%s': the plan would have more than %d cells (narrow the "
                 "lists, or split the config)", st->name, MAX_CELLS);
            break;
        }
        total += st->n_cells;
        for (size_t f = 0; f < st->f[S_PAYLOAD]->n && !c->have_err; f++)
            if (push_payload(p, st->f[S_PAYLOAD]->v[f].p) != 0)
                sb_cfg_nomem(c, 0, "building the plan");
    }
    if (!c->have_err) {
        p->cells = calloc(total ? total : 1, sizeof *p->cells);
        p->dropped = calloc(total ? total : 1, sizeof *p->dropped);
        if (!p->cells || !p->dropped)
            sb_cfg_nomem(c, 0, "for %zu cells", total);
    }
    for (size_t i = 0; i < n_views && !c->have_err; i++) {
        if (!(p->studies[i] = strdup(views[i].name))) {
            sb_cfg_nomem(c, 0, "building the plan");
            break;
        }
        p->n_studies++;
        expand_study(c, p, &views[i], p->studies[i]);
    }
    free(views);
    if (c->have_err)
        return;

    for (size_t i = 0; i < p->n_cells; i++)
        p->estimate_s += p->cells[i].estimate_s;
    p->estimate_s *= p->repetitions;
    if (micro) {
        build_micro(c, micro, &p->micro);
        p->estimate_s += p->micro.estimate_s;
    }
}
