/**
 * The project document: everything the user makes, as plain serialisable data. Coordinates are
 * canvas pixels (origin top-left, x right, y down) of the chosen canvas (e.g. 512x320), so the
 * reference's drag semantics apply directly. Images are kept as Blobs outside the history.
 */

export interface Point {
  x: number;
  y: number;
}

/** How a trajectory's points are spread over time. */
export type TimingMode =
  /** Reference: PCHIP over t = linspace(0,1,n); each clicked segment takes equal time. */
  | 'reference'
  /** Constant speed along the PCHIP curve (arc-length parameterised). */
  | 'constant-speed'
  /** Constant-speed path with smoothstep ease-in/out in time. */
  | 'ease-in-out';

export interface TrajectoryTiming {
  mode: TimingMode;
  /** First frame at which the point starts moving (0..frames-1); before it, it stays at its start. */
  startFrame: number;
  /** Frame at which it reaches its last point (startFrame..frames-1); after it, it stays there. */
  endFrame: number;
}

export interface Trajectory {
  id: string;
  /** At least one point. One point = an anchor (stationary). */
  points: Point[];
  /** CSS colour used for the curve, arrows and dots. */
  color: string;
  timing: TrajectoryTiming;
  /**
   * How the painted patch under its first point moves, whatever its strokes say (classical
   * engine); absent = as painted (projects before per-trajectory modes). No effect off paint.
   */
  motion?: MotionMode;
}

/**
 * How a painted region moves in the classical engine:
 * - fluid: edge-aware diffusion of its drags (water, smoke, hair, clouds);
 * - rigid: the whole region follows the least-squares similarity transform of its drags;
 * - shape: as-rigid-as-possible deformation (rigid moving least squares) driven by its drags
 *   and anchors, so two drags on one figure bend it instead of stretching a disc.
 */
export type MotionMode = 'fluid' | 'rigid' | 'shape';

export const MOTION_MODES: readonly MotionMode[] = ['fluid', 'rigid', 'shape'];

/** One brush stroke: a polyline with a radius, painting (may move) or erasing. */
export interface BrushStroke {
  mode: 'paint' | 'erase';
  radius: number;
  points: Point[];
  /** How the paint of this stroke moves; absent = 'fluid' (projects before motion modes). Ignored by erase strokes. */
  motion?: MotionMode;
}

export interface CanvasSize {
  width: number;
  height: number;
}

/** Cover-crop of the source image: the rectangle of the ORIGINAL image mapped onto the canvas. */
export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ProjectSettings {
  /** Half-size of the reference's square drag patches, pixels (1..320, default 64). */
  flowUnit: number;
  /** Frames including the reference frame (reference: 16). */
  frames: number;
  fps: number;
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  /** Neural motion strength: the frame-stride condition of frame i is motionStride * i (reference: 8). */
  motionStride: number;
  /** Neural: scale of the trajectory ControlNet's residuals (reference: 1). */
  controlScale: number;
  loop: boolean;
  /**
   * Radius (canvas pixels) of the guided filter that snaps the painted brush mask to image
   * edges, 0..BRUSH_FEATHER_MAX; 0 = the mask exactly as painted.
   */
  brushFeather: number;
}

export interface ImageRef {
  /** Key of the original image Blob in the image store (IndexedDB). */
  id: string;
  name: string;
  /** Natural size of the original (before downscale/crop). */
  width: number;
  height: number;
}

/**
 * Video-to-video: the source video whose motion is tracked (the original file is stored by
 * content hash, like images) and which of its frames the clip follows. The project's `image`
 * is then the restyled first frame; both cover the canvas centred, so they line up when the
 * restyled frame has the video's aspect ratio.
 */
export interface VideoRef {
  /** Key of the original video Blob in the media store (SHA-256 of its bytes). */
  id: string;
  name: string;
  /** Display size of the video track (rotation applied). */
  width: number;
  height: number;
  /** Length, seconds. */
  duration: number;
  /** Frames in the whole track. */
  frameCount: number;
  /** Average frame rate of the file, frames per second. */
  fps: number;
  /** The clip starts at the frame shown at this time, seconds. */
  startTime: number;
  /** Every `stride`-th frame from there (1 = every frame). */
  stride: number;
}

export interface Project {
  version: 1;
  image: ImageRef | null;
  /** Video-to-video source; absent (or null) for image-to-video. */
  video?: VideoRef | null;
  canvas: CanvasSize;
  crop: CropBox | null;
  trajectories: Trajectory[];
  brush: BrushStroke[];
  settings: ProjectSettings;
}

export const CANVAS_PRESETS = {
  landscape: { width: 512, height: 320 },
  portrait: { width: 320, height: 512 },
  square: { width: 320, height: 320 },
} as const satisfies Record<string, CanvasSize>;

export const DEFAULT_SETTINGS: ProjectSettings = {
  flowUnit: 64,
  frames: 16,
  fps: 8,
  prompt: '',
  negativePrompt: '',
  seed: 42,
  steps: 25,
  guidance: 7,
  motionStride: 8,
  controlScale: 1,
  loop: false,
  brushFeather: 0,
};

export function emptyProject(): Project {
  return {
    version: 1,
    image: null,
    canvas: { ...CANVAS_PRESETS.landscape },
    crop: null,
    trajectories: [],
    brush: [],
    settings: { ...DEFAULT_SETTINGS },
  };
}
