/**
 * Where a pack's files come from: a function from a manifest-relative path to its bytes. The
 * bundled tiny pack fetches from the app's origin (`fetchPackSource('/models/tiny/')`); the
 * pack manager's OPFS store plugs in the same way.
 */
import { AppError } from '../errors';
import type { ComponentName, ComponentSpec, Manifest, Precision } from './manifest';
import { ComponentSession, type ExternalData } from './session';

export type PackSource = (path: string) => Promise<Uint8Array>;

/** Files under `baseUrl` on the app's own origin (or a pack URL the user chose). */
export function fetchPackSource(baseUrl: string, fetchImpl: typeof fetch = fetch): PackSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return async (path) => {
    let res: Response;
    try {
      res = await fetchImpl(base + path);
    } catch (e) {
      throw new AppError(
        'model-pack',
        `The model pack file ${path} could not be loaded (network error). Check the connection and try again.`,
        { cause: e },
      );
    }
    if (!res.ok)
      throw new AppError('model-pack', `The model pack file ${path} could not be loaded (HTTP ${res.status}). Reinstall the pack.`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** Reads a pack's manifest.json (parsed, not validated: the pack loader validates). */
export async function readManifestJson(source: PackSource): Promise<unknown> {
  const bytes = await source('manifest.json');
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new AppError('model-pack', 'The model pack manifest (manifest.json) is not valid JSON. Reinstall the pack.', { cause: e });
  }
}

/** Creates the session of one component in one precision, checked against the manifest. */
export async function loadComponent(
  source: PackSource,
  manifest: Manifest,
  name: ComponentName,
  precision: Precision,
  device: GPUDevice,
): Promise<ComponentSession> {
  const spec: ComponentSpec | undefined = manifest.components[name];
  const files = spec?.files[precision];
  if (!spec || !files?.length)
    throw new AppError(
      'model-pack',
      `The model pack has no ${precision} file for "${name}". Choose another variant or reinstall the pack.`,
    );
  const model = await source(files[0].path);
  const external: ExternalData[] = [];
  for (const f of files.slice(1)) external.push({ path: f.path.split('/').pop()!, data: await source(f.path) });
  return ComponentSession.create(name, precision, spec, model, device, external);
}
