/** The motion layer: project document, trajectories, brush, stage-1 conditions, flow files. */

// Project document: types, defaults, parsing and ids/colours for new trajectories.
export * from './types';
export {
  parseProject,
  PROJECT_VERSION,
  PROJECT_LIMITS,
  MIGRATIONS,
  migrateDocument,
  newTrajectoryId,
  TRAJECTORY_COLORS,
  nextTrajectoryColor,
} from './project';

// Trajectories over time and freehand simplification.
export { createPchip, linspace, type PchipSpline } from './pchip';
export {
  sampleTrajectory,
  simplifyStroke,
  isAnchor,
  defaultTiming,
  activeRange,
  frameProgress,
  trajectorySpline,
  smoothstep,
} from './trajectory';

// Motion brush.
export { rasterizeBrush, movableMask, staticMask, hasPaint } from './brush';

// Stage-1 conditions as the reference builds them.
export {
  buildSparseConditions,
  conditionTrajectory,
  dragSquare,
  type SparseConditions,
  type SparseConditionOptions,
} from './conditions';

// Flow files.
export {
  readFlo,
  writeFlo,
  interleavedToPlanar,
  planarToInterleaved,
  FLO_TAG,
  type FlowField,
} from './flo';
