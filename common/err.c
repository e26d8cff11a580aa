/* Names and messages for sb_err (common/err.h). */
#include "common/err.h"

#define SB_REASON_NAME_(name, code) #name,
const char *const sb_reason_names[SB_REASONS] = {SB_REJECT_REASONS(SB_REASON_NAME_)};
#undef SB_REASON_NAME_

int sb_reason_index(sb_err err)
{
    int i = 0;
#define SB_REASON_INDEX_(name, code)                                                          \
    if (err == (code))                                                                        \
        return i;                                                                             \
    i++;
    SB_REJECT_REASONS(SB_REASON_INDEX_)
#undef SB_REASON_INDEX_
    switch (err) { /* the handshake's other failures count as "handshake" */
    case SB_ERR_HS_AUTH:
    case SB_ERR_STALE_EPOCH:
    case SB_ERR_POINT:
    case SB_ERR_ZERO_SHARED:
    case SB_ERR_UNAVAILABLE:
        return sb_reason_index(SB_ERR_HANDSHAKE);
    default:
        return -1;
    }
}

const char *sb_err_name(sb_err err)
{
    switch (err) {
    case SB_OK: return "ok";
    case SB_ERR_ARG: return "arg";
    case SB_ERR_NOMEM: return "nomem";
    case SB_ERR_UNAVAILABLE: return "unavailable";
    case SB_ERR_BACKEND: return "backend";
    case SB_ERR_RANDOM: return "random";
    case SB_ERR_IO: return "io";
    case SB_ERR_PARSE: return "parse";
    case SB_ERR_NET: return "net";
    case SB_ERR_TIMEOUT: return "timeout";
#define SB_REASON_CASE_(name, code) case code: return #name;
    SB_REJECT_REASONS(SB_REASON_CASE_)
#undef SB_REASON_CASE_
    case SB_ERR_SEQ_EXHAUSTED: return "seq_exhausted";
    case SB_ERR_HS_AUTH: return "handshake_auth";
    case SB_ERR_STALE_EPOCH: return "stale_epoch";
    case SB_ERR_POINT: return "bad_point";
    case SB_ERR_ZERO_SHARED: return "zero_shared";
    }
    return "unknown";
}

const char *sb_err_str(sb_err err)
{
    switch (err) {
    case SB_OK: return "success";
    case SB_ERR_ARG: return "invalid argument";
    case SB_ERR_NOMEM: return "out of memory";
    case SB_ERR_UNAVAILABLE: return "not available in this backend";
    case SB_ERR_BACKEND: return "the crypto library reported an internal error";
    case SB_ERR_RANDOM: return "the random number generator failed";
    case SB_ERR_IO: return "input/output error";
    case SB_ERR_PARSE: return "malformed input";
    case SB_ERR_NET: return "network or broker connection failed";
    case SB_ERR_TIMEOUT: return "network operation timed out";
    case SB_ERR_SHORT: return "message shorter than header and tag";
    case SB_ERR_VERSION: return "unsupported protocol version";
    case SB_ERR_FLAGS: return "reserved flag bits set";
    case SB_ERR_SUITE: return "suite differs from the session's";
    case SB_ERR_EPOCH: return "no keys for this epoch";
    case SB_ERR_REPLAY: return "sequence number already received (replay)";
    case SB_ERR_TOO_OLD: return "sequence number below the replay window";
    case SB_ERR_AUTH: return "authentication tag did not verify";
    case SB_ERR_PADDING: return "malformed padding";
    case SB_ERR_SEQ_EXHAUSTED: return "sequence number limit reached: rekey before sealing more";
    case SB_ERR_HANDSHAKE: return "malformed or unexpected handshake message";
    case SB_ERR_HS_AUTH: return "handshake MAC did not verify (wrong pre-shared key or tampering)";
    case SB_ERR_STALE_EPOCH: return "handshake epoch not above the last accepted one";
    case SB_ERR_POINT: return "peer public key is not a valid curve point";
    case SB_ERR_ZERO_SHARED: return "ECDH result is all zero (small-order peer key)";
    }
    return "unknown error";
}
