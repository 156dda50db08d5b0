/**
 * Opt-in: the browser's own checks on a pack written by tools/export (a full-size export is not
 * committed). MI2V_PACK=<pack dir> npx vitest run src/models/exportedPack.test.ts
 * parses its manifest.json with parseManifest (schema, fields, the stage-2 plan against its
 * segments), checks that every listed file has the listed size, and reads every ONNX file's
 * header (every component, every segment, every precision) against the manifest's inputs and
 * outputs, as the page does before creating sessions. Skipped when MI2V_PACK is not set.
 */
import { existsSync, openAsBlob, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allFileEntries, parseManifest } from './manifest';
import { checkPackFiles } from './packCheck';

const dir = process.env.MI2V_PACK;

describe.skipIf(!dir)('an exported pack (MI2V_PACK)', () => {
  const root = dir ?? '';

  it('has a manifest the page accepts, every listed file at its size, and ONNX headers that match it', async () => {
    expect(existsSync(join(root, 'manifest.json'))).toBe(true);
    const manifest = parseManifest(readFileSync(join(root, 'manifest.json'), 'utf8'));
    for (const { entry } of allFileEntries(manifest)) {
      expect(statSync(join(root, entry.path)).size, entry.path).toBe(entry.bytes);
    }
    for (const precision of manifest.precisions) {
      // openAsBlob reads lazily: the header reader touches only the graph's fields, not the weights
      await checkPackFiles(manifest, precision, (path) => openAsBlob(join(root, path)));
    }
  }, 120_000);
});
