import { test, expect } from '@playwright/test';

test('app loads cross-origin isolated; the GPU status comes from the engine worker, the page makes no device', async ({ page }) => {
  // Count adapter requests made by the page itself (the worker has its own navigator.gpu).
  await page.addInitScript(() => {
    const gpu = navigator.gpu;
    const w = window as unknown as { __pageAdapterRequests: number };
    w.__pageAdapterRequests = 0;
    if (!gpu) return;
    const original = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (options?: GPURequestAdapterOptions) => {
      w.__pageAdapterRequests++;
      return original(options);
    };
  });
  await page.goto('/');
  const status = page.getByTestId('gpu-status');
  await expect(status).toHaveAttribute('data-status', 'ready');
  // "WebGPU: <adapter>", not "No WebGPU" or "Checking WebGPU…".
  await expect(status).toHaveText(/^WebGPU: \S/);
  await expect(page.getByTestId('gpu-banner')).toHaveCount(0);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { __pageAdapterRequests: number }).__pageAdapterRequests)).toBe(0);
});
