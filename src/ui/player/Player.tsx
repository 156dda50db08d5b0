/**
 * Plays generated frames in a loop at the project's fps (1..30; 8 like the reference demo), with
 * scrubbing, frame stepping and a comparison with the still image (frame 0): a split view whose
 * divider the user drags, left = still, right = video.
 *
 * The canvas is at the video's own resolution and is only scaled by CSS, so what it holds IS
 * frame k (tests read it back and compare it with the exported file).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useProjectStore } from '../../state/project';
import { MAX_PLAYER_FPS, PLAYER_FPS_CHOICES } from './fps';

export interface PlayerProps {
  frames: readonly ImageBitmap[];
  width: number;
  height: number;
  /** Changes when a new video replaces the old one: the playhead goes back to frame 0 and plays. */
  serial?: number;
}

/** A 24x24 filled glyph (fonts without media symbols would show boxes). */
function Icon({ d }: { d: string }) {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={d} fill="currentColor" />
    </svg>
  );
}

/** Scrolls the nearest scrolling ancestor (the side panel) so `el` is visible, without scrolling the page when a panel can do it. */
function scrollIntoPanel(el: HTMLElement | null): void {
  for (let p = el?.parentElement; el && p && p !== document.body; p = p.parentElement) {
    const overflow = getComputedStyle(p).overflowY;
    if ((overflow === 'auto' || overflow === 'scroll') && p.scrollHeight > p.clientHeight) {
      const top = el.getBoundingClientRect().top - p.getBoundingClientRect().top + p.scrollTop;
      p.scrollTo({ top: Math.max(0, top - 8), behavior: 'smooth' });
      return;
    }
  }
  // No scrolling panel (the page itself scrolls): bring it into view the ordinary way.
  el?.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
}

export function Player({ frames, width, height, serial }: PlayerProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [frame, setFrame] = useState(0);
  const [playing, setPlaying] = useState(true);
  const [compare, setCompare] = useState(false);
  const [split, setSplit] = useState(0.5);
  const fps = useProjectStore((s) => s.project.settings.fps);
  const setSettings = useProjectStore((s) => s.setSettings);
  const count = frames.length;
  const last = Math.max(0, count - 1);

  const rootRef = useRef<HTMLDivElement>(null);
  // A new video: back to frame 0, play, and bring the player into view (the side panel scrolls).
  useEffect(() => {
    setFrame(0);
    setPlaying(true);
    scrollIntoPanel(rootRef.current);
  }, [serial]);

  // Loop: advance on a clock, not per animation frame, so the rate is the fps whatever the display does.
  useEffect(() => {
    if (!playing || count < 2) return;
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
        return (startFrame + advanced) % count;
      });
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, fps, count]);

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
    [count],
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
    }
  };

  // Dragging on the picture while comparing moves the divider.
  const dragSplit = (e: React.PointerEvent<HTMLCanvasElement>) => {
    if (!compare || (e.type === 'pointermove' && e.buttons !== 1)) return;
    const r = e.currentTarget.getBoundingClientRect();
    setSplit(Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)));
  };

  return (
    <div ref={rootRef} className="player" data-testid="player" tabIndex={0} onKeyDown={onKeyDown} aria-label="Video player">
      <canvas
        ref={canvasRef}
        className="player-canvas"
        data-testid="player-canvas"
        width={width}
        height={height}
        style={{ aspectRatio: `${width} / ${height}` }}
        onPointerDown={dragSplit}
        onPointerMove={dragSplit}
      />
      <div className="player-controls">
        <button type="button" data-testid="player-prev" onClick={() => step(-1)} title="Previous frame (←)" aria-label="Previous frame">
          <Icon d="M6 5h2v14H6zM20 5v14L9 12z" />
        </button>
        <button
          type="button"
          data-testid="player-play"
          onClick={() => setPlaying((p) => !p)}
          title={playing ? 'Pause (space)' : 'Play (space)'}
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
          <input type="checkbox" data-testid="player-compare" checked={compare} onChange={(e) => setCompare(e.target.checked)} /> Compare with still
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
