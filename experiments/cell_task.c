/* A cell child's task as a JSON file (experiments/cell.h): one table of its fields serves
 * both directions, so that what the runner writes and what the child reads cannot drift. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "experiments/cell.h"

typedef enum field_type { F_STR, F_INT, F_U64, F_DBL, F_PART } field_type;

typedef struct field {
    const char *name;
    field_type type;
    size_t offset, size;
} field;

#define STR(f) {#f, F_STR, offsetof(sb_cell_task, f), sizeof(((sb_cell_task *)0)->f)}
#define NUM(f, t) {#f, t, offsetof(sb_cell_task, f), 0}

static const field fields[] = {
    {"part", F_PART, offsetof(sb_cell_task, part), 0},
    STR(broker), STR(cafile), STR(cert), STR(key), STR(prefix), STR(backend), STR(suite),
    STR(group), STR(keys), NUM(qos, F_INT), NUM(nagle, F_INT), NUM(pad, F_U64),
    NUM(devices, F_U64), NUM(messages, F_U64), NUM(warmup, F_U64), NUM(rekey, F_U64),
    NUM(rate_hz, F_DBL), NUM(size, F_U64), STR(dataset), STR(encoding), STR(report),
    STR(samples),
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

static const char *const part_names[] = {"pair", "gateway", "device"};

const char *sb_cell_part_name(sb_cell_part p)
{
    return part_names[p];
}

sb_err sb_cell_task_write(const sb_cell_task *t, const char *path, char *err, size_t err_len)
{
    json_t *o = json_object();
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field *f = &fields[i];
        const char *p = (const char *)t + f->offset;
        json_t *v = NULL;
        switch (f->type) {
        case F_STR: v = json_string(p); break;
        case F_INT: v = json_integer(*(const int *)p); break;
        case F_U64: v = json_integer((json_int_t) * (const uint64_t *)p); break;
        case F_DBL: v = json_real(*(const double *)p); break;
        case F_PART: v = json_string(part_names[*(const sb_cell_part *)p]); break;
        }
        json_object_set_new(o, f->name, v);
    }
    int rc = json_dump_file(o, path, JSON_INDENT(1));
    json_decref(o);
    if (rc != 0) {
        snprintf(err, err_len, "cannot write the task %.300s", path);
        return SB_ERR_IO;
    }
    return SB_OK;
}

static const field *find(const char *name)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

static int set(sb_cell_task *t, const field *f, json_t *v)
{
    char *p = (char *)t + f->offset;
    switch (f->type) {
    case F_STR:
        if (!json_is_string(v) || json_string_length(v) >= f->size)
            return -1;
        memcpy(p, json_string_value(v), json_string_length(v) + 1);
        return 0;
    case F_INT:
        if (!json_is_integer(v))
            return -1;
        *(int *)p = (int)json_integer_value(v);
        return 0;
    case F_U64:
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return -1;
        *(uint64_t *)p = (uint64_t)json_integer_value(v);
        return 0;
    case F_DBL:
        if (!json_is_number(v))
            return -1;
        *(double *)p = json_number_value(v);
        return 0;
    case F_PART:
        for (int k = 0; k < 3 && json_is_string(v); k++)
            if (strcmp(json_string_value(v), part_names[k]) == 0) {
                *(sb_cell_part *)p = (sb_cell_part)k;
                return 0;
            }
        return -1;
    }
    return -1;
}

sb_err sb_cell_task_read(sb_cell_task *t, const char *path, char *err, size_t err_len)
{
    memset(t, 0, sizeof *t);
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    if (!json_is_object(o)) {
        snprintf(err, err_len, "%.300s:%d: not a cell task: %s", path, je.line,
                 o ? "expected a JSON object" : je.text);
        json_decref(o);
        return SB_ERR_PARSE;
    }
    const char *k;
    json_t *v;
    sb_err rc = SB_OK;
    json_object_foreach(o, k, v) {
        const field *f = find(k);
        if (!f) {
            snprintf(err, err_len, "%.300s: unknown field '%.60s' (a task of another version?)",
                     path, k);
            rc = SB_ERR_PARSE;
            break;
        }
        if (set(t, f, v)) {
            snprintf(err, err_len, "%.300s: field '%s' has a value of the wrong type or size",
                     path, k);
            rc = SB_ERR_PARSE;
            break;
        }
    }
    json_decref(o);
    return rc;
}
