/**
 * The bounds of the neural parity checks against the PyTorch goldens (the browser specs through
 * parityBounds.ts, the GPU kit's I2V benchmark directly: this module has no Playwright import).
 * Max |got - golden| relative to the golden's largest magnitude, fp32.
 */
export const BOUND = 1e-3;
// The flow-VAE decoder multiplies the latents' fp32 rounding by about ten on these random weights
// (flows decoded from the golden latents: rel 3e-6; the latents after the whole stage 1: 8e-5;
// the flows decoded from them: 7e-4 to 1.3e-3): the diffusion output is held to BOUND, the pixel
// flows to FLOW_BOUND. A lost step (negative controls) misses by far more than either.
export const FLOW_BOUND = 3e-3;
