/* Sealed messages (protocol/session.h, PROTOCOL.md §4).
 *
 * The receiver checks in the order the protocol fixes (length, version, flags, suite, epoch,
 * replay window, authentication) so that each reject is counted under the same reason on every
 * implementation. One deliberate refinement: padding is checked before the sequence number is
 * marked in the window, so that no rejected message ever changes the window. Padding can only
 * be wrong in an authentic message from a faulty sender, and on the wire nothing differs. */
#include <string.h>

#include "common/util.h"
#include "protocol/session.h"

sb_err sb_session_init(sb_session *s, const sb_session_config *cfg)
{
    if (!cfg->cipher.ops || !cfg->cipher.suite)
        return SB_ERR_ARG;
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    if (!s->cfg.seq_limit)
        s->cfg.seq_limit = SB_SEQ_LIMIT_DEFAULT;
    if (!s->cfg.replay_window)
        s->cfg.replay_window = SB_REPLAY_DEFAULT_WINDOW;
    if (!s->cfg.grace_ns)
        s->cfg.grace_ns = SB_GRACE_NS_DEFAULT;
    if (s->cfg.replay_window > SB_REPLAY_MAX_WINDOW || s->cfg.pad_to > 65536)
        return SB_ERR_ARG;
    return SB_OK;
}

static void keyed_clear(const sb_session *s, sb_keyed *k)
{
    if (k->state)
        s->cfg.cipher.ops->free(k->state);
    sb_wipe(k, sizeof *k);
}

static sb_err keyed_set(const sb_session *s, sb_keyed *k, uint32_t epoch, const sb_dir_keys *dk)
{
    const sb_cipher *c = &s->cfg.cipher;
    sb_keyed fresh = {.epoch = epoch};
    sb_err rc = c->ops->init(&fresh.state, c->backend, c->suite, dk->key, dk->mac);
    if (rc != SB_OK)
        return rc;
    memcpy(fresh.iv, dk->iv, SB_NONCE_BYTES);
    *k = fresh;
    sb_wipe(&fresh, sizeof fresh);
    return SB_OK;
}

sb_err sb_session_install(sb_session *s, uint32_t epoch, const sb_keys *keys, uint64_t now_ns)
{
    const sb_dir_keys *tx = s->cfg.role == SB_ROLE_DEVICE ? &keys->up : &keys->down;
    const sb_dir_keys *rx = s->cfg.role == SB_ROLE_DEVICE ? &keys->down : &keys->up;
    sb_keyed new_tx, new_rx;
    sb_err rc;
    if (s->rx.k.state && epoch <= s->rx.k.epoch)
        return SB_ERR_STALE_EPOCH;
    if ((rc = keyed_set(s, &new_tx, epoch, tx)) != SB_OK)
        return rc;
    if ((rc = keyed_set(s, &new_rx, epoch, rx)) != SB_OK) {
        keyed_clear(s, &new_tx);
        return rc;
    }
    keyed_clear(s, &s->tx);
    s->tx = new_tx;
    s->tx_seq = 0;
    /* Only one previous epoch is kept: an epoch two behind is over even if its grace is not. */
    keyed_clear(s, &s->rx_prev.k);
    if (s->rx.k.state) {
        s->rx_prev = s->rx;
        s->rx_prev.expires_ns = now_ns + s->cfg.grace_ns;
    }
    s->rx.k = new_rx;
    sb_replay_window_init(&s->rx.window, s->cfg.replay_window);
    return SB_OK;
}

static size_t body_len(const sb_session *s, size_t pt_len)
{
    size_t pad = s->cfg.pad_to;
    return pad ? (pt_len + 1 + pad - 1) / pad * pad : pt_len;
}

size_t sb_session_wire_len(const sb_session *s, size_t pt_len)
{
    return SB_HEADER_BYTES + body_len(s, pt_len) + s->cfg.cipher.suite->tag_bytes;
}

static void nonce_for(const uint8_t iv[SB_NONCE_BYTES], uint64_t seq,
                      uint8_t nonce[SB_NONCE_BYTES])
{
    uint8_t s[8];
    sb_put_u64be(s, seq);
    memcpy(nonce, iv, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = iv[4 + i] ^ s[i];
}

/* aad = header || topic, assembled in a caller's buffer of SB_HEADER_BYTES + SB_TOPIC_MAX. */
static size_t aad_for(const uint8_t *header, const char *topic, uint8_t *aad)
{
    size_t n = strlen(topic);
    memcpy(aad, header, SB_HEADER_BYTES);
    memcpy(aad + SB_HEADER_BYTES, topic, n);
    return SB_HEADER_BYTES + n;
}

sb_err sb_session_seal(sb_session *s, const char *topic, const uint8_t *pt, size_t pt_len,
                       uint8_t *out, size_t out_cap, size_t *out_len)
{
    uint8_t nonce[SB_NONCE_BYTES], aad[SB_HEADER_BYTES + SB_TOPIC_MAX];
    if (!s->tx.state)
        return SB_ERR_EPOCH;
    if (strlen(topic) > SB_TOPIC_MAX)
        return SB_ERR_ARG;
    /* Refuse rather than reuse: the seq is the nonce. */
    if (s->tx_seq >= s->cfg.seq_limit)
        return SB_ERR_SEQ_EXHAUSTED;
    size_t blen = body_len(s, pt_len), total = sb_session_wire_len(s, pt_len);
    if (out_cap < total || blen < pt_len)
        return SB_ERR_ARG;

    uint64_t seq = s->tx_seq;
    out[0] = (uint8_t)(0x10 | (s->cfg.pad_to ? SB_FLAG_PADDED : 0));
    out[1] = s->cfg.cipher.suite->id;
    sb_put_u32be(out + 2, s->tx.epoch);
    sb_put_u64be(out + 6, seq);
    uint8_t *body = out + SB_HEADER_BYTES;
    if (pt_len && body != pt)
        memmove(body, pt, pt_len);
    if (s->cfg.pad_to) {
        body[pt_len] = 0x80;
        memset(body + pt_len + 1, 0, blen - pt_len - 1);
    }
    nonce_for(s->tx.iv, seq, nonce);
    size_t aad_len = aad_for(out, topic, aad);
    sb_err rc = s->cfg.cipher.ops->seal(s->tx.state, nonce, aad, aad_len, body, blen, body);
    if (rc != SB_OK) {
        sb_wipe(out, total);
        return rc;
    }
    /* Consumed even if the caller never sends it: a nonce is never handed out twice. */
    s->tx_seq++;
    *out_len = total;
    return SB_OK;
}

/* body must end in 0x80 then zeros; returns the plaintext length or -1. Runs in time that
 * depends only on len, since the body is secret plaintext. */
static long unpad(const uint8_t *body, size_t len)
{
    size_t pos = 0;
    unsigned found = 0, bad = 0;
    for (size_t i = len; i-- > 0;) {
        unsigned zero = body[i] == 0, marker = body[i] == 0x80;
        unsigned take = (found ^ 1u) & marker;
        pos = take ? i : pos;
        bad |= (found ^ 1u) & (zero ^ 1u) & (marker ^ 1u);
        found |= marker;
    }
    return found && !bad ? (long)pos : -1;
}

sb_err sb_session_open(sb_session *s, const char *topic, const uint8_t *wire, size_t wire_len,
                       uint64_t now_ns, uint8_t *out, size_t out_cap, size_t *out_len,
                       uint32_t *epoch_out, uint64_t *seq_out)
{
    const sb_suite *suite = s->cfg.cipher.suite;
    uint8_t nonce[SB_NONCE_BYTES], aad[SB_HEADER_BYTES + SB_TOPIC_MAX];

    if (wire_len < (size_t)SB_HEADER_BYTES + suite->tag_bytes)
        return SB_ERR_SHORT;
    if ((wire[0] & 0xf0) != 0x10)
        return SB_ERR_VERSION;
    if (wire[0] & SB_FLAGS_RESERVED)
        return SB_ERR_FLAGS;
    if (wire[1] != suite->id)
        return SB_ERR_SUITE;

    uint32_t epoch = sb_get_u32be(wire + 2);
    uint64_t seq = sb_get_u64be(wire + 6);
    /* An expired previous epoch is wiped as soon as anyone looks at it. */
    if (s->rx_prev.k.state && now_ns >= s->rx_prev.expires_ns)
        keyed_clear(s, &s->rx_prev.k);
    sb_rx_slot *slot = s->rx.k.state && epoch == s->rx.k.epoch             ? &s->rx
                       : s->rx_prev.k.state && epoch == s->rx_prev.k.epoch ? &s->rx_prev
                                                                           : NULL;
    if (!slot)
        return SB_ERR_EPOCH;
    sb_err rc = sb_replay_window_check(&slot->window, seq);
    if (rc != SB_OK)
        return rc;

    size_t ct_len = wire_len - SB_HEADER_BYTES; /* includes the tag */
    size_t blen = ct_len - suite->tag_bytes;
    if (strlen(topic) > SB_TOPIC_MAX || out_cap < blen)
        return SB_ERR_ARG;
    nonce_for(slot->k.iv, seq, nonce);
    size_t aad_len = aad_for(wire, topic, aad);
    rc = s->cfg.cipher.ops->open(slot->k.state, nonce, aad, aad_len, wire + SB_HEADER_BYTES,
                                 ct_len, out);
    if (rc != SB_OK)
        return rc;

    size_t pt_len = blen;
    if (wire[0] & SB_FLAG_PADDED) {
        long n = unpad(out, blen);
        if (n < 0) {
            sb_wipe(out, blen);
            return SB_ERR_PADDING;
        }
        pt_len = (size_t)n;
    }
    sb_replay_window_mark(&slot->window, seq);
    *out_len = pt_len;
    if (epoch_out)
        *epoch_out = epoch;
    if (seq_out)
        *seq_out = seq;
    return SB_OK;
}

int sb_session_rekey_due(const sb_session *s, uint64_t margin)
{
    return s->tx_seq + margin >= s->cfg.seq_limit;
}

void sb_session_free(sb_session *s)
{
    keyed_clear(s, &s->tx);
    keyed_clear(s, &s->rx.k);
    keyed_clear(s, &s->rx_prev.k);
    sb_wipe(s, sizeof *s);
}
