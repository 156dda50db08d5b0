/**
 * Plays generated frames in a loop at the project's fps (1..30; 8 like the reference demo), with
 * scrubbing, frame stepping and a comparison with the still image (frame 0): a split view whose
 * divider the user drags, left = still, right = video.
 *
 * The canvas is at the video's own resolution and is only scaled by CSS (as large as its box
 * allows, aspect kept), so what it holds IS frame k (tests read it back and compare it with the
 * exported file). Play/pause state lives in the editor store, so the keyboard shortcut (K or
 * space, anywhere on the page) and the button agree. A seamless loop plays frames 0..N-1 (frame
 * N equals frame 0); stepping still reaches frame N.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useEditorStore } from '../../state/editor';
import { useProjectStore } from '../../state/project';
import { MAX_PLAYER_FPS, PLAYER_FPS_CHOICES } from './fps';

export interface PlayerProps {
  frames: readonly ImageBitmap[];
  width: number;
  height: number;
  /** Changes when a new video replaces the old one: the playhead goes back to frame 0 and plays. */
  serial?: number;
  /** A seamless loop: playback wraps after frame N-1, since frame N equals frame 0. */
  loop?: boolean;
}

/** A 24x24 filled glyph (fonts without media symbols would show boxes). */
function Icon({ d }: { d: string }) {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={d} fill="currentColor" />
    </svg>
  );
}

/** Fullscreen of the player's own box (the canvas grows to the screen). */
export function toggleFullscreen(el: HTMLElement | null): void {
  if (!el) return;
  if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
  else void el.requestFullscreen?.().catch(() => undefined);
}

export function Player({ frames, width, height, serial, loop = false }: PlayerProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [frame, setFrame] = useState(0);
  const playing = useEditorStore((s) => s.playing);
  const setPlaying = useEditorStore((s) => s.setPlaying);
  const [fullscreen, setFullscreen] = useState(false);
  const [compare, setCompare] = useState(false);
  const [split, setSplit] = useState(0.5);
  const fps = useProjectStore((s) => s.project.settings.fps);
  const setSettings = useProjectStore((s) => s.setSettings);
  const count = frames.length;
  const last = Math.max(0, count - 1);
  const cycle = loop && count > 2 ? count - 1 : count;

  const rootRef = useRef<HTMLDivElement>(null);
  // A new video: back to frame 0 and play. Nothing scrolls: the player has its own place.
  useEffect(() => {
    setFrame(0);
    setPlaying(true);
  }, [serial, setPlaying]);

  useEffect(() => {
    const onChange = () => setFullscreen(document.fullscreenElement === rootRef.current);
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  // Loop: advance on a clock, not per animation frame, so the rate is the fps whatever the display does.
  useEffect(() => {
    if (!playing || cycle < 2) return;
    const periodMs = 1000 / Math.min(MAX_PLAYER_FPS, Math.max(1, fps));
    let start = -1;
    let startFrame = -1;
    let raf = 0;
    const tick = (now: number) => {
      // The clock starts at the first callback's own timestamp: an rAF time can be earlier than
      // performance.now() taken here, which would step backwards to frame -1.
      if (start < 0) start = now;
      const advanced = Math.max(0, Math.floor((now - start) / periodMs));
      setFrame((f) => {
        if (startFrame < 0) startFrame = f;
        return (startFrame + advanced) % cycle;
      });
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, fps, cycle]);

  // Draw the current frame (and the still's left part when comparing).
  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || count === 0) return;
    const k = Math.min(Math.max(0, frame), last);
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(frames[k], 0, 0, width, height);
    if (compare) {
      const x = Math.round(split * width);
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, 0, x, height);
      ctx.clip();
      ctx.drawImage(frames[0], 0, 0, width, height);
      ctx.restore();
      if (x > 0 && x < width) {
        ctx.fillStyle = 'rgba(255,255,255,0.9)';
        ctx.fillRect(x - 1, 0, 2, height);
      }
    }
    canvas.dataset.frame = String(k);
  }, [frames, frame, last, count, width, height, compare, split]);

  const step = useCallback(
    (d: number) => {
      setPlaying(false);
      setFrame((f) => (((f + d) % count) + count) % count);
    },
    [count, setPlaying],
  );

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      e.stopPropagation();
      step(e.key === 'ArrowLeft' ? -1 : 1);
    } else if (e.key === ' ' || e.key === 'k') {
      e.preventDefault();
      e.stopPropagation();
      setPlaying((p) => !p);
    } else if (e.key === 'f') {
      e.preventDefault();
      e.stopPropagation();
      toggleFullscreen(rootRef.current);
    }
  };

  // Dragging on the picture while comparing moves the divider.
  const dragSplit = (e: React.PointerEvent<HTMLCanvasElement>) => {
    if (!compare || (e.type === 'pointermove' && e.buttons !== 1)) return;
    const r = e.currentTarget.getBoundingClientRect();
    setSplit(Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)));
  };

  return (
    <div
      ref={rootRef}
      className="player"
      data-testid="player"
      tabIndex={0}
      onKeyDown={onKeyDown}
      aria-label="Video player"
      data-fullscreen={fullscreen || undefined}
    >
      <div className="player-stage">
        <canvas
          ref={canvasRef}
          className="player-canvas"
          data-testid="player-canvas"
          width={width}
          height={height}
          // As large as the nearest size container allows (the result pane less its controls, or the
          // screen in full screen), aspect kept.
          style={{ aspectRatio: `${width} / ${height}`, width: `min(100cqw, (100cqh - var(--player-reserve, 0px)) * ${width / height})` }}
          onPointerDown={dragSplit}
          onPointerMove={dragSplit}
        />
      </div>
      <div className="player-controls">
        <button type="button" data-testid="player-prev" onClick={() => step(-1)} title="Previous frame (←)" aria-label="Previous frame">
          <Icon d="M6 5h2v14H6zM20 5v14L9 12z" />
        </button>
        <button
          type="button"
          data-testid="player-play"
          onClick={() => setPlaying((p) => !p)}
          title={playing ? 'Pause (K or space)' : 'Play (K or space)'}
          aria-keyshortcuts="K Space"
          aria-label={playing ? 'Pause' : 'Play'}
          data-playing={playing}
        >
          {playing ? <Icon d="M7 5h4v14H7zM13 5h4v14h-4z" /> : <Icon d="M7 5v14l12-7z" />}
        </button>
        <button type="button" data-testid="player-next" onClick={() => step(1)} title="Next frame (→)" aria-label="Next frame">
          <Icon d="M16 5h2v14h-2zM4 5v14l11-7z" />
        </button>
        <input
          type="range"
          className="player-scrub"
          data-testid="player-scrub"
          aria-label="Frame"
          min={0}
          max={last}
          step={1}
          value={Math.min(frame, last)}
          onChange={(e) => {
            setPlaying(false);
            setFrame(Number(e.target.value));
          }}
        />
        <output className="player-frame" data-testid="player-frame">
          {Math.min(frame, last) + 1}/{count}
        </output>
        <button
          type="button"
          data-testid="player-fullscreen"
          onClick={() => toggleFullscreen(rootRef.current)}
          title={fullscreen ? 'Leave full screen (F or Esc)' : 'Full screen (F)'}
          aria-label={fullscreen ? 'Leave full screen' : 'Full screen'}
          aria-keyshortcuts="F"
        >
          <Icon
            d={
              fullscreen
                ? 'M9 4v5H4v2h7V4zm6 0v7h7V9h-5V4zM4 13v2h5v5h2v-7zm9 0v7h2v-5h5v-2z'
                : 'M4 4v6h2V6h4V4zm10 0v2h4v4h2V4zM4 14v6h6v-2H6v-4zm14 0v4h-4v2h6v-6z'
            }
          />
        </button>
      </div>
      <div className="player-controls">
        <label>
          Speed{' '}
          <select data-testid="player-fps" value={fps} onChange={(e) => setSettings({ fps: Number(e.target.value) }, { coalesce: 'fps' })}>
            {[...new Set([...PLAYER_FPS_CHOICES, fps])]
              .sort((a, b) => a - b)
              .map((v) => (
                <option key={v} value={v}>
                  {v} fps
                </option>
              ))}
          </select>
        </label>
        <label title="Compare with the still picture: drag on the video to move the divider">
          <input type="checkbox" data-testid="player-compare" checked={compare} onChange={(e) => setCompare(e.target.checked)} /> Compare
          with still
        </label>
        {compare && (
          <input
            type="range"
            className="player-split"
            data-testid="player-split"
            aria-label="Still / video divider"
            min={0}
            max={100}
            value={Math.round(split * 100)}
            onChange={(e) => setSplit(Number(e.target.value) / 100)}
          />
        )}
      </div>
    </div>
  );
}
