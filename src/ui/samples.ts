/** The bundled sample pictures (public/samples, drawn by tools/samples/make-samples.mjs). */
export const SAMPLES = [
  { id: 'lake', file: 'lake.png', name: 'Sunset lake' },
  { id: 'balloon', file: 'balloon.png', name: 'Balloon' },
  { id: 'lighthouse', file: 'lighthouse.png', name: 'Lighthouse' },
] as const;
