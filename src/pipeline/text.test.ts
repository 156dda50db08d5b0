/**
 * The browser tokenizer equals tools/export/clip.py's CLIPTokenizer (the reference the goldens
 * were made with): the Python tokenizer runs here (/usr/bin/python3) over the same 200+ prompts
 * and the same vocabulary files, once with the tiny pack's vocabulary and once with a larger one
 * that the reference builds (tiny_vocab over many words, accented and non-Latin ones included),
 * at the pack's max_length (16) and at CLIP's 77. Also checked against goldens/tokenizer.bin.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMi2g } from '../../e2e/reference/mi2g';
import { ClipTokenizer, DEFAULT_NEGATIVE_PROMPT } from './text';

const ROOT = resolve(import.meta.dirname, '../..');
const TINY = join(ROOT, 'public/models/tiny/tokenizer');

const BASE = [
  'a photo of the cat runs',
  'blur, haze, cartoon',
  '',
  ' ',
  '   \t\n  ',
  'a',
  'A',
  'CAT',
  'The Cat Runs',
  'a  photo   of\tthe\ncat',
  '  leading and trailing  ',
  'cat,dog;walks:runs!',
  "the cat's toy",
  "it's, we're, they've, I'm, you'll, he'd",
  "CAT'S DOG'LL",
  "don't stop",
  "rock 'n' roll",
  'dog_walks',
  'snake__case___here',
  '__init__',
  'a1b2c3',
  '2024 was a year',
  '3.14159',
  '100%',
  '1,000,000 cats',
  '#hashtag @user',
  'email@example.com',
  'http://example.com/a?b=c&d=e',
  'café',
  'cafe\u0301',
  'naïve résumé',
  'Crème Brûlée',
  'ÀÉÎÕÜ',
  'straße',
  'İstanbul',
  'ΣΊΣΥΦΟΣ',
  'Ελληνικά γράμματα',
  'Москва зимой',
  '日本語のテキスト',
  '中文字符测试',
  '한국어 문장',
  'مرحبا بالعالم',
  'שלום עולם',
  'हिन्दी पाठ',
  'x² + y³',
  "Ⅻ o'clock",
  '½ cup',
  '١٢٣ arabic digits',
  '०१२ devanagari',
  'ｆｕｌｌｗｉｄｔｈ',
  'ǅungla',
  'ﬁne ligature',
  '🐱 cat',
  '🐶🐶🐶',
  'a 👍🏽 thumbs',
  'family 👨‍👩‍👧‍👦 emoji',
  '🇫🇷 flag',
  '★☆♥',
  '→ ← ↑ ↓',
  '…',
  '—dash–',
  '«quotes» “curly” ‘single’',
  '(blur:1.4), [haze], {cartoon}',
  'a.b.c.d',
  '!!!???',
  '...',
  '---',
  '$$$ cost',
  'tab\there',
  'nbsp\u00a0space',
  'thin\u2009space',
  'ideographic\u3000space',
  'zero\u200bwidth',
  'bom\ufeffhere',
  'nel\u0085line',
  'sep\u001cinfo\u001f',
  'line\u2028sep',
  'ſtrange long s',
  "it'ſ odd",
  'K kelvin',
  'Å angstrom',
  'ﬀ ligature',
  'a\u0000null',
  'control\u0007bell',
  DEFAULT_NEGATIVE_PROMPT,
  'a photo of the cat runs '.repeat(10),
  'cat '.repeat(40),
  'x'.repeat(100),
  '🐱'.repeat(30),
  'walks walks walks dog dog',
  'photoof the',
  'thecat',
  'Runs.',
  'cat.',
  'DOG!',
  'haze?',
];

function variants(): string[] {
  const out = new Set<string>(BASE);
  const transforms: ((s: string) => string)[] = [
    (s) => s.toUpperCase(),
    (s) => `  ${s.replace(/ /g, '   ')}  `,
    (s) => `${s}, 4k, highly detailed!`,
    (s) => `🎬 ${s} ✨`,
    (s) => s.normalize('NFD'),
    (s) => [...s].reverse().join(''),
  ];
  for (const s of BASE.slice(0, 60)) for (const t of transforms) out.add(t(s));
  return [...out];
}
const PROMPTS = variants();

const PY = `
import json, sys
from tools.export.clip import CLIPTokenizer
req = json.load(sys.stdin)
out = []
for job in req["jobs"]:
    tok = CLIPTokenizer.from_files(job["vocab"], job["merges"], job["max_length"])
    out.append([tok(t) for t in req["texts"]])
print(json.dumps(out))
`;

/** Reference ids of `texts` for each (vocabulary folder, max_length), in one Python run. */
function reference(jobs: [string, number][], texts: string[]): number[][][] {
  const input = JSON.stringify({
    jobs: jobs.map(([dir, L]) => ({ vocab: join(dir, 'vocab.json'), merges: join(dir, 'merges.txt'), max_length: L })),
    texts,
  });
  return JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', PY], { cwd: ROOT, input, encoding: 'utf8', maxBuffer: 64 << 20 }),
  ) as number[][][];
}

function load(dir: string, maxLength: number): ClipTokenizer {
  return ClipTokenizer.fromFiles(readFileSync(join(dir, 'vocab.json'), 'utf8'), readFileSync(join(dir, 'merges.txt'), 'utf8'), maxLength);
}

// A larger vocabulary made by the reference itself: merges for many words (accents and scripts included).
const LARGE = mkdtempSync(join(tmpdir(), 'clip-vocab-'));
execFileSync(
  '/usr/bin/python3',
  [
    '-c',
    `
import json, sys
from tools.export.clip import tiny_vocab
words = sys.argv[2].split()
vocab, merges = tiny_vocab(tuple(words))
json.dump(vocab, open(sys.argv[1] + "/vocab.json", "w", encoding="utf-8"), ensure_ascii=False)
open(sys.argv[1] + "/merges.txt", "w", encoding="utf-8").write("#version: 0.2\\n" + "\\n".join(merges) + "\\n")
`,
    LARGE,
    'a cat dog the photo of runs walks blur haze cartoon deformed iris pupils semi realistic cgi render sketch drawing anime mutated hands and fingers distorted disfigured poorly drawn bad anatomy wrong extra limb missing floating limbs disconnected mutation ugly disgusting amputation café naïve résumé straße москва 日本語 🐱 photos cats dogs running highly detailed year example com http',
  ],
  { cwd: ROOT },
);
afterAll(() => rmSync(LARGE, { recursive: true, force: true }));

describe('CLIP tokenizer equals tools/export/clip.py', () => {
  it(`has at least 200 prompts (${PROMPTS.length})`, () => {
    expect(PROMPTS.length).toBeGreaterThanOrEqual(200);
  });

  const configs: [string, string, number][] = [
    ['tiny pack vocabulary', TINY, 16],
    ['tiny pack vocabulary', TINY, 77],
    ['larger reference-built vocabulary', LARGE, 16],
    ['larger reference-built vocabulary', LARGE, 77],
  ];
  const wanted = reference(
    configs.map(([, dir, L]) => [dir, L]),
    PROMPTS,
  );
  configs.forEach(([name, dir, maxLength], k) => {
    it(`${name}, max_length ${maxLength}`, () => {
      const want = wanted[k];
      const tok = load(dir, maxLength);
      const mismatches = PROMPTS.map((p, i) => ({ p, got: Array.from(tok.encode(p)), want: want[i] })).filter(
        (r) => r.got.join() !== r.want.join(),
      );
      expect(mismatches.slice(0, 5)).toEqual([]);
    });
  });

  it('the larger vocabulary really merges (multi-byte words become single tokens)', () => {
    const tok = load(LARGE, 77);
    expect(tok.tokenize('deformed disgusting')).toHaveLength(2);
    expect(load(TINY, 77).tokenize('deformed disgusting').length).toBeGreaterThan(2);
  });

  it('matches goldens/tokenizer.bin', () => {
    const file = readFileSync(join(ROOT, 'public/models/tiny/goldens/tokenizer.bin'));
    const g = readMi2g(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer, 'tokenizer');
    const texts = g.meta.texts as string[];
    const ids = g.tensors.get('input_ids')!;
    const L = ids.shape[1];
    const tok = load(TINY, L);
    texts.forEach((t, i) => expect(Array.from(tok.encode(t)), t).toEqual(Array.from(ids.data.subarray(i * L, (i + 1) * L))));
  });

  it('truncates to max_length with eos last and pads with eos', () => {
    const tok = load(TINY, 16);
    const long = tok.encode(DEFAULT_NEGATIVE_PROMPT);
    expect(long).toHaveLength(16);
    expect(long[0]).toBe(tok.bos);
    expect(long[15]).toBe(tok.eos);
    const empty = tok.encode('');
    expect(Array.from(empty)).toEqual([tok.bos, ...new Array(15).fill(tok.eos)]);
  });
});
