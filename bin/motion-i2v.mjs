#!/usr/bin/env node
/**
 * motion-i2v: the app's own bundle and WebGPU code, run in headless Chromium without a window.
 *
 *   motion-i2v render PROJECT.json -o out.mp4 [options]
 *   motion-i2v batch DIR [--out-dir DIR] [--json] [options]
 *   motion-i2v flow A.png B.png -o A_B.flo [--visualise out.png]
 *   motion-i2v v2v SOURCE.mp4 --first STYLED.png -o out.mp4
 *
 * Exit codes: 0 done; 1 the run failed (GPU, encoder, browser); 2 bad input (usage, unknown
 * option, missing or unreadable file, not an image, malformed project); 3 not available in this
 * version yet (the neural engine, the video-to-video tracker); 130 interrupted.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBundle, BUNDLE_DIR } from '../scripts/cli/bundle.mjs';
import { openCliPage } from '../scripts/cli/browser.mjs';
import { startServer } from '../scripts/cli/server.mjs';

export const EXIT = { ok: 0, failed: 1, badInput: 2, notAvailable: 3, interrupted: 130 };

/** Error codes of the page (src/errors.ts ErrorCode, src/cli/api.ts) that mean the input is at fault. */
const BAD_INPUT_CODES = new Set(['usage', 'project-file', 'project-version', 'image-decode', 'image-too-large', 'image-empty', 'nothing-to-animate', 'flow-file', 'video-decode', 'model-pack']);
const NOT_AVAILABLE_CODES = new Set(['not-available', 'engine-unavailable']);

export function exitCodeFor(code) {
  if (BAD_INPUT_CODES.has(code)) return EXIT.badInput;
  if (NOT_AVAILABLE_CODES.has(code)) return EXIT.notAvailable;
  return EXIT.failed;
}

const USAGE = `Usage:
  motion-i2v render PROJECT.json -o OUT [--format mp4|webm|gif|png|png-zip] [--engine classical|neural]
                    [--pack DIR|URL] [--seed N] [--steps N] [--fps N] [--frames N] [--quality Q]
  motion-i2v batch DIR [--out-dir DIR] [--format F] [--json] [same options as render]
  motion-i2v flow A.png B.png -o A_B.flo [--visualise OUT.png]
  motion-i2v v2v SOURCE.mp4 --first STYLED.png -o OUT.mp4 [--format F] [--frames N] [--fps N]

  --format png writes one PNG per frame into the folder OUT; otherwise the format follows OUT's
  extension (.mp4 .webm .gif .zip). --quality: low|medium|high|very-high or bits per second.
  Common: --json (results on stdout), --quiet (no progress), --verbose (page console), --port N.
Exit codes: 0 done, 1 the run failed, 2 bad input, 3 not available in this version yet.`;

class UsageError extends Error {
  code = 'usage';
}

const COMMON = {
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};
const RENDER = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string' },
  engine: { type: 'string', default: 'classical' },
  pack: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  fps: { type: 'string' },
  frames: { type: 'string' },
  quality: { type: 'string' },
};
const OPTIONS = {
  render: { ...COMMON, ...RENDER },
  batch: { ...COMMON, ...RENDER, 'out-dir': { type: 'string' } },
  flow: { ...COMMON, output: { type: 'string', short: 'o' }, visualise: { type: 'string' }, visualize: { type: 'string' } },
  v2v: { ...COMMON, output: { type: 'string', short: 'o' }, first: { type: 'string' }, format: { type: 'string' }, frames: { type: 'string' }, fps: { type: 'string' } },
};
const POSITIONALS = { render: [1, 1], batch: [1, 1], flow: [2, 2], v2v: [1, 1] };

function integer(name, value, min, max) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}").`);
  return n;
}
function number(name, value, min, max) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max} (got "${value}").`);
  return n;
}

const EXTENSIONS = { '.mp4': 'mp4', '.webm': 'webm', '.gif': 'gif', '.zip': 'png-zip' };
const FORMATS = ['mp4', 'webm', 'gif', 'png', 'png-zip'];

/** The output format: --format, else OUT's extension; they must agree. */
function outputFormat(format, output) {
  if (format !== undefined && !FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${format}").`);
  const byExt = output ? EXTENSIONS[extname(output).toLowerCase()] : undefined;
  if (format === 'png') return 'png';
  if (format && byExt && format !== byExt) throw new UsageError(`--format ${format} does not match the output file "${output}".`);
  const f = format ?? byExt;
  if (!f) throw new UsageError(`Cannot tell the format from "${output}": use .mp4, .webm, .gif or .zip, or pass --format.`);
  return f;
}

function inputFile(path, what) {
  if (!path) throw new UsageError(`Missing ${what}.`);
  if (!existsSync(path)) throw new UsageError(`${what} "${path}" does not exist.`);
  if (!statSync(path).isFile()) throw new UsageError(`${what} "${path}" is not a file.`);
  return resolve(path);
}

function renderRequest(values) {
  const engine = values.engine;
  if (engine !== 'classical' && engine !== 'neural') throw new UsageError(`--engine must be classical or neural (got "${engine}").`);
  if (values.pack && engine !== 'neural') throw new UsageError('--pack is only used with --engine neural.');
  let quality;
  if (values.quality !== undefined) {
    quality = ['low', 'medium', 'high', 'very-high'].includes(values.quality) ? values.quality : number('quality', values.quality, 10_000, 1e9);
  }
  return {
    engine,
    quality,
    overrides: {
      fps: number('fps', values.fps, 1, 120),
      frames: integer('frames', values.frames, 2, 64),
      seed: integer('seed', values.seed, 0, 2 ** 32 - 1),
      steps: integer('steps', values.steps, 1, 1000),
    },
  };
}

/** --pack DIR is served by the CLI's server; --pack URL is passed on as it is. */
function packSource(pack) {
  if (!pack) return { dir: null, url: null };
  if (/^https?:\/\//i.test(pack)) return { dir: null, url: pack.endsWith('/') ? pack : `${pack}/` };
  if (!existsSync(join(pack, 'manifest.json'))) throw new UsageError(`--pack "${pack}" is not a model pack folder (it has no manifest.json).`);
  return { dir: resolve(pack), url: null };
}

function writeOutputs(files, output, format) {
  if (format === 'png') {
    mkdirSync(output, { recursive: true });
    return files.map((f) => {
      const p = join(output, f.fileName);
      writeFileSync(p, Buffer.from(f.base64, 'base64'));
      return p;
    });
  }
  mkdirSync(dirname(resolve(output)), { recursive: true });
  writeFileSync(output, Buffer.from(files[0].base64, 'base64'));
  return [output];
}

/** Progress on stderr: one rewritten line on a terminal, a line per stage otherwise. */
function progressPrinter(enabled, label) {
  let lastStage = null;
  let lastPct = -1;
  return {
    update(stage, fraction) {
      if (!enabled) return;
      const pct = Math.round(fraction * 100);
      if (process.stderr.isTTY) {
        if (pct === lastPct && stage === lastStage) return;
        process.stderr.write(`\r${label} ${stage.padEnd(10)} ${String(pct).padStart(3)}%   `);
      } else if (stage !== lastStage) {
        process.stderr.write(`${label} ${stage} ${pct}%\n`);
      }
      lastStage = stage;
      lastPct = pct;
    },
    end() {
      if (enabled && process.stderr.isTTY && lastStage !== null) process.stderr.write('\n');
      lastStage = null;
      lastPct = -1;
    },
  };
}

/** Starts the server and the page, runs `work`, and always closes both. */
async function withPage(values, packDir, work) {
  ensureBundle((m) => values.quiet || process.stderr.write(`${m}\n`));
  const port = integer('port', values.port, 0, 65535) ?? Number(process.env.MOTION_I2V_CLI_PORT ?? 0);
  const server = await startServer({ bundleDir: BUNDLE_DIR, port, packDir });
  let onProgress = () => {};
  let page = null;
  try {
    page = await openCliPage({ origin: server.origin, verbose: values.verbose, onProgress: (s, f) => onProgress(s, f) });
    return await work({ page, server, setProgress: (fn) => (onProgress = fn) });
  } finally {
    await page?.close();
    await server.close();
  }
}

class PageError extends Error {
  constructor(result) {
    super(result.message);
    this.code = result.code;
  }
}

async function renderOne(ctx, values, projectPath, output, format, request, packUrl) {
  const progress = progressPrinter(!values.quiet, basename(projectPath));
  ctx.setProgress(progress.update);
  const result = await ctx.page.call('render', {
    project: { url: ctx.server.register(projectPath), name: basename(projectPath) },
    format,
    engine: request.engine,
    packUrl: packUrl ?? undefined,
    overrides: request.overrides,
    quality: request.quality,
  });
  progress.end();
  if (!result.ok) throw new PageError(result);
  const v = result.value;
  const written = writeOutputs(v.files, output, format);
  return { input: projectPath, outputs: written, width: v.width, height: v.height, frames: v.frames, fps: v.fps, codec: v.codec ?? null, repairs: v.repairs, engines: v.engines, ms: Math.round(v.ms) };
}

async function render(values, positionals) {
  const project = inputFile(positionals[0], 'The project file');
  if (!values.output) throw new UsageError('Missing -o OUT (the file, or with --format png the folder, to write).');
  const format = outputFormat(values.format, values.output);
  const request = renderRequest(values);
  const pack = packSource(values.pack);
  return withPage(values, pack.dir, async (ctx) => {
    const r = await renderOne(ctx, values, project, values.output, format, request, pack.url ?? ctx.server.packUrl);
    report(values, r, () => `${r.outputs.join(', ')}: ${r.frames} frames ${r.width}x${r.height} at ${r.fps} fps${r.codec ? ` (${r.codec})` : ''}${r.repairs.length ? `; repaired: ${r.repairs.join('; ')}` : ''}`);
    return EXIT.ok;
  });
}

async function batch(values, positionals) {
  const dir = positionals[0];
  if (!dir || !existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`The folder "${dir}" does not exist.`);
  const files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.json')).sort().map((f) => resolve(dir, f));
  if (files.length === 0) throw new UsageError(`The folder "${dir}" holds no project files (*.json).`);
  const format = outputFormat(values.format ?? 'mp4', undefined);
  const outDir = resolve(values['out-dir'] ?? dir);
  const request = renderRequest(values);
  const pack = packSource(values.pack);
  const ext = { mp4: '.mp4', webm: '.webm', gif: '.gif', 'png-zip': '.zip', png: '' }[format];
  return withPage(values, pack.dir, async (ctx) => {
    const results = [];
    for (const [i, file] of files.entries()) {
      const stem = basename(file).replace(/(\.motion-i2v)?\.json$/i, '');
      const output = join(outDir, `${stem}${ext}`);
      if (!values.quiet && !values.json) process.stderr.write(`[${i + 1}/${files.length}] ${basename(file)}\n`);
      try {
        const r = await renderOne(ctx, values, file, output, format, request, pack.url ?? ctx.server.packUrl);
        results.push({ ok: true, exitCode: EXIT.ok, ...r });
        if (!values.json) process.stdout.write(`ok     ${basename(file)} -> ${r.outputs.join(', ')} (${r.frames} frames, ${(r.ms / 1000).toFixed(1)} s)\n`);
      } catch (e) {
        if (!(e instanceof PageError)) throw e;
        const exitCode = exitCodeFor(e.code);
        results.push({ ok: false, exitCode, input: file, code: e.code, message: e.message });
        if (!values.json) process.stdout.write(`failed ${basename(file)}: ${e.message}\n`);
      }
    }
    const codes = results.map((r) => r.exitCode);
    const exitCode = codes.includes(EXIT.failed) ? EXIT.failed : codes.find((c) => c !== EXIT.ok) ?? EXIT.ok;
    const summary = { ok: exitCode === EXIT.ok, exitCode, done: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length, results };
    if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(`${summary.done} of ${results.length} rendered\n`);
    return exitCode;
  });
}

async function flow(values, positionals) {
  const a = inputFile(positionals[0], 'The first image');
  const b = inputFile(positionals[1], 'The second image');
  if (!values.output) throw new UsageError('Missing -o OUT.flo.');
  if (extname(values.output).toLowerCase() !== '.flo') throw new UsageError(`The output "${values.output}" must end in .flo (Middlebury flow).`);
  const visualise = values.visualise ?? values.visualize;
  if (visualise !== undefined && extname(visualise).toLowerCase() !== '.png') throw new UsageError(`--visualise "${visualise}" must end in .png.`);
  return withPage(values, null, async (ctx) => {
    const progress = progressPrinter(!values.quiet, basename(a));
    ctx.setProgress(progress.update);
    const result = await ctx.page.call('flow', {
      a: { url: ctx.server.register(a), name: basename(a) },
      b: { url: ctx.server.register(b), name: basename(b) },
      visualise: visualise !== undefined,
    });
    progress.end();
    if (!result.ok) throw new PageError(result);
    const v = result.value;
    writeOutputs([{ base64: v.flo }], values.output, 'flo');
    const outputs = [values.output];
    if (visualise) outputs.push(...writeOutputs([{ base64: v.visualisation }], visualise, 'png-file'));
    report(values, { outputs, width: v.width, height: v.height, ms: Math.round(v.ms) }, () => `${outputs.join(', ')}: flow ${v.width}x${v.height}`);
    return EXIT.ok;
  });
}

async function v2v(values, positionals) {
  const source = inputFile(positionals[0], 'The source video');
  const first = inputFile(values.first, 'The styled first frame (--first)');
  if (!values.output) throw new UsageError('Missing -o OUT.');
  const format = outputFormat(values.format, values.output);
  const maxFrames = integer('frames', values.frames, 2, 64);
  const fps = number('fps', values.fps, 1, 120);
  return withPage(values, null, async (ctx) => {
    const progress = progressPrinter(!values.quiet, basename(source));
    ctx.setProgress(progress.update);
    const result = await ctx.page.call('v2v', {
      source: { url: ctx.server.register(source), name: basename(source) },
      first: { url: ctx.server.register(first), name: basename(first) },
      format,
      maxFrames,
      fps,
    });
    progress.end();
    if (!result.ok) throw new PageError(result);
    const v = result.value;
    const outputs = writeOutputs(v.files, values.output, format);
    report(values, { outputs, width: v.width, height: v.height, frames: v.frames, fps: v.fps, ms: Math.round(v.ms) }, () => `${outputs.join(', ')}: ${v.frames} frames ${v.width}x${v.height}`);
    return EXIT.ok;
  });
}

function report(values, result, words) {
  if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, exitCode: EXIT.ok, ...result }, null, 2)}\n`);
  else process.stdout.write(`${words()}\n`);
}

const COMMANDS = { render, batch, flow, v2v };

export async function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? EXIT.ok : EXIT.badInput;
  }
  let json = rest.includes('--json');
  try {
    if (!COMMANDS[command]) throw new UsageError(`Unknown command "${command}".`);
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: OPTIONS[command], allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError(e.message);
    }
    const { values, positionals } = parsed;
    json = values.json;
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    const [min, max] = POSITIONALS[command];
    if (positionals.length < min || positionals.length > max) throw new UsageError(`${command} takes ${min === max ? min : `${min}-${max}`} file argument${max === 1 ? '' : 's'} (got ${positionals.length}).`);
    return await COMMANDS[command](values, positionals);
  } catch (e) {
    const code = e instanceof UsageError ? 'usage' : e instanceof PageError ? e.code : 'internal';
    const exitCode = exitCodeFor(code);
    const message = e instanceof Error ? e.message : String(e);
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, exitCode, code, message }, null, 2)}\n`);
    process.stderr.write(`motion-i2v: ${message}\n`);
    if (code === 'usage') process.stderr.write('Run `motion-i2v --help` for the options.\n');
    return exitCode;
  }
}

process.on('SIGINT', () => process.exit(EXIT.interrupted));
process.exitCode = await main(process.argv.slice(2));
