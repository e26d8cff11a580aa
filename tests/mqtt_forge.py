#!/usr/bin/python3
"""Builds the attacker's messages for tests/test_mqtt.sh, independently of sealbench's C code:
HELLOs per PROTOCOL.md §3 from the standard library's hmac/hashlib, ACCEPT checks, and
sealed messages taken from a capture (`mosquitto_sub -F '%x'`: one hex payload per line) and
altered. Binary output goes to the file named by --out, ready for `mosquitto_pub -f`.

usage:
  mqtt_forge.py hello --id D --psk HEX --epoch N [--group 1] [--suite 1] [--wrong-psk] --out F
  mqtt_forge.py accept-ok --id D --psk HEX --hello F --capture F --topic T   0: mac_g verifies
  mqtt_forge.py wire --capture F --topic T --mode M [--epoch E] [--exclude F] --out F
                                                                prints 'epoch seq len'
  mqtt_forge.py epochs --capture F --topic T [--exclude F]      'epoch count' per line, in order
  mqtt_forge.py roundtrip --capture F --topic T --original F    exit 0 if byte-exact

A capture is the output of `mosquitto_sub -F '%t %x'`: topic, space, hex payload, one message a
line; --topic picks one topic's messages. The attacker's own messages show up in the capture
too: --exclude names a file of their hex payloads, one a line, to leave out.

wire modes (the source is the last complete captured line, or with --epoch the first message of
that epoch): same (unchanged), seq-bit (one bit of seq flipped: a fresh seq whose tag cannot
verify), tag-bit (last bit of the tag flipped and seq moved far ahead so the replay window
does not catch it first), short (10 bytes), version (high nibble 2), flags (a reserved flag),
suite (another suite id)."""
import argparse
import hashlib
import hmac
import os
import struct
import sys

HS_SALT = b"sealbench v1 hs"
PUB_BYTES = {1: 32, 2: 65}


def hkdf(salt, ikm, info, length):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def hs_key(device_id, psk):
    return hkdf(HS_SALT, psk, device_id.encode(), 32)


def psk_of(args):
    psk = bytearray(bytes.fromhex(args.psk))
    if len(psk) != 32:
        sys.exit("mqtt_forge: the PSK must be 64 hex digits")
    if getattr(args, "wrong_psk", False):
        psk[0] ^= 0x01  # one bit off: the attacker's near miss
    return bytes(psk)


def cmd_hello(args):
    group, suite = args.group, args.suite
    if group == 1:
        pub = os.urandom(32)  # any 32 bytes are an X25519 public key
    else:
        sys.exit("mqtt_forge: only x25519 HELLOs are built here")
    body = bytes([1, 1, group, suite]) + struct.pack(">I", args.epoch) + os.urandom(16) + pub
    mac = hmac.new(hs_key(args.id, psk_of(args)), body, hashlib.sha256).digest()
    with open(args.out, "wb") as f:
        f.write(body + mac)


def cmd_accept_ok(args):
    hello = open(args.hello, "rb").read()
    msgs = captured(args.capture, args.topic)
    if not msgs:
        print("no ACCEPT captured on " + args.topic)
        return 1
    acc = msgs[0]
    group = hello[2]
    want_len = 2 + 2 + 4 + 16 + PUB_BYTES.get(group, 0) + 32
    if len(acc) != want_len:
        print("ACCEPT is %d bytes, expected %d" % (len(acc), want_len))
        return 1
    if acc[:2] != b"\x01\x02" or acc[2:8] != hello[2:8]:
        print("ACCEPT header %s does not match the HELLO's %s" % (acc[:8].hex(), hello[:8].hex()))
        return 1
    mac = hmac.new(hs_key(args.id, psk_of(args)), hello + acc[:-32], hashlib.sha256).digest()
    if not hmac.compare_digest(mac, acc[-32:]):
        print("mac_g does not verify")
        return 1
    return 0


def captured(path, topic, exclude=None):
    """The payloads captured on topic, from complete lines only (the last line may be half
    written while the subscriber runs), less those listed in the file exclude."""
    skip = set()
    if exclude and os.path.exists(exclude):
        skip = {l.strip() for l in open(exclude) if l.strip()}
    out = []
    for line in open(path).read().split("\n")[:-1]:
        t, _, hx = line.partition(" ")
        if t != topic or hx in skip:
            continue
        try:
            out.append(bytes.fromhex(hx))
        except ValueError:
            pass
    return out


def header(m):
    return struct.unpack(">I", m[2:6])[0], struct.unpack(">Q", m[6:14])[0]


def cmd_epochs(args):
    seen = {}
    for m in captured(args.capture, args.topic, args.exclude):
        if len(m) >= 14:
            e = header(m)[0]
            seen[e] = seen.get(e, 0) + 1
    for e, n in seen.items():
        print(e, n)


def cmd_wire(args):
    msgs = [m for m in captured(args.capture, args.topic, args.exclude) if len(m) >= 14]
    if args.epoch is not None:
        msgs = [m for m in msgs if header(m)[0] == args.epoch][:1]
    if not msgs:
        sys.exit("mqtt_forge: no captured message to use")
    m = bytearray(msgs[-1])
    epoch, seq = header(m)
    mode = args.mode
    if mode == "same":
        pass
    elif mode == "seq-bit":
        m[6] ^= 0x01  # bit 56 of seq
    elif mode == "tag-bit":
        # The captured seq was opened already, so the replay window would reject it before
        # the tag is looked at: move it far ahead, then flip the last bit of the tag.
        m[6:14] = struct.pack(">Q", seq + (1 << 40))
        m[-1] ^= 0x01
    elif mode == "short":
        m = m[:10]
    elif mode == "version":
        m[0] = 0x20 | (m[0] & 0x0F)
    elif mode == "flags":
        m[0] |= 0x02
    elif mode == "suite":
        m[1] = 3 if m[1] != 3 else 2
    else:
        sys.exit("mqtt_forge: unknown mode " + mode)
    with open(args.out, "wb") as f:
        f.write(bytes(m))
    print(epoch, seq, len(msgs[-1]))


def cmd_roundtrip(args):
    msgs = captured(args.capture, args.topic)
    want = open(args.original, "rb").read()
    return 0 if msgs and msgs[0] == want else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hello")
    h.add_argument("--id", required=True)
    h.add_argument("--psk", required=True)
    h.add_argument("--epoch", type=int, required=True)
    h.add_argument("--group", type=int, default=1)
    h.add_argument("--suite", type=int, default=1)
    h.add_argument("--wrong-psk", action="store_true")
    h.add_argument("--out", required=True)
    a = sub.add_parser("accept-ok")
    a.add_argument("--id", required=True)
    a.add_argument("--psk", required=True)
    a.add_argument("--hello", required=True)
    a.add_argument("--capture", required=True)
    a.add_argument("--topic", required=True)
    w = sub.add_parser("wire")
    w.add_argument("--capture", required=True)
    w.add_argument("--topic", required=True)
    w.add_argument("--mode", required=True)
    w.add_argument("--epoch", type=int)
    w.add_argument("--exclude")
    w.add_argument("--out", required=True)
    e = sub.add_parser("epochs")
    e.add_argument("--capture", required=True)
    e.add_argument("--topic", required=True)
    e.add_argument("--exclude")
    r = sub.add_parser("roundtrip")
    r.add_argument("--capture", required=True)
    r.add_argument("--topic", required=True)
    r.add_argument("--original", required=True)
    args = p.parse_args()
    rc = {"hello": cmd_hello, "accept-ok": cmd_accept_ok, "wire": cmd_wire,
          "epochs": cmd_epochs, "roundtrip": cmd_roundtrip}[args.cmd](args)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
