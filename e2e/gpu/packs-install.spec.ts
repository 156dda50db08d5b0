/**
 * Model-pack installer (src/models/loader.ts, store.ts) in real Chromium with OPFS: the tiny
 * pack from the app's own origin and from a second local origin that misbehaves on purpose
 * (e2e/packServer.ts). Every stored byte is checked against the committed file on disk (sha256
 * by Node), read back through openPack and hashed by WebCrypto, not by the loader's hasher.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from '../fixtures';
import { startPackServer, TINY_DIR, type PackServer } from '../packServer';
import { diskSha256, install, opfsNames, storedDigests, storedState } from './packs-helpers';

const MANIFEST = readFileSync(resolve(TINY_DIR, 'manifest.json'), 'utf8');
const forged = (f: (m: any) => void) => {
  const m = JSON.parse(MANIFEST);
  f(m);
  return JSON.stringify(m);
};
const BIG = 'stage1_unet.q8.onnx'; // 980 KB: the file the fault tests cut or corrupt
const SEG = 64 * 1024;

/** No pack folder, and nothing beside model-packs/ in this origin's OPFS. */
async function expectNothingStored(page: import('@playwright/test').Page) {
  const names = await opfsNames(page);
  expect(names.top.filter((n) => n !== 'model-packs')).toEqual([]);
  expect(names.packs).toEqual([]);
}

let server: PackServer | null = null;
test.afterEach(async () => {
  await server?.close();
  server = null;
});

test('installs the bundled tiny pack in segments, verifies every file and reads it back offline', async ({ harness: page }) => {
  await page.evaluate(() => {
    const w = window as unknown as { persistAsked: number };
    w.persistAsked = 0;
    navigator.storage.persist = async () => (w.persistAsked++, true);
  });
  const run = await install(page, { base: '/models/tiny/', kind: 'bundled', variant: 'q8', segmentBytes: SEG });
  expect(await page.evaluate(() => (window as unknown as { persistAsked: number }).persistAsked)).toBe(1);
  expect(run.error).toBeUndefined();
  const rec = run.record!;
  expect(rec.state).toBe('installed');
  expect(rec.id).toMatch(/^motion-i2v-tiny\.q8-[0-9a-f]{12}$/);
  // Goldens are test data: the app's install skips them.
  expect(rec.files.some((f) => f.path.startsWith('goldens/'))).toBe(false);
  expect(rec.verified.sort()).toEqual(rec.files.map((f) => f.path).sort());
  // Progress: bytes only grow and end at the total.
  expect(run.totalBytes).toBe(rec.totalBytes);
  for (let i = 1; i < run.loaded.length; i++) expect(run.loaded[i]).toBeGreaterThanOrEqual(run.loaded[i - 1]);
  expect(run.loaded.at(-1)).toBe(rec.totalBytes);
  expect(Math.max(...run.rates)).toBeGreaterThan(0);
  // The big file went to OPFS in 64 KiB segments, never as one buffer.
  const [state] = await storedState(page);
  expect(state.segments[BIG]).toBe(Math.ceil(readFileSync(resolve(TINY_DIR, BIG)).byteLength / SEG));
  const found = await page.evaluate(async () => {
    const { findInstalledPack } = (await import(
      /* @vite-ignore */ '/src/models/store.ts' as string
    )) as typeof import('../../src/models/store');
    return [(await findInstalledPack('motion-i2v-tiny'))?.id, (await findInstalledPack('motion-i2v-tiny', 'fp32'))?.id ?? null];
  });
  expect(found).toEqual([rec.id, null]);
  // Offline: nothing may come from the network now.
  await page.route('**/models/tiny/**', (r) => r.abort());
  const digests = await storedDigests(page, rec.id);
  for (const f of rec.files) expect(digests[f.path], f.path).toBe(diskSha256(f.path));
});

test('goldens come along only when asked (tests), and verify like every other file', async ({ harness: page }) => {
  const run = await install(page, { base: '/models/tiny/', kind: 'bundled', variant: 'q4', goldens: true });
  expect(run.error).toBeUndefined();
  const goldens = run.record!.files.filter((f) => f.path.startsWith('goldens/')).map((f) => f.path);
  expect(goldens.sort()).toEqual(
    readdirSync(resolve(TINY_DIR, 'goldens'))
      .map((f) => `goldens/${f}`)
      .sort(),
  );
  const digests = await storedDigests(page, run.record!.id);
  for (const g of goldens) expect(digests[g], g).toBe(diskSha256(g));
});

test('a download cut in the middle resumes with Range after a reload, keeping the bytes it had', async ({ harness: page }) => {
  server = await startPackServer({ cutOnce: { path: BIG, afterBytes: 300_000 } });
  const first = await install(page, { base: server.url, segmentBytes: SEG });
  expect(first.error?.reason).toBe('interrupted');
  expect(first.error?.path).toBe(BIG);
  expect(first.error?.message).toMatch(/Resume/);
  const [cut] = await storedState(page);
  expect(cut.state).toBe('installing');
  const kept = cut.bytes[BIG];
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThanOrEqual(300_000);

  await page.reload();
  const second = await install(page, { base: server.url, segmentBytes: SEG });
  expect(second.error).toBeUndefined();
  expect(second.record!.state).toBe('installed');
  const resumed = server.log.filter((r) => r.path === BIG && r.method === 'GET');
  expect(resumed.map((r) => [r.range, r.status])).toEqual([
    [null, 200],
    [`bytes=${kept}-`, 206],
  ]);
  // Files verified before the cut were not fetched again.
  const before = first.filesDone;
  expect(before.length).toBeGreaterThan(0);
  for (const p of before) expect(server.log.filter((r) => r.path === p && r.method === 'GET')).toHaveLength(1);
  const digests = await storedDigests(page, second.record!.id);
  expect(digests[BIG]).toBe(diskSha256(BIG));
});

test('a reload in the middle of a file keeps its committed segments and resumes from their end', async ({ harness: page }) => {
  server = await startPackServer({ stallOnce: { path: BIG, afterBytes: 5 * SEG + 1000 } });
  const base = server.url;
  // Start the install and leave it running; the big file stalls after 5 segments and a bit.
  await page.evaluate(async (b) => {
    const { installPack, urlSource } = (await import(
      /* @vite-ignore */ '/src/models/loader.ts' as string
    )) as typeof import('../../src/models/loader');
    void installPack(urlSource(b), { variant: 'q8', segmentBytes: 64 * 1024 }).catch(() => undefined);
  }, base);
  // (A segment being replaced as it is listed can refuse one read: try again on the next poll.)
  await expect.poll(async () => (await storedState(page).catch(() => []))[0]?.bytes[BIG] ?? 0, { timeout: 60_000 }).toBe(5 * SEG);
  await page.reload(); // the segment being written (1000 bytes) is lost with the page; the five before it are not
  const run = await install(page, { base, segmentBytes: SEG });
  expect(run.error).toBeUndefined();
  const gets = server.log.filter((r) => r.path === BIG && r.method === 'GET');
  expect(gets.map((r) => r.range)).toEqual([null, `bytes=${5 * SEG}-`]);
  expect((await storedDigests(page, run.record!.id))[BIG]).toBe(diskSha256(BIG));
});

test('a server that ignores Range restarts the file from byte 0 and still verifies', async ({ harness: page }) => {
  server = await startPackServer({ range: false, cutOnce: { path: BIG, afterBytes: 200_000 } });
  expect((await install(page, { base: server.url, segmentBytes: SEG })).error?.reason).toBe('interrupted');
  const run = await install(page, { base: server.url, segmentBytes: SEG });
  expect(run.error).toBeUndefined();
  const gets = server.log.filter((r) => r.path === BIG && r.method === 'GET');
  expect(gets.at(-1)!.range).toMatch(/^bytes=\d+-$/);
  expect(gets.at(-1)!.status).toBe(200);
  expect((await storedDigests(page, run.record!.id))[BIG]).toBe(diskSha256(BIG));
});

test('cancel keeps verified files; installing again completes without fetching them twice', async ({ harness: page }) => {
  server = await startPackServer();
  const first = await install(page, { base: server.url, abortAfterFiles: 3 });
  expect(first.error?.code).toBe('aborted');
  const [state] = await storedState(page);
  expect(state.state).toBe('installing');
  expect(state.verified).toEqual(first.filesDone.slice(0, state.verified.length));
  const second = await install(page, { base: server.url });
  expect(second.record?.state).toBe('installed');
  for (const p of state.verified) expect(server.log.filter((r) => r.path === p && r.method === 'GET')).toHaveLength(1);
});

test('a file whose sha256 differs is deleted and named; the pack stays not installed', async ({ harness: page }) => {
  server = await startPackServer({ corrupt: BIG });
  const run = await install(page, { base: server.url });
  expect(run.error?.reason).toBe('integrity');
  expect(run.error?.path).toBe(BIG);
  expect(run.error?.message).toContain(BIG);
  expect(run.error?.message).toMatch(/sha256 differs.*deleted/);
  const [state] = await storedState(page);
  expect(state.state).toBe('installing');
  expect(state.bytes[BIG]).toBeUndefined(); // its bytes are gone
  expect(state.verified).not.toContain(BIG);
  const open = await page.evaluate(async (id) => {
    const { openPack } = (await import(/* @vite-ignore */ '/src/models/store.ts' as string)) as typeof import('../../src/models/store');
    return openPack(id).then(
      () => 'opened',
      (e) => (e as { reason: string }).reason,
    );
  }, state.id);
  expect(open).toBe('not-installed');
});

test('a new version of an installed pack that fails verification leaves the installed one in use', async ({ harness: page }) => {
  const old = await install(page, { base: '/models/tiny/', kind: 'bundled' });
  expect(old.record?.state).toBe('installed');
  // The "new version" lists another hash for the big file; the bytes served do not match it.
  server = await startPackServer({ manifest: forged((m) => (m.components.stage1_unet.files.q8[0].sha256 = '0'.repeat(64))) });
  const run = await install(page, { base: server.url });
  expect(run.error?.reason).toBe('integrity');
  expect(run.error?.path).toBe(BIG);
  const states = await storedState(page);
  expect(states).toHaveLength(2);
  expect(states.find((p) => p.id === old.record!.id)?.state).toBe('installed');
  expect(states.find((p) => p.id !== old.record!.id)?.state).toBe('installing');
  const digests = await storedDigests(page, old.record!.id);
  for (const f of old.record!.files) expect(digests[f.path], f.path).toBe(diskSha256(f.path));
  // A good new version (here: another file list, goldens included) replaces both once complete.
  const fixed = await install(page, { base: '/models/tiny/', kind: 'bundled', goldens: true });
  expect(fixed.record?.state).toBe('installed');
  expect((await storedState(page)).map((p) => [p.id, p.state])).toEqual([[fixed.record!.id, 'installed']]);
});

test('quota too small: refused before anything is downloaded or stored', async ({ harness: page }) => {
  server = await startPackServer();
  await page.evaluate(() => {
    navigator.storage.estimate = async () => ({ quota: 2_000_000, usage: 1_500_000 });
  });
  const run = await install(page, { base: server.url });
  expect(run.error?.code).toBe('storage');
  // The q8 variant's files + the tokenizer, summed here from the manifest, in MB as the page writes them.
  const m = JSON.parse(MANIFEST) as {
    components: Record<
      string,
      { files?: Record<string, { bytes: number }[]>; segments?: { files: Record<string, { bytes: number }[]> }[] }
    >;
    tokenizer: { files: { bytes: number }[] };
  };
  const sum = (files: { bytes: number }[] = []) => files.reduce((a, f) => a + f.bytes, 0);
  let bytes = sum(m.tokenizer.files);
  for (const c of Object.values(m.components)) {
    bytes += sum(c.files?.q8);
    for (const seg of c.segments ?? []) bytes += sum(seg.files.q8);
  }
  expect(run.error?.message).toContain(
    `Not enough storage for this model pack: it needs ${(bytes / 1e6).toFixed(1)} MB and this browser allows 500 KB more`,
  );
  expect(server.log.map((r) => r.path)).toEqual(['manifest.json']);
  await expectNothingStored(page);
});

test('a pack URL without CORS headers fails with a message saying so, and stores nothing', async ({ harness: page }) => {
  server = await startPackServer({ cors: false });
  const run = await install(page, { base: server.url });
  expect(run.error?.reason).toBe('network');
  expect(run.error?.message).toContain(`${server.url}manifest.json`);
  expect(run.error?.message).toMatch(/CORS headers: Access-Control-Allow-Origin/);
  expect(server.log.map((r) => r.path)).toEqual(['manifest.json']); // the browser asked, then refused the answer
  await expectNothingStored(page);
});

for (const [what, manifest, expected] of [
  ['another schema version', forged((m) => (m.schema = 2)), /uses manifest schema 2; this app reads schema 1\. Update the app/],
  ['a corrupt manifest', MANIFEST.slice(0, 1000), /manifest\.json is not valid JSON/],
  [
    'a forged manifest (path outside the pack)',
    forged((m) => (m.components.controlnet.files.q8[0].path = '../../secret')),
    /components\.controlnet\.files\.q8\[0\]\.path must be a plain relative path/,
  ],
  [
    'a forged manifest (bad hash)',
    forged((m) => (m.tokenizer.files[1].sha256 = 'f'.repeat(63))),
    /tokenizer\.files\[1\]\.sha256 must be 64 lowercase hex digits/,
  ],
] as const) {
  test(`${what} is refused with a clear message before any download`, async ({ harness: page }) => {
    server = await startPackServer({ manifest });
    const run = await install(page, { base: server.url });
    expect(run.error?.name).toBe('ManifestError');
    expect(run.error?.message).toMatch(expected);
    expect(server.log.map((r) => r.path)).toEqual(['manifest.json']);
    await expectNothingStored(page);
  });
}
