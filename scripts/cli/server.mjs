/**
 * The CLI's tiny static server on 127.0.0.1 (a secure context for WebGPU): the page bundle at /,
 * the user's input files at /in/<n> (only those registered), a model pack folder at /pack/.
 * Cross-origin isolation headers as the app's own servers send them.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
  '.map': 'application/json',
};
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/** `path` inside `root`, or null when the URL tries to leave it. */
function inside(root, urlPath) {
  const p = normalize(join(root, decodeURIComponent(urlPath)));
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep) ? p : null;
}

function send(res, path, type) {
  if (!path || !existsSync(path) || !statSync(path).isFile()) {
    res.writeHead(404, HEADERS).end('not found');
    return;
  }
  const size = statSync(path).size;
  res.writeHead(200, { ...HEADERS, 'Content-Type': type ?? TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': size });
  createReadStream(path).pipe(res);
}

export async function startServer({ bundleDir, port = 0, packDir = null }) {
  const inputs = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, HEADERS).end();
    if (url.pathname === '/favicon.ico') return void res.writeHead(204, HEADERS).end();
    const input = /^\/in\/(\d+)$/.exec(url.pathname);
    if (input) return send(res, inputs[Number(input[1])] ?? null, 'application/octet-stream');
    if (packDir && url.pathname.startsWith('/pack/')) return send(res, inside(packDir, url.pathname.slice('/pack/'.length)));
    send(res, inside(bundleDir, url.pathname === '/' ? 'cli.html' : url.pathname));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    /** Makes a local file readable by the page; returns its URL path. */
    register(path) {
      inputs.push(path);
      return `/in/${inputs.length - 1}`;
    },
    packUrl: packDir ? `${origin}/pack/` : null,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
