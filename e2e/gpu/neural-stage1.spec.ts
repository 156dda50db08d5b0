/**
 * Stage 1 of Motion-I2V in real Chromium (WebGPU, ORT-web native EP) against the tiny pack's
 * PyTorch goldens (float64 reference, tools/export): tokenizer + text encoder, VAE encode,
 * flow-VAE encode (ControlNet condition) and decode (pixel flows), one UNet step with ControlNet
 * residuals kept on the GPU plus the CFG/DDIM kernel, and the whole stage 1 with fixed noise from
 * the golden: with ControlNet, without, and with the brush; with ControlNet also with the two CFG
 * halves run one after the other at batch 1 (sequential guidance), against the same batch-2 golden. Bound: max |got - golden| below 1e-3
 * of the golden's largest magnitude (fp32).
 *
 * Negative controls, run on the same page: stage 1 with the frame-stride condition dropped, and
 * with classifier-free guidance skipped, must both MISS the golden by more than the bound, so a
 * pipeline that lost either step cannot pass.
 *
 * All checks share one page and one device (serial): SwiftShader compiles each of ORT's WGSL
 * kernels once per device, which is most of the time here.
 */
import { test, expect, type Page } from '@playwright/test';
import { routeMedia } from '../fixtures';
import { BOUND, expectWithin } from '../neural/parityBounds';
import type { Check } from '../neural/stage1Harness';

const HARNESS = '/e2e/neural/stage1Harness.ts';

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  test.setTimeout(900_000);
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[page error] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`[page exception] ${e.message}`));
  await routeMedia(page);
  // a Vite full reload (someone editing a file the page imported) must not cut minutes of work short
  await page.routeWebSocket(/.*/, () => {});
  await page.goto('/e2e/blank.html');
  const hasGpu = await page.evaluate(async () => !!(await navigator.gpu?.requestAdapter()));
  expect(hasGpu, 'WebGPU adapter must be available (chromium --enable-unsafe-webgpu)').toBe(true);
  const log = await page.evaluate(async (h) => (await import(/* @vite-ignore */ h)).setup('fp32'), HARNESS);
  console.log(log.join('\n'));
});

test.afterAll(async () => {
  await page?.close();
});

async function run(fn: string, arg?: unknown): Promise<Check[]> {
  return page.evaluate(async ([h, f, a]) => (await import(/* @vite-ignore */ h as string))[f as string](a), [HARNESS, fn, arg] as const);
}

test('tokenizer ids and text encoder match the goldens', async () => {
  test.setTimeout(300_000);
  const checks = await run('textEncoder');
  expect(checks[0].maxAbs, 'token ids').toBe(0);
  expectWithin(checks);
});

test('SD VAE encode (GPU-buffer inputs) and the RGBA unpack kernel', async () => {
  test.setTimeout(300_000);
  expectWithin(await run('vaeEncode'));
});

test('flow-VAE encode gives the ControlNet condition, flow-VAE decode gives the pixel flows', async () => {
  test.setTimeout(300_000);
  expectWithin(await run('flowVae'));
});

test('one UNet step with ControlNet residuals on the GPU, then the CFG + DDIM kernel', async () => {
  test.setTimeout(600_000);
  expectWithin(await run('unetStep'));
});

test('whole stage 1 with the trajectory ControlNet matches pipeline_stage1_controlnet.bin', async () => {
  test.setTimeout(600_000);
  expectWithin(await run('wholeStage1', { controlnet: true }));
});

test('whole stage 1 without ControlNet matches pipeline_stage1.bin', async () => {
  test.setTimeout(600_000);
  expectWithin(await run('wholeStage1', { controlnet: false }));
});

test('whole stage 1 with the brush (static areas zeroed) matches the end-to-end golden', async () => {
  test.setTimeout(600_000);
  expectWithin(await run('wholeStage1', { controlnet: true, brush: true }));
});

test('sequential guidance (batch 1 twice, ControlNet) matches the batch-2 golden pipeline_stage1_controlnet.bin', async () => {
  test.setTimeout(600_000);
  expectWithin(await run('wholeStage1', { controlnet: true, guidanceBatching: 'sequential' }));
});

test('negative controls: without the stride condition or without CFG the golden is missed', async () => {
  test.setTimeout(600_000);
  for (const broken of [{ dropStride: true }, { skipGuidance: true }]) {
    const checks = await run('wholeStage1', { controlnet: true, ...broken });
    const flows = checks.find((c) => c.name === 'flows')!;
    console.log(`  ${JSON.stringify(broken)}: flows rel ${flows.rel.toExponential(2)}`);
    expect(flows.rel, JSON.stringify(broken)).toBeGreaterThan(BOUND * 10);
  }
});

test('cancel between steps rejects with AbortError', async () => {
  test.setTimeout(300_000);
  expect(await page.evaluate(async (h) => (await import(/* @vite-ignore */ h)).cancelAfterFirstStep(), HARNESS)).toBe('aborted');
});

test('NeuralMotionEngine: resized canvas, brush, seeds, progress, cancel, refusals', async () => {
  test.setTimeout(900_000);
  const r = await page.evaluate(async (h) => (await import(/* @vite-ignore */ h)).engineChecks(), HARNESS);
  console.log(
    JSON.stringify({ ...r, progress: r.progress.map((p: { stage: string; fraction: number }) => `${p.stage} ${p.fraction.toFixed(3)}`) }),
  );
  expect(r.framesRefusal).toMatch(/makes 4-frame videos .* Set Frames to 4/);
  expect(r.renderRefusal).toMatch(/Neural rendering comes with stage 2/);
  expect(r.shape).toEqual([3, 2, 96, 128]);
  expect(r.count).toBe(3);
  expect(r.nonFinite).toBe(0);
  expect(r.staticMax, 'static (unpainted) pixels must not move').toBe(0);
  expect(r.movingMax).toBeGreaterThan(0);
  expect(r.otherSeedMaxDiff, 'another seed, other flows').toBeGreaterThan(0.1);
  // Stage-local progress: stages in job order, each fraction monotone within its stage.
  const order = ['prepare', 'motion'];
  const keys = r.progress.map((p: { stage: string; fraction: number }) => order.indexOf(p.stage) + p.fraction / 2);
  expect(keys).toEqual([...keys].sort((a, b) => a - b));
  expect(r.progress.filter((p: { stage: string }) => p.stage === 'motion').length).toBeGreaterThanOrEqual(2); // step 1 of 1, then done
  expect(r.progress[r.progress.length - 1]).toEqual({ stage: 'motion', fraction: 1 }); // motion reports its own stage, done
  expect(r.cancel).toBe('aborted');
});
