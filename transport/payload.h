/* Synthetic telemetry payloads that a receiver can check without being told what was sent.
 *
 * Message n of device D is u64be(n) followed by bytes of a splitmix64 stream seeded from D and
 * n. A gateway given --verify regenerates the bytes from what it opened and compares them, so
 * a backend pair that "opens" to the wrong plaintext cannot pass as working; n also lets it
 * count a message opened twice. Payloads shorter than 8 bytes carry a truncated n and cannot be
 * checked. */
#ifndef SB_TRANSPORT_PAYLOAD_H
#define SB_TRANSPORT_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define SB_PAYLOAD_MIN_CHECKABLE 8

void sb_payload_make(const char *device_id, uint64_t n, uint8_t *out, size_t len);

/* 1: the payload is message n of device_id (n written to *n); 0: it is not; -1: too short to
 * tell. */
int sb_payload_check(const char *device_id, const uint8_t *p, size_t len, uint64_t *n);

#endif
