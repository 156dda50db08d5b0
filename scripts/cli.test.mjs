/**
 * The command line (bin/motion-i2v.mjs) driven as a subprocess, as a user or a pipeline runs it:
 * real media from ../shared/media, outputs read back with independent decoders (ffprobe and
 * ffmpeg for MP4/WebM/GIF and PNG, a .flo reader of its own here), exit codes for bad input.
 * Each run that reaches the page starts headless Chromium on SwiftShader, so the shapes are
 * tiny (128x80, 4 frames).
 *
 *   node --test scripts/cli.test.mjs
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHROMIUM_ARGS } from './cli/browser.mjs';

const REPO = new URL('..', import.meta.url).pathname;
const MEDIA = join(REPO, '../shared/media');
const CLI = join(REPO, 'bin/motion-i2v.mjs');
const W = 128;
const H = 80;
/** The CLI's own server stays on this helper's ports (one run at a time in this file). */
const PORT = process.env.MOTION_I2V_CLI_TEST_PORT ?? '4360';

let dir;
before(() => {
  if (!existsSync(MEDIA)) throw new Error(`The test media are missing at ${MEDIA}.`);
  dir = mkdtempSync(join(tmpdir(), 'motion-i2v-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args, { timeout = 240_000 } = {}) {
  const needsPort = ['render', 'batch', 'flow', 'v2v'].includes(args[0]) && !args.includes('--port');
  const r = spawnSync(process.execPath, [CLI, ...args, ...(needsPort ? ['--port', PORT] : [])], { cwd: REPO, encoding: 'utf8', timeout });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A project file as the editor saves it (src/state/projectFile.ts), with a real photo inside. */
function projectFile({ image = readFileSync(join(MEDIA, 'middlebury/RubberWhale/frame10.png')), settings = {}, project = {} } = {}) {
  return JSON.stringify({
    format: 'motion-i2v-web/project',
    version: 1,
    savedAt: '2026-01-01T00:00:00Z',
    project: {
      version: 1,
      image: { id: 'sha256-claimed', name: 'frame10.png', width: 584, height: 388 },
      canvas: { width: W, height: H },
      crop: null,
      trajectories: [
        {
          id: 't1',
          points: [
            { x: 40, y: 40 },
            { x: 70, y: 45 },
          ],
          color: '#e6194b',
          timing: { mode: 'reference', startFrame: 0, endFrame: 3 },
        },
      ],
      brush: [],
      settings: {
        flowUnit: 16,
        frames: 4,
        fps: 8,
        prompt: '',
        negativePrompt: '',
        seed: 42,
        steps: 25,
        guidance: 7,
        loop: false,
        ...settings,
      },
      ...project,
    },
    image: `data:image/png;base64,${Buffer.from(image).toString('base64')}`,
  });
}

function write(name, text) {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** ffmpeg as the independent decoder: every frame as packed RGB. */
function decodeRgb(path, vf) {
  const raw = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', path, ...(vf ? ['-vf', vf] : []), '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 1 << 28 },
  );
  const size = W * H * 3;
  assert.equal(raw.length % size, 0, `${path} does not decode to whole ${W}x${H} frames`);
  return Array.from({ length: raw.length / size }, (_, k) => raw.subarray(k * size, (k + 1) * size));
}

function probe(path) {
  const out = JSON.parse(
    execFileSync('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,nb_read_frames,r_frame_rate',
      '-of',
      'json',
      path,
    ]).toString(),
  );
  const s = out.streams[0];
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames), fps: s.r_frame_rate };
}

function psnr(a, b) {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? 99 : 10 * Math.log10((255 * 255) / (se / a.length));
}

/** Mean absolute difference of the 3x3 patches around (ax, ay) in a and (bx, by) in b. */
function patchDiff(a, ax, ay, b, bx, by) {
  let sum = 0;
  for (let dy = -1; dy <= 1; dy++)
    for (let dx = -1; dx <= 1; dx++)
      for (let c = 0; c < 3; c++) sum += Math.abs(a[((ay + dy) * W + ax + dx) * 3 + c] - b[((by + dy) * W + bx + dx) * 3 + c]);
  return sum / 27;
}

function pngFrames(folder) {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => decodeRgb(join(folder, f))[0]);
}

/** An independent Middlebury .flo reader: tag, width, height, then (u, v) per pixel. */
function readFlo(path) {
  const b = readFileSync(path);
  assert.equal(b.readFloatLE(0), 202021.25, 'bad .flo tag');
  const width = b.readInt32LE(4);
  const height = b.readInt32LE(8);
  assert.equal(b.length, 12 + width * height * 8, '.flo size does not match its header');
  return { width, height, data: new Float32Array(b.buffer.slice(b.byteOffset + 12, b.byteOffset + b.length)) };
}

const trackerBuilt = existsSync(join(REPO, 'src/motion/track/index.ts'));

describe('bad input is refused with exit code 2 before any browser starts', () => {
  test('usage: no command, unknown command, unknown option, missing -o, bad values', () => {
    assert.equal(cli([]).code, 2);
    const unknown = cli(['paint', 'x.json']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "paint"/);
    const option = cli(['render', write('ok.json', projectFile()), '-o', join(dir, 'x.mp4'), '--colour', 'red']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /--colour/);
    assert.equal(cli(['render', join(dir, 'ok.json')]).code, 2);
    assert.match(cli(['render', join(dir, 'ok.json'), '-o', join(dir, 'x.mp4'), '--fps', 'fast']).stderr, /--fps must be a number/);
    assert.match(cli(['render', join(dir, 'ok.json'), '-o', join(dir, 'x.avi')]).stderr, /Cannot tell the format/);
    assert.match(cli(['render', join(dir, 'ok.json'), '-o', join(dir, 'x.mp4'), '--format', 'gif']).stderr, /does not match/);
    assert.match(cli(['render', join(dir, 'ok.json'), '-o', join(dir, 'x.mp4'), '--engine', 'magic']).stderr, /--engine must be/);
    assert.equal(cli(['flow', join(dir, 'ok.json'), '-o', join(dir, 'x.flo')]).code, 2, 'flow needs two images');
    assert.match(
      cli(['flow', join(MEDIA, 'softsplat/one.png'), join(MEDIA, 'softsplat/two.png'), '-o', join(dir, 'x.txt')]).stderr,
      /must end in \.flo/,
    );
    assert.equal(cli(['v2v', join(MEDIA, 'videos/cat.mp4'), '-o', join(dir, 'x.mp4')]).code, 2, 'v2v needs --first');
    assert.equal(
      cli(['render', join(dir, 'ok.json'), '-o', join(dir, 'x.mp4'), '--engine', 'neural', '--pack', dir]).code,
      2,
      'a pack folder without manifest.json',
    );
    assert.ok(!existsSync(join(dir, 'x.mp4')));
  });

  test('missing files and folders, with --json on stdout', () => {
    const r = cli(['render', join(dir, 'nope.json'), '-o', join(dir, 'x.mp4'), '--json']);
    assert.equal(r.code, 2);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, false);
    assert.equal(j.exitCode, 2);
    assert.match(j.message, /does not exist/);
    assert.equal(cli(['flow', join(dir, 'nope.png'), join(MEDIA, 'softsplat/two.png'), '-o', join(dir, 'x.flo')]).code, 2);
    assert.equal(cli(['batch', join(dir, 'no-such-folder')]).code, 2);
    mkdirSync(join(dir, 'empty'));
    assert.match(cli(['batch', join(dir, 'empty')]).stderr, /no project files/);
  });

  test('the CLI launches Chromium with the WebGPU flags the browser tests use', () => {
    const source = readFileSync(join(REPO, 'e2e/chromium.ts'), 'utf8');
    const list = /chromiumArgs = \[([^\]]*)\]/.exec(source);
    assert.ok(list, 'e2e/chromium.ts no longer declares chromiumArgs');
    assert.deepEqual(
      [...list[1].matchAll(/'([^']+)'/g)].map((m) => m[1]),
      CHROMIUM_ARGS,
    );
  });
});

describe('render: the app runs the project file in headless Chromium', () => {
  test('PNG frames: frame 0 is the photo cropped to the canvas, the dragged point arrives where the path ends', () => {
    const out = join(dir, 'png');
    const r = cli(['render', write('whale.json', projectFile()), '-o', out, '--format', 'png', '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.frames, 4);
    assert.equal(j.outputs.length, 4);
    const frames = pngFrames(out);
    assert.equal(frames.length, 4);
    // ffmpeg's own resize + centre crop of the original (a different resampler: about 28 dB).
    const [reference] = decodeRgb(join(MEDIA, 'middlebury/RubberWhale/frame10.png'), `scale=${W}:-1:flags=area,crop=${W}:${H}`);
    assert.ok(psnr(frames[0], reference) > 24, `frame 0 vs the cropped photo: ${psnr(frames[0], reference).toFixed(1)} dB`);
    // The trajectory drags (40, 40) to (70, 45) by the last frame.
    const moved = patchDiff(frames[3], 70, 45, frames[0], 40, 40);
    const still = patchDiff(frames[3], 70, 45, frames[0], 70, 45);
    assert.ok(
      moved < 6 && moved < 0.6 * still,
      `at the path's end, last frame vs frame 0 at the start: ${moved.toFixed(1)}, vs frame 0 there: ${still.toFixed(1)}`,
    );
  });

  test('MP4 (H.264) with --frames and --fps overriding the file: ffprobe and ffmpeg agree with the PNG frames', () => {
    const out = join(dir, 'whale.mp4');
    const r = cli([
      'render',
      write('whale6.json', projectFile({ settings: { frames: 6, fps: 8 } })),
      '-o',
      out,
      '--frames',
      '4',
      '--fps',
      '12',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const p = probe(out);
    assert.deepEqual([p.codec, p.width, p.height, p.frames, p.fps], ['h264', W, H, 4, '12/1']);
    const png = pngFrames(join(dir, 'png'));
    decodeRgb(out).forEach((f, k) => assert.ok(psnr(f, png[k]) > 30, `mp4 frame ${k}: ${psnr(f, png[k]).toFixed(1)} dB`));
  });

  test('WebM (VP9)', () => {
    const out = join(dir, 'whale.webm');
    const r = cli(['render', join(dir, 'whale.json'), '-o', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const p = probe(out);
    assert.deepEqual([p.codec, p.width, p.height, p.frames], ['vp9', W, H, 4]);
    const png = pngFrames(join(dir, 'png'));
    decodeRgb(out).forEach((f, k) => assert.ok(psnr(f, png[k]) > 30, `webm frame ${k}: ${psnr(f, png[k]).toFixed(1)} dB`));
  });

  test('a malformed project is bad input (2) and names the field', () => {
    const bad = cli(['render', write('bad.json', projectFile({ project: { trajectories: 'many' } })), '-o', join(dir, 'bad.mp4')]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /trajectories/);
    assert.ok(!existsSync(join(dir, 'bad.mp4')));
  });

  test("--engine neural with the tiny pack folder: the pack installs, both stages run, 4 frames (the pack's count), frame 0 is the photo", () => {
    const out = join(dir, 'neural');
    // One step without guidance: every stage runs, at a software GPU's pace.
    const file = write('whale-neural.json', projectFile({ settings: { guidance: 1, steps: 1 } }));
    const r = cli(
      ['render', file, '-o', out, '--format', 'png', '--engine', 'neural', '--pack', join(REPO, 'public/models/tiny'), '--json', '--quiet'],
      { timeout: 600_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).frames, 4);
    const frames = pngFrames(out);
    assert.equal(frames.length, 4);
    const [reference] = decodeRgb(join(MEDIA, 'middlebury/RubberWhale/frame10.png'), `scale=${W}:-1:flags=area,crop=${W}:${H}`);
    assert.ok(psnr(frames[0], reference) > 24, `frame 0 vs the cropped photo: ${psnr(frames[0], reference).toFixed(1)} dB`);
    // Random weights: the rendered frames are noise-like, not the photo.
    for (let k = 1; k < 4; k++)
      assert.ok(psnr(frames[k], frames[0]) < 30, `frame ${k} vs frame 0: ${psnr(frames[k], frames[0]).toFixed(1)} dB`);
  });
});

describe('batch: every project file of a folder', () => {
  test('GIFs for the good files, per-file codes for the bad ones, exit 2 when only input was bad', () => {
    const folder = join(dir, 'batch');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.motion-i2v.json'), projectFile());
    writeFileSync(join(folder, 'b.json'), projectFile({ settings: { loop: true } }));
    writeFileSync(join(folder, 'c-not-json.json'), '{"format": "motion-i2v-web/project", ');
    writeFileSync(join(folder, 'd-not-an-image.json'), projectFile({ image: Buffer.from('this is text, not a picture') }));
    writeFileSync(join(folder, 'notes.txt'), 'not a project');
    const out = join(dir, 'batch-out');
    const r = cli(['batch', folder, '--out-dir', out, '--format', 'gif', '--json']);
    assert.equal(r.code, 2, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.done, 2);
    assert.equal(j.failed, 2);
    assert.deepEqual(
      j.results.map((x) => [x.ok, x.exitCode]),
      [
        [true, 0],
        [true, 0],
        [false, 2],
        [false, 2],
      ],
    );
    assert.match(j.results[2].message, /not valid JSON/);
    assert.match(j.results[3].message, /image/i);
    assert.match(r.stderr, /a\.motion-i2v\.json/, 'progress names the file on stderr');
    const png = pngFrames(join(dir, 'png'));
    for (const name of ['a.gif', 'b.gif']) {
      const p = probe(join(out, name));
      assert.deepEqual([p.codec, p.width, p.height, p.frames], ['gif', W, H, 4], name);
    }
    // a is the same project as the PNG render: its GIF frames are those frames, quantised.
    decodeRgb(join(out, 'a.gif')).forEach((f, k) => assert.ok(psnr(f, png[k]) > 24, `gif frame ${k}: ${psnr(f, png[k]).toFixed(1)} dB`));
    assert.deepEqual(readdirSync(out).sort(), ['a.gif', 'b.gif']);
  });
});

describe('flow and v2v: the video-to-video tracker', () => {
  if (!trackerBuilt) {
    test('without the tracker in this build, both say "not available yet" (3)', () => {
      const f = cli(['flow', join(MEDIA, 'softsplat/one.png'), join(MEDIA, 'softsplat/two.png'), '-o', join(dir, 'ab.flo')]);
      assert.equal(f.code, 3, f.stderr);
      assert.match(f.stderr, /not available/);
      const v = cli(['v2v', join(MEDIA, 'videos/cat.mp4'), '--first', join(MEDIA, 'softsplat/one.png'), '-o', join(dir, 'v.mp4')]);
      assert.equal(v.code, 3, v.stderr);
      assert.ok(!existsSync(join(dir, 'ab.flo')) && !existsSync(join(dir, 'v.mp4')));
    });
    return;
  }

  test('flow one.png -> two.png: a .flo close to the reference flow, and its colour wheel', () => {
    const flo = join(dir, 'one_two.flo');
    const vis = join(dir, 'one_two.png');
    const r = cli(['flow', join(MEDIA, 'softsplat/one.png'), join(MEDIA, 'softsplat/two.png'), '-o', flo, '--visualise', vis]);
    assert.equal(r.code, 0, r.stderr);
    const got = readFlo(flo);
    const want = readFlo(join(MEDIA, 'softsplat/flow.flo'));
    assert.deepEqual([got.width, got.height], [want.width, want.height]);
    // The tracker's accuracy is tested with the tracker; here: the file holds its flow, (u, v) per
    // pixel in row order, so it lands well closer to the reference than no motion at all does.
    const epe = (u, v) => {
      let e = 0;
      for (let i = 0; i < want.data.length; i += 2) e += Math.hypot(u(i) - want.data[i], v(i) - want.data[i + 1]);
      return e / (want.data.length / 2);
    };
    const ours = epe(
      (i) => got.data[i],
      (i) => got.data[i + 1],
    );
    const none = epe(
      () => 0,
      () => 0,
    );
    assert.ok(ours < 0.5 * none, `end-point error against the reference flow: ${ours.toFixed(2)} px (no motion: ${none.toFixed(2)} px)`);
    const size = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', vis]).toString().trim();
    assert.equal(size, `${got.width},${got.height}`);
  });

  test('flow refuses a file that is not an image (2)', () => {
    const r = cli(['flow', write('text.png', 'not a picture'), join(MEDIA, 'softsplat/two.png'), '-o', join(dir, 'x.flo')]);
    assert.equal(r.code, 2, r.stderr);
  });

  test("v2v: the styled first frame follows the video's motion", () => {
    // A small real clip: every 4th frame of cat.mp4 at 96x128, and its first frame negated as the "styled" one.
    const [vw, vh] = [96, 128];
    const source = join(dir, 'cat-small.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-i',
      join(MEDIA, 'videos/cat.mp4'),
      '-vf',
      `select=not(mod(n\\,4)),scale=${vw}:${vh}`,
      '-fps_mode',
      'passthrough',
      '-frames:v',
      '4',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      source,
    ]);
    const first = join(dir, 'styled.png');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', source, '-frames:v', '1', '-vf', 'negate', first]);
    const out = join(dir, 'v2v.webm');
    const r = cli(['v2v', source, '--first', first, '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const p = probe(out);
    assert.deepEqual([p.codec, p.width, p.height, p.frames], ['vp9', vw, vh, 4]);
    const rgb = (path, vf) => {
      const raw = execFileSync('ffmpeg', [
        '-v',
        'error',
        '-i',
        path,
        ...(vf ? ['-vf', vf] : []),
        '-fps_mode',
        'passthrough',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-',
      ]);
      const size = vw * vh * 3;
      return Array.from({ length: raw.length / size }, (_, k) => raw.subarray(k * size, (k + 1) * size));
    };
    const got = rgb(out);
    const negated = rgb(source, 'negate');
    assert.ok(psnr(got[0], negated[0]) > 30, `frame 0 vs the styled frame: ${psnr(got[0], negated[0]).toFixed(1)} dB`);
    const last = got.length - 1;
    const follows = psnr(got[last], negated[last]);
    const stays = psnr(got[last], negated[0]);
    assert.ok(
      follows > stays,
      `last frame vs the styled video: ${follows.toFixed(1)} dB, vs the styled first frame: ${stays.toFixed(1)} dB`,
    );
  });
});
