"""A slow DNS server for the lab's internet: answers each query only after
DELAY seconds, by asking UPSTREAM (the lab's resolver) and passing its
answer on. What a user sees behind an overloaded or half-dead resolver.

    slow-dns.py LISTEN_ADDRESS UPSTREAM_ADDRESS DELAY_SECONDS

It serves UDP port 53 on LISTEN_ADDRESS until it is killed (it dies with
the lab). Each query is handled in its own thread, so queries do not wait
for each other.
"""

import socket
import sys
import threading
import time


def relay(server, query, client, upstream, delay):
    time.sleep(delay)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as ask:
        ask.settimeout(5)
        ask.sendto(query, (upstream, 53))
        try:
            answer, _ = ask.recvfrom(65535)
        except OSError:
            return  # no answer upstream: the client times out, as it would
    server.sendto(answer, client)


def main():
    listen, upstream, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((listen, 53))
    print(f"slow-dns: {listen}:53, {delay} s, then {upstream}", flush=True)
    while True:
        query, client = server.recvfrom(65535)
        print(f"slow-dns: query from {client[0]}", flush=True)
        threading.Thread(target=relay, args=(server, query, client, upstream, delay), daemon=True).start()


if __name__ == "__main__":
    main()
