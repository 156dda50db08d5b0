/**
 * The words the neural engines put in their progress while the model loads: creating ORT
 * sessions (parsing and optimising each graph, uploading its weights) takes most of a first
 * run's wait, and a bar that says only "Preparing" for a minute looks stuck.
 */
import type { ComponentName } from '../../models/manifest';

const COMPONENT_WORDS: Record<ComponentName | 'stage2_unet', string> = {
  text_encoder: 'text encoder',
  vae_encoder: 'image encoder',
  vae_decoder: 'frame decoder',
  flow_vae_encoder: 'motion encoder',
  flow_vae_decoder: 'motion decoder',
  controlnet: 'trajectory ControlNet',
  stage1_unet: 'motion UNet',
  stage2_unet: 'video UNet',
};

/** "loading the model: motion UNet (6 of 6)"; `k` counts from 0. */
export function loadingDetail(k: number, n: number, component: ComponentName | 'stage2_unet', part?: { k: number; n: number }): string {
  const what = part ? `${COMPONENT_WORDS[component]} part ${part.k + 1} of ${part.n}` : COMPONENT_WORDS[component];
  return `loading the model: ${what} (${k + 1} of ${n})`;
}

/** After loading, before the first denoising step reports. */
export const STARTING_DETAIL = 'encoding the prompt and the photo; the first step also prepares the GPU programs';
