/* What this binary offers (experiments/offer.h): one walk over the registry, and its one CSV
 * form. The sizes are the wire protocol's (PROTOCOL.md §1 and §4): a sealed message is the
 * 14-byte header, the body, then the suite's tag. */
#include "experiments/offer.h"

#include "experiments/results.h"
#include "protocol/session.h"

void sb_offer_each(void (*fn)(const sb_offer_row *row, void *ctx), void *ctx)
{
    for (const sb_backend_entry *e = sb_backend_entries; e->name; e++) {
        const char *v = e->built && e->built->version ? e->built->version() : NULL;
        sb_offer_row row = {.kind = "library", .backend = e, .name = e->library, .ok = !!e->built,
                            .reason = e->built ? (v ? v : "") : sb_backend_not_built};
        fn(&row, ctx);
    }
    for (const sb_backend_entry *e = sb_backend_entries; e->name; e++) {
        for (unsigned id = 0; id < SB_SUITE_COUNT; id++) {
            sb_offer_row row = {.kind = "suite", .backend = e, .suite = sb_suite_by_id(id),
                                .reason = sb_backend_not_built};
            sb_cipher cipher;
            row.name = row.suite->name;
            row.ok = e->built && sb_cipher_get(e->built, row.suite, &cipher, &row.reason) == SB_OK;
            row.reason = row.ok ? NULL : row.reason;
            fn(&row, ctx);
        }
    }
    for (const sb_backend_entry *e = sb_backend_entries; e->name; e++) {
        for (unsigned id = 1; id < SB_GROUP_COUNT; id++) {
            sb_offer_row row = {.kind = "group", .backend = e, .group = sb_group_by_id(id),
                                .reason = sb_backend_not_built};
            row.name = row.group->name;
            row.ok = e->built && sb_kex_get(e->built, row.group, &row.reason) != NULL;
            row.reason = row.ok ? NULL : row.reason;
            fn(&row, ctx);
        }
    }
}

static void csv_row(const sb_offer_row *row, void *ctx)
{
    FILE *out = ctx;
    fprintf(out, "%s,%s,", row->kind, row->backend->name);
    sb_csv_text(out, row->name);
    fprintf(out, ",%s,", row->ok ? "ok" : "unavailable");
    /* A built library's version goes where a reason would (as since the first version of this
     * CSV); an ok pair's reason is empty. */
    sb_csv_text(out, row->reason ? row->reason : "");
    if (row->suite) {
        const sb_suite *s = row->suite;
        fprintf(out, ",%u,%u,%u,%u,%u,%u,%u,\n", s->id, s->key_bytes, s->mac_key_bytes,
                SB_NONCE_BYTES, s->tag_bytes, SB_HEADER_BYTES, SB_HEADER_BYTES + s->tag_bytes);
    } else if (row->group) {
        fprintf(out, ",%u,,,,,,,%u\n", row->group->id, row->group->pub_bytes);
    } else {
        fputs(",,,,,,,,,\n", out);
    }
}

int sb_offer_write_csv(FILE *out)
{
    fputs("kind,backend,name,status,reason,wire_id,key_bytes,mac_key_bytes,nonce_bytes,"
          "tag_bytes,header_bytes,overhead_bytes,pub_bytes\n",
          out);
    sb_offer_each(csv_row, out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
