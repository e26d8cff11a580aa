/* cells.csv, its schema, and the per-cell records behind it (experiments/results.h). */
#include "experiments/results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define R(reason) {"rejected_" reason, "gateway rejects for reason '" reason "' (whole cell, warm-up included)"}

const sb_column sb_cell_columns[] = {
    {"run_id", "the run (results/<run_id>/)"},
    {"cell_id", "the cell: study and every factor level, as in the config's expansion"},
    {"study", "the [study NAME] of the config"},
    {"repetition", "1..repetitions"},
    {"run_order", "position of this cell x repetition in the run's (shuffled) order, from 1"},
    {"status", "ok, or failed (then error says why and the figures may be missing)"},
    {"error", "why the cell failed; empty when ok"},
    {"backend", "openssl, sodium or mbedtls (device and gateway alike)"},
    {"suite", "cipher suite (null: no encryption, the baseline)"},
    {"group", "key-exchange group of the handshakes"},
    {"auth", "psk (pre-shared key authenticates the handshake) or none"},
    {"payload", "payload level: sizeN (synthetic, N bytes) or <dataset>-<encoding>"},
    {"encoding", "json, csv or cbor for datasets; synthetic otherwise"},
    {"pad_bytes", "bodies padded to a multiple of this; 0: no padding"},
    {"qos", "MQTT QoS of the telemetry"},
    {"rekey_messages", "a new handshake every N messages; 0: never"},
    {"rate_hz", "messages per second per device as scheduled; 0: as fast as possible. Each device's mean rate over its measured messages must come within 10% of it, or the cell fails"},
    {"devices", "devices (MQTT connections, sessions), as many as ran: a cell that ran fewer fails"},
    {"patients", "dataset payloads: the dataset's patients replayed; a fleet larger than the dataset replays them round-robin (session k sends patient k mod patients); empty for synthetic payloads"},
    {"topology", "inproc (device and gateway in one process, one clock) or split (separate processes, round trips)"},
    {"messages_per_device", "measured messages per device, as each device sent them: a cell where any device sent another number fails"},
    {"warmup_per_device", "messages per device sent first and left out of every statistic"},
    {"messages_sent", "measured messages sealed and handed to MQTT"},
    {"messages_received", "measured messages the gateway opened, each once (split: whose echo came back)"},
    {"messages_lost", "messages_sent - messages_received"},
    {"messages_duplicated", "measured messages opened more than once"},
    {"rejected_total", "gateway rejects of any reason (whole cell, warm-up included)"},
#define SB_REASON_COLUMN_(name, code) R(#name),
    SB_REJECT_REASONS(SB_REASON_COLUMN_)
#undef SB_REASON_COLUMN_
    {"seal_ns_p50", "device: time of one sb_session_seal (header, AEAD, padding), median"},
    {"seal_ns_p99", "device: seal time, 99th percentile"},
    {"seal_ns_mean", "device: seal time, mean"},
    {"open_ns_p50", "gateway: time of one sb_session_open (checks, replay window, AEAD), median"},
    {"open_ns_p99", "gateway: open time, 99th percentile"},
    {"open_ns_mean", "gateway: open time, mean"},
    {"e2e_us_p50", "inproc: device seal start to gateway open end (one clock), median"},
    {"e2e_us_p95", "inproc: end-to-end latency, 95th percentile"},
    {"e2e_us_p99", "inproc: end-to-end latency, 99th percentile"},
    {"e2e_us_mean", "inproc: end-to-end latency, mean"},
    {"e2e_us_max", "inproc: end-to-end latency, maximum"},
    {"rtt_us_p50", "split: device seal start to the gateway's sealed echo opened, median"},
    {"rtt_us_p95", "split: round trip, 95th percentile"},
    {"rtt_us_p99", "split: round trip, 99th percentile"},
    {"rtt_us_mean", "split: round trip, mean"},
    {"throughput_msgs_per_s", "messages_received / (last measured open end, or echo, - first measured seal start)"},
    {"goodput_plaintext_kb_per_s", "plaintext kB (1000 B) received per second over the same span"},
    {"plaintext_bytes_mean", "plaintext bytes per measured message"},
    {"wire_bytes_mean", "bytes on the wire (MQTT payload: header, ciphertext, tag) per measured message"},
    {"overhead_bytes_mean", "wire - plaintext bytes per message: 14 + tag when unpadded"},
    {"overhead_pct", "100 x overhead / plaintext bytes"},
    {"handshakes", "first handshakes completed (one per device)"},
    {"handshake_ms_p50", "first handshake, HELLO sent to keys installed, median over devices"},
    {"handshake_ms_max", "first handshake, slowest device"},
    {"handshake_bytes", "HELLO + ACCEPT bytes of one handshake or rekey (MQTT payloads)"},
    {"rekeys", "rekeys completed (all devices)"},
    {"rekey_ms_p50", "rekey, HELLO sent to new keys installed, median"},
    {"rekey_ms_max", "rekey, slowest"},
    {"rekey_bytes_total", "rekeys x handshake_bytes"},
    {"wall_s", "wall time of the cell's process, start to exit: connect, handshakes, publishing, drain, and writing its report, samples and columns"},
    {"cpu_user_s", "user CPU of the cell's process over its whole life, as wall_s (inproc: both roles; split: the device)"},
    {"cpu_sys_s", "system CPU of the same process"},
    {"cpu_pct", "100 x (user + system) / wall: 100 is one core busy"},
    {"device_thread_cpu_s", "CPU of the devices' publishing thread (sealing and handing to Paho)"},
    {"gateway_cpu_user_s", "split: user CPU of the gateway process"},
    {"gateway_cpu_sys_s", "split: system CPU of the gateway process"},
    {"broker_cpu_s", "private broker: user + system CPU during the cell"},
    {"peak_rss_kb", "peak resident memory of the cell's process"},
    {"rss_per_session_kb", "device process memory per device session (after handshakes)"},
    {"cycles_per_msg", "PAPI_TOT_CYC of the publishing thread per measured message; empty without counters"},
    {"instructions_per_msg", "PAPI_TOT_INS of the publishing thread per message"},
    {"cycles_per_byte", "cycles per plaintext byte"},
    {"counters", "papi, or why there are no counters (never cycles made up from a clock)"},
    {"device_connection_losses", "MQTT connections the devices lost (a repetition that lost one fails: no study injects faults)"},
    {"device_reconnects", "connections the devices made again after a loss"},
    {"gateway_connection_losses", "MQTT connections the gateway lost (as above)"},
    {"gateway_reconnects", "connections the gateway made again after a loss"},
    {NULL, NULL}};

void sb_row_num(json_t *row, const char *column, double v)
{
    json_object_set_new(row, column, isfinite(v) ? json_real(v) : json_null());
}

void sb_row_int(json_t *row, const char *column, long long v)
{
    json_object_set_new(row, column, json_integer(v));
}

void sb_cell_schema_markdown(FILE *fp)
{
    fputs("| column | meaning |\n|---|---|\n", fp);
    for (const sb_column *c = sb_cell_columns; c->name; c++)
        fprintf(fp, "| `%s` | %s |\n", c->name, c->doc);
}

sb_err sb_write_atomic(const char *path, const char *text, size_t len, char *err, size_t err_len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        snprintf(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        return SB_ERR_IO;
    }
    int bad = fwrite(text, 1, len, fp) != len;
    bad |= fflush(fp) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        return SB_ERR_IO;
    }
    return SB_OK;
}

static void record_path(char *out, size_t cap, const char *dir, const char *cell_id, unsigned rep)
{
    snprintf(out, cap, "%s/raw/%s.r%u.json", dir, cell_id, rep);
}

sb_err sb_record_save(const char *dir, const char *cell_id, unsigned rep, json_t *row,
                      json_t *output, char *err, size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/raw", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return SB_ERR_IO;
    }
    record_path(path, sizeof path, dir, cell_id, rep);
    json_t *o = json_object();
    json_object_set(o, "row", row);
    json_object_set(o, "output", output ? output : json_null());
    char *text = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) {
        snprintf(err, err_len, "out of memory");
        return SB_ERR_NOMEM;
    }
    sb_err rc = sb_write_atomic(path, text, strlen(text), err, err_len);
    free(text);
    return rc;
}

json_t *sb_record_load(const char *dir, const char *cell_id, unsigned rep)
{
    char path[4096];
    record_path(path, sizeof path, dir, cell_id, rep);
    json_t *o = json_load_file(path, 0, NULL);
    if (!o)
        return NULL;
    json_t *row = json_incref(json_object_get(o, "row"));
    json_decref(o);
    return row;
}

void sb_csv_text(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

/* A CSV field: numbers as integers when they are whole (counts, bytes, ns), otherwise with
 * enough digits for the unit; text quoted when it needs to be (RFC 4180). */
static void put_field(FILE *fp, json_t *v)
{
    if (!v || json_is_null(v))
        return;
    if (json_is_integer(v)) {
        fprintf(fp, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d))
            return;
        if (d == floor(d) && fabs(d) < 1e15)
            fprintf(fp, "%.0f", d);
        else
            fprintf(fp, "%.6g", d);
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "1" : "0", fp);
    } else if (json_is_string(v)) {
        sb_csv_text(fp, json_string_value(v));
    }
}

sb_err sb_cells_csv_write(const char *dir, json_t *rows, char *err, size_t err_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) {
        snprintf(err, err_len, "out of memory");
        return SB_ERR_NOMEM;
    }
    for (const sb_column *c = sb_cell_columns; c->name; c++)
        fprintf(fp, "%s%s", c == sb_cell_columns ? "" : ",", c->name);
    fputc('\n', fp);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        for (const sb_column *c = sb_cell_columns; c->name; c++) {
            if (c != sb_cell_columns)
                fputc(',', fp);
            put_field(fp, json_object_get(row, c->name));
        }
        fputc('\n', fp);
    }
    fclose(fp);
    char path[4096];
    snprintf(path, sizeof path, "%s/cells.csv", dir);
    sb_err rc = sb_write_atomic(path, buf, len, err, err_len);
    free(buf);
    return rc;
}
