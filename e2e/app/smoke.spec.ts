import { test, expect } from '@playwright/test';

test('app loads cross-origin isolated with WebGPU', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toContainText('WebGPU');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
});
