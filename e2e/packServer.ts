/**
 * A second local origin serving the tiny pack for model-pack tests, with the faults a real
 * server shows: no CORS headers, a body cut after N bytes (the socket dies, as on a dropped
 * connection), Range ignored (200 for a Range request), a corrupted file, a replaced manifest.
 * Requests are logged so a test can check what the loader asked for (Range offsets).
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';

export const TINY_DIR = resolve(import.meta.dirname, '../public/models/tiny');

export interface PackServerOptions {
  /** Send Access-Control-Allow-Origin (default true). */
  cors?: boolean;
  /** Answer Range requests with 206 (default true); false answers 200 with the whole file. */
  range?: boolean;
  /** The first GET of `path` sends `afterBytes` bytes of the body, then the connection is destroyed. */
  cutOnce?: { path: string; afterBytes: number };
  /** The first GET of `path` sends `afterBytes` bytes, then stalls until the server closes (a page reload meets it mid-body). */
  stallOnce?: { path: string; afterBytes: number };
  /** Serve `path` with one byte flipped. */
  corrupt?: string;
  /** Serve this text as manifest.json. */
  manifest?: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range: string | null;
  status: number;
}

export interface PackServer {
  url: string;
  log: LoggedRequest[];
  close(): Promise<void>;
}

export async function startPackServer(options: PackServerOptions = {}): Promise<PackServer> {
  const { cors = true, range = true } = options;
  const log: LoggedRequest[] = [];
  let cut = options.cutOnce ? { ...options.cutOnce } : null;
  let stall = options.stallOnce ? { ...options.stallOnce } : null;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/tiny\//, '');
    const entry: LoggedRequest = { method: req.method ?? 'GET', path, range: req.headers.range ?? null, status: 200 };
    log.push(entry);
    if (cors) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Allow-Headers', 'Range');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length');
    }
    if (req.method === 'OPTIONS') {
      entry.status = 204;
      res.writeHead(204).end();
      return;
    }
    let body: Buffer;
    try {
      if (path.includes('..')) throw new Error('bad path');
      body =
        path === 'manifest.json' && options.manifest !== undefined ? Buffer.from(options.manifest) : readFileSync(resolve(TINY_DIR, path));
    } catch {
      entry.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    if (options.corrupt === path) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let status = 200;
    let start = 0;
    if (range && m && Number(m[1]) < body.length) {
      status = 206;
      start = Number(m[1]);
      res.setHeader('Content-Range', `bytes ${start}-${body.length - 1}/${body.length}`);
    }
    const part = body.subarray(start);
    entry.status = status;
    res.writeHead(status, {
      'Content-Length': String(part.length),
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': range ? 'bytes' : 'none',
    });
    if (cut && cut.path === path) {
      const n = cut.afterBytes;
      cut = null;
      res.write(part.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    if (stall && stall.path === path) {
      res.write(part.subarray(0, stall.afterBytes));
      stall = null;
      return; // never ends: closeAllConnections() drops it
    }
    res.end(part);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/tiny/`,
    log,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
