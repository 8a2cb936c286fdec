#!/usr/bin/python3
"""aiohttp_fetch.py URLFILE CONCURRENCY -- the asyncio peer: a Semaphore bounds the
requests, as_completed prints one line per URL. Debian's python3-aiohttp."""
import asyncio
import sys

import aiohttp


async def fetch(session, sem, url):
    async with sem:
        try:
            async with session.get(url) as resp:
                body = await resp.read()
                return resp.status, len(body), url
        except Exception as e:  # a record per URL, like acrawl
            return "ERR", 0, f"{url} {type(e).__name__}"


async def main():
    urls = [l.strip() for l in open(sys.argv[1]) if l.strip()]
    conc = int(sys.argv[2])
    sem = asyncio.Semaphore(conc)
    conn = aiohttp.TCPConnector(limit=conc)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        tasks = [asyncio.create_task(fetch(session, sem, u)) for u in urls]
        out = sys.stdout
        for fut in asyncio.as_completed(tasks):
            status, n, url = await fut
            out.write(f"{status}\t{n}\t{url}\n")


asyncio.run(main())
