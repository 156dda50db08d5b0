import { useEffect, useState } from 'react';
import { acquireGpu, type GpuContext } from '../gpu/device';

/** Placeholder shell; the editor replaces it. */
export function App() {
  const [gpu, setGpu] = useState<GpuContext | null>(null);
  const [gpuError, setGpuError] = useState<string | null>(null);
  useEffect(() => {
    acquireGpu().then(setGpu, (e: Error) => setGpuError(e.message));
  }, []);
  return (
    <main>
      <h1>Motion-I2V Web</h1>
      <p data-testid="gpu-status">
        {gpu ? `WebGPU: ${gpu.description}` : gpuError ? gpuError : 'Checking WebGPU…'}
      </p>
    </main>
  );
}
