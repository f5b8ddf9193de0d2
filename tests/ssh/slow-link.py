#!/usr/bin/env python3
"""A TCP link with the latency of a distant server, for tests that reach an
sshd of their own (tests/gui/remote-ssh-libvirtd.sh): every byte arrives
DELAY_MS later in each direction, in order, as over a long route. The
kernel's netem would do it per packet, but it is not in every kernel.

    slow-link.py LISTEN_PORT TARGET_PORT DELAY_MS    (both on 127.0.0.1)

Prints "slow-link listening on 127.0.0.1:PORT" once connections are taken.
"""

import asyncio
import sys


async def carry(reader, writer, delay):
    """Copies READER to WRITER, each chunk DELAY seconds after it arrived.
    Chunks wait in a queue, so a stream of them is delayed, not slowed."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not chunk:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()

    delivering = asyncio.create_task(deliver())
    try:
        while chunk := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, chunk))
    except ConnectionError:
        pass
    queue.put_nowait((loop.time() + delay, b""))
    try:
        await delivering
    except ConnectionError:
        pass


async def main(listen_port, target_port, delay):
    async def connection(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            carry(client_reader, server_writer, delay),
            carry(server_reader, client_writer, delay),
        )
        for writer in (client_writer, server_writer):
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", listen_port)
    print(f"slow-link listening on 127.0.0.1:{listen_port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000))
