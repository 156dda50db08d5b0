/**
 * The command line's page API: what bin/motion-i2v.mjs calls with page.evaluate in headless
 * Chromium. Only plain data crosses: inputs are fetched by the page from the CLI's own server
 * (`/in/<id>`), outputs come back as base64 bytes. Every call resolves (never rejects) with a
 * CliResult whose `code` the CLI maps to its exit status.
 */
import type { ErrorCode } from '../errors';

/** Version of this API; the Node side refuses a bundle that speaks another one. */
export const CLI_API_VERSION = 1;

/** `not-available`: the feature is not in this build yet (exit 3); `usage`: the request itself is wrong (exit 2). */
export type CliErrorCode = ErrorCode | 'not-available' | 'usage';

export type CliResult<T> = { ok: true; value: T } | { ok: false; code: CliErrorCode; message: string };

/** A file the page fetches from the CLI's server. */
export interface CliInput {
  /** URL path on the CLI's server, e.g. "/in/0". */
  url: string;
  /** What the user called it (messages name it). */
  name: string;
}

export interface CliOutputFile {
  fileName: string;
  base64: string;
}

export type CliFormat = 'mp4' | 'webm' | 'gif' | 'png' | 'png-zip';

export interface RenderRequest {
  project: CliInput;
  format: CliFormat;
  engine: 'classical' | 'neural';
  /** Model pack base URL (the folder holding manifest.json) for the neural engine. */
  packUrl?: string;
  /** Settings that replace the file's before the validator runs again. */
  overrides: { fps?: number; frames?: number; seed?: number; steps?: number };
  /** Bits per second, or a quality level of src/video/encode.ts. */
  quality?: number | 'low' | 'medium' | 'high' | 'very-high';
}

export interface RenderValue {
  files: CliOutputFile[];
  width: number;
  height: number;
  frames: number;
  fps: number;
  codec?: string;
  /** What the validator repaired in the file, in words. */
  repairs: string[];
  engines: { motion: string; render: string };
  ms: number;
}

export interface FlowRequest {
  a: CliInput;
  b: CliInput;
  /** Also draw the flow as the Middlebury colour wheel (PNG). */
  visualise: boolean;
}

export interface FlowValue {
  width: number;
  height: number;
  /** The Middlebury .flo bytes. */
  flo: string;
  visualisation?: string;
  ms: number;
}

export interface V2vRequest {
  source: CliInput;
  first: CliInput;
  format: CliFormat;
  maxFrames?: number;
  fps?: number;
}

export interface V2vValue {
  files: CliOutputFile[];
  width: number;
  height: number;
  frames: number;
  fps: number;
  ms: number;
}

export interface Capabilities {
  apiVersion: number;
  motion: string[];
  render: string[];
  /** The video-to-video tracker (src/motion/track) is in this build. */
  tracker: boolean;
  gpu: string | null;
}

export interface CliApi {
  capabilities(): Promise<Capabilities>;
  render(request: RenderRequest): Promise<CliResult<RenderValue>>;
  flow(request: FlowRequest): Promise<CliResult<FlowValue>>;
  v2v(request: V2vRequest): Promise<CliResult<V2vValue>>;
}

declare global {
  interface Window {
    /** Set by src/cli/entry.ts, only in the CLI's own bundle (cli.html). */
    motionI2VCli?: CliApi;
    /** Exposed by the Node side (page.exposeFunction): progress of the running call. */
    motionI2VCliProgress?: (stage: string, fraction: number) => void;
  }
}
