#!/usr/bin/python3
"""Writes the demo capture: twelve hours of a small network's edge, deterministic (fixed seed).

Ordinary traffic (DNS, web with TLS SNI and HTTP Host, remote-access users) plus the signals of a
covert network (docs/detection.md): an IP camera beaconing hourly over TLS to a VPS with a
Raptor Train C2 name, the same camera scanning telnet, a low-and-slow password spray against the
VPN gateway from many residential-looking sources, and an answered backdoor listener (tcp/7777)
on the edge router. External addresses are documentation prefixes (RFC 5737 / 3849).

Usage: /usr/bin/python3 scripts/make-demo-pcap.py OUT.pcap   (needs Debian's python3-scapy)
"""
import random
import sys

from scapy.all import DNS, DNSQR, DNSRR, ICMP, IP, IPv6, TCP, UDP, Ether, Raw, wrpcap
from scapy.layers.tls.handshake import TLSClientHello
from scapy.layers.tls.extensions import ServerName, TLS_Ext_ServerName
from scapy.layers.tls.record import TLS

rng = random.Random(7777)
BASE = 1776672000.0  # 2026-04-20T08:00:00Z
MAC_LAN, MAC_GW = "02:00:00:00:00:01", "02:00:00:00:00:fe"
packets = []


def emit(ts, pkt):
    pkt.time = ts
    packets.append(pkt)


def eth(ip):
    return Ether(src=MAC_LAN, dst=MAC_GW) / ip


def tcp_session(ts, cli, srv, sport, dport, payload=b"", reply=b"", v6=False, rtt=0.03):
    """A complete TCP session: handshake, request, response, FIN in both directions."""
    L3 = IPv6 if v6 else IP
    seq, ack = rng.randrange(1 << 31), rng.randrange(1 << 31)
    c = lambda **kw: eth(L3(src=cli, dst=srv) / TCP(sport=sport, dport=dport, **kw))
    s = lambda **kw: eth(L3(src=srv, dst=cli) / TCP(sport=dport, dport=sport, **kw))
    emit(ts, c(flags="S", seq=seq))
    emit(ts + rtt, s(flags="SA", seq=ack, ack=seq + 1))
    emit(ts + rtt * 1.1, c(flags="A", seq=seq + 1, ack=ack + 1))
    t = ts + rtt * 1.2
    if payload:
        emit(t, c(flags="PA", seq=seq + 1, ack=ack + 1) / Raw(payload))
    if reply:
        for i in range(0, len(reply), 1400):
            t += rtt / 4
            emit(t, s(flags="PA", seq=ack + 1 + i, ack=seq + 1 + len(payload)) / Raw(reply[i:i + 1400]))
    t += rtt
    emit(t, c(flags="FA", seq=seq + 1 + len(payload), ack=ack + 1 + len(reply)))
    emit(t + rtt, s(flags="FA", seq=ack + 1 + len(reply), ack=seq + 2 + len(payload)))
    emit(t + rtt * 1.1, c(flags="A", seq=seq + 2 + len(payload), ack=ack + 2 + len(reply)))


def client_hello(name):
    ch = TLSClientHello(ext=[TLS_Ext_ServerName(servernames=[ServerName(servername=name.encode())])])
    return bytes(TLS(msg=[ch]))


def dns(ts, client, name, answer, resolver="10.20.0.53"):
    qid, sport = rng.randrange(65536), rng.randrange(20000, 60000)
    q = eth(IP(src=client, dst=resolver) / UDP(sport=sport, dport=53) / DNS(id=qid, rd=1, qd=DNSQR(qname=name)))
    r = eth(IP(src=resolver, dst=client) / UDP(sport=53, dport=sport) /
            DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=300, rdata=answer)))
    emit(ts, q)
    emit(ts + 0.004, r)


HOURS = 12
workstations = [f"10.20.3.{i}" for i in range(10, 30)]
saas = {"www.example.com": "198.51.100.10", "login.example.net": "198.51.100.20",
        "updates.example.org": "198.51.100.30", "mail.example.com": "198.51.100.40"}

# Ordinary office traffic: lookups, then HTTPS (SNI) or HTTP (Host).
for _ in range(400):
    ts = BASE + rng.uniform(0, HOURS * 3600)
    host = rng.choice(workstations)
    name, addr = rng.choice(list(saas.items()))
    dns(ts, host, name, addr)
    if rng.random() < 0.85:
        tcp_session(ts + 0.01, host, addr, rng.randrange(40000, 60000), 443, client_hello(name),
                    bytes(rng.randrange(256) for _ in range(rng.randrange(500, 6000))))
    else:
        req = f"GET / HTTP/1.1\r\nHost: {name}\r\nUser-Agent: demo\r\n\r\n".encode()
        tcp_session(ts + 0.01, host, addr, rng.randrange(40000, 60000), 80, req, b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 900)
# IPv6 web traffic from a dual-stack workstation.
for _ in range(20):
    tcp_session(BASE + rng.uniform(0, HOURS * 3600), "fd00:20:3::15", "2001:db8:100::10",
                rng.randrange(40000, 60000), 443, client_hello("www.example.com"), b"y" * 2000, v6=True)
# Remote-access users on the VPN gateway from stable home addresses.
for user in ["203.0.113.45", "203.0.113.77", "203.0.113.91"]:
    for _ in range(6):
        tcp_session(BASE + rng.uniform(0, HOURS * 3600), user, "10.20.1.1", rng.randrange(40000, 60000), 443,
                    client_hello("vpn.corp.example"), b"z" * 20000)

# Raptor Train tier-1 behaviour: the camera checks in hourly (jittered) with a C2 name, and
# re-fetches a small payload of nearly constant size.
camera, vps = "10.20.5.23", "192.0.2.66"
for h in range(HOURS):
    ts = BASE + h * 3600 + rng.uniform(-20, 20) + 300
    dns(ts, camera, "w8510.com", vps)
    tcp_session(ts + 0.02, camera, vps, rng.randrange(30000, 40000), 443, client_hello("w8510.com"),
                b"c" * (4096 + rng.randrange(-8, 8)), rtt=0.12)
# Later the camera starts scanning telnet (Mirai-style SYNs, no answers).
for i in range(600):
    ts = BASE + 9 * 3600 + i * 0.5
    dst = f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    emit(ts, eth(IP(src=camera, dst=dst) / TCP(sport=rng.randrange(30000, 60000), dport=rng.choice([23, 23, 2323]), flags="S")))

# Quad7-style spray: hundreds of sources, one or two short attempts each, against the VPN.
for i in range(300):
    src = f"100.{64 + rng.randrange(64)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    for _ in range(rng.choice([1, 1, 2])):
        tcp_session(BASE + rng.uniform(0, HOURS * 3600), src, "10.20.1.1", rng.randrange(1024, 65535), 443,
                    client_hello("vpn.corp.example"), b"\x15\x03\x03\x00\x02\x02\x28", rtt=0.09)

# A backdoor listener on the edge router answers from outside (7777, "xlogin").
for _ in range(3):
    tcp_session(BASE + rng.uniform(4 * 3600, HOURS * 3600), "192.0.2.200", "10.20.1.254",
                rng.randrange(40000, 60000), 7777, b"xlogin\n", b"ok\n" * 50, rtt=0.2)
# Background: pings and internet scanning of the edge.
for _ in range(200):
    emit(BASE + rng.uniform(0, HOURS * 3600),
         eth(IP(src=f"198.51.{rng.randrange(100, 114)}.{rng.randrange(1, 255)}", dst="10.20.1.1") /
             TCP(sport=rng.randrange(1024, 65535), dport=rng.choice([22, 23, 80, 8080, 8291, 7547]), flags="S")))
    emit(BASE + rng.uniform(0, HOURS * 3600), eth(IP(src="10.20.3.12", dst="10.20.0.1") / ICMP()))

packets.sort(key=lambda p: p.time)
wrpcap(sys.argv[1] if len(sys.argv) > 1 else "demo.pcap", packets)
print(f"wrote {len(packets)} packets to {sys.argv[1] if len(sys.argv) > 1 else 'demo.pcap'}")
