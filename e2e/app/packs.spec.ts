/**
 * The Model packs panel in the production build, used as a user would: real clicks, a reload,
 * the folder picker, Cancel and Resume, a pack URL whose server sends no CORS headers.
 * Expected sizes and file lists come from the committed tiny pack on disk, read by Node.
 */
import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startPackServer, TINY_DIR } from '../packServer';

/** Bytes of one variant as the manifest defines it: tokenizer + the variant's .onnx files. */
function variantBytes(variant: 'fp32' | 'q8' | 'q4' | 'q4c8'): number {
  const onnx = readdirSync(TINY_DIR).filter(
    (f) => f.endsWith('.onnx') && (variant === 'fp32' ? !/\.q\w+\.onnx$/.test(f) : f.endsWith(`.${variant}.onnx`)),
  );
  const tok = readdirSync(resolve(TINY_DIR, 'tokenizer')).map((f) => `tokenizer/${f}`);
  return [...onnx, ...tok].reduce((s, f) => s + statSync(resolve(TINY_DIR, f)).size, 0);
}
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Files stored for each pack in OPFS (model-packs/<id>/data/<file>), keyed by id without its version tag. */
async function storedFiles(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    type Dir = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };
    const keys = async (d: FileSystemDirectoryHandle) => {
      const n: string[] = [];
      for await (const k of (d as Dir).keys()) n.push(decodeURIComponent(k));
      return n.sort();
    };
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('model-packs', { create: true });
    const out: Record<string, string[]> = {};
    for (const id of await keys(root)) {
      const pack = await root.getDirectoryHandle(id);
      out[id.replace(/-[0-9a-f]{12}$/, '')] = (await keys(pack)).includes('data') ? await keys(await pack.getDirectoryHandle('data')) : [];
    }
    return out;
  });
}

async function openPanel(page: Page) {
  await page.goto('/');
  const panel = page.getByTestId('pack-manager');
  await expect(panel).toBeVisible();
  await expect(panel.getByText('No model pack installed')).toBeVisible();
  return panel;
}

test('install the test pack with a click, see it after a reload, remove it', async ({ page }) => {
  const panel = await openPanel(page);
  await panel.getByRole('button', { name: 'Install the test pack' }).click();
  const row = panel.getByTestId('pack-row');
  await expect(row).toHaveAttribute('data-state', 'installed', { timeout: 60_000 });
  // SwiftShader has no shader-f16: the automatic variant is fp32.
  await expect(row).toContainText('motion-i2v-tiny');
  await expect(row).toContainText(`fp32 · ${mb(variantBytes('fp32'))}`);
  await expect(row).toContainText('random weights');
  await expect(panel.getByTestId('pack-notice')).toHaveText('Installed motion-i2v-tiny (fp32).');
  const files = (await storedFiles(page))['motion-i2v-tiny.fp32'];
  expect(files).toContain('stage1_unet.onnx');
  expect(files.filter((f) => f.startsWith('goldens/'))).toEqual([]); // test data stays out of the app's install
  expect(files.filter((f) => /\.q\w+\.onnx$/.test(f))).toEqual([]);

  await page.reload();
  await expect(page.getByTestId('pack-row')).toHaveAttribute('data-state', 'installed');
  await expect(page.getByTestId('pack-row')).toContainText('fp32');
  await page.screenshot({ path: test.info().outputPath('packs-installed.png') });

  await page.getByRole('button', { name: 'Remove motion-i2v-tiny (fp32)' }).click();
  await expect(page.getByTestId('pack-row')).toHaveCount(0);
  await expect(page.getByTestId('pack-manager').getByText('No model pack installed')).toBeVisible();
  expect(await storedFiles(page)).toEqual({});
});

test.describe('without the service worker (so routes see every request)', () => {
  test.use({ serviceWorkers: 'block' });

  test('Cancel stops an install without an error; Resume finishes it', async ({ page }) => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/models/tiny/stage1_unet.onnx', async (route) => {
      await held; // the file hangs until the test lets it go
      await route.continue().catch(() => undefined); // cancelled by then: nothing to answer
    });
    const panel = await openPanel(page);
    await panel.getByRole('button', { name: 'Install the test pack' }).click();
    await expect(panel.getByTestId('pack-progress-text')).toContainText(`of ${mb(variantBytes('fp32'))}`);
    await expect(panel.getByTestId('pack-progress')).toContainText('stage1_unet.onnx');
    await panel.getByTestId('pack-cancel').click();
    await expect(panel.getByTestId('pack-notice')).toContainText('Install cancelled');
    await expect(panel.getByTestId('pack-error')).toHaveCount(0);
    const row = panel.getByTestId('pack-row');
    await expect(row).toHaveAttribute('data-state', 'installing');
    await expect(row).toContainText('incomplete');
    release();
    await page.unroute('**/models/tiny/stage1_unet.onnx');
    await row.getByRole('button', { name: 'Resume' }).click();
    await expect(row).toHaveAttribute('data-state', 'installed', { timeout: 60_000 });
  });

  test('the exporter folder picked from disk installs the chosen variant', async ({ page }) => {
    const panel = await openPanel(page);
    // q4c8: the small precision the exporter writes by default (int8 convolutions, 4-bit Linear layers)
    await panel.getByTestId('pack-variant').selectOption('q4c8');
    await panel.getByTestId('pack-folder-input').setInputFiles(TINY_DIR);
    const row = panel.getByTestId('pack-row');
    await expect(row).toHaveAttribute('data-state', 'installed', { timeout: 60_000 });
    await expect(row).toContainText(`q4c8 · ${mb(variantBytes('q4c8'))}`);
    const files = (await storedFiles(page))['motion-i2v-tiny.q4c8'];
    expect(files).toContain('stage1_unet.q4c8.onnx');
    expect(files).toContain('tokenizer/vocab.json');
  });

  test('pack files picked with the multiple-file picker install (matched by name)', async ({ page }) => {
    const panel = await openPanel(page);
    await panel.getByTestId('pack-variant').selectOption('q4');
    const files = [
      'manifest.json',
      'tokenizer/vocab.json',
      'tokenizer/merges.txt',
      ...readdirSync(TINY_DIR).filter((f) => f.endsWith('.q4.onnx')),
    ];
    await panel.getByTestId('pack-files-input').setInputFiles(files.map((f) => resolve(TINY_DIR, f)));
    const row = panel.getByTestId('pack-row');
    await expect(row).toHaveAttribute('data-state', 'installed', { timeout: 60_000 });
    await expect(row).toContainText(`q4 · ${mb(variantBytes('q4'))}`);
  });

  test('loose pack files dropped on the panel install; the page does not take them for an image', async ({ page }) => {
    const panel = await openPanel(page);
    await panel.getByTestId('pack-variant').selectOption('q8');
    // Build the drop in the page from the pack's own files (names only, no folders: matched by name).
    await page.evaluate(async () => {
      const manifest = await (await fetch('/models/tiny/manifest.json')).json();
      const paths: string[] = ['manifest.json', ...manifest.tokenizer.files.map((f: { path: string }) => f.path)];
      for (const c of Object.values(manifest.components) as any[]) {
        for (const f of c.files?.q8 ?? []) paths.push(f.path);
        for (const seg of c.segments ?? []) for (const f of seg.files.q8) paths.push(f.path);
      }
      const dt = new DataTransfer();
      for (const p of paths) dt.items.add(new File([await (await fetch(`/models/tiny/${p}`)).blob()], p.split('/').pop()!));
      const zone = document.querySelector('[data-testid="pack-drop"]')!;
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const row = panel.getByTestId('pack-row');
    await expect(row).toHaveAttribute('data-state', 'installed', { timeout: 60_000 });
    await expect(row).toContainText(`q8 · ${mb(variantBytes('q8'))}`);
    await expect(page.getByTestId('empty-state')).toBeVisible();
    await expect(page.locator('.banner.error')).toHaveCount(0);
  });

  test('a pack URL whose server sends no CORS headers: a clear message, nothing stored', async ({ page }) => {
    const server = await startPackServer({ cors: false });
    try {
      const panel = await openPanel(page);
      await panel.getByTestId('pack-url').fill(server.url);
      await panel.getByTestId('pack-url-install').click();
      await expect(panel.getByTestId('pack-error')).toContainText('does not let this app read its files');
      await expect(panel.getByTestId('pack-error')).toContainText('Access-Control-Allow-Origin');
      await expect(panel.getByTestId('pack-row')).toHaveCount(0);
      expect(await storedFiles(page)).toEqual({});
      // The editor is untouched: still the empty state, no project error.
      await expect(page.getByTestId('app')).toBeVisible();
    } finally {
      await server.close();
    }
  });
});
