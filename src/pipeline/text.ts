/**
 * Text conditioning: CLIP BPE tokenizer from a pack's vocab.json/merges.txt, and the text
 * encoder run as a GPU session.
 *
 * The tokenizer reproduces tools/export/clip.py (CLIPTokenizer), the tokenizer the goldens were
 * made with, character for character: whitespace runs collapsed to one space, trimmed, lower-
 * cased; split by the pattern
 *   <|startoftext|> | <|endoftext|> | 's|'t|'re|'ve|'m|'ll|'d | letters+ | one digit | other+ | _+
 * with Python `re` (Unicode str) semantics: "letters" are word characters that are neither
 * decimal digits nor '_' (so '²' or 'Ⅻ' count as letters), "digit" is \p{Nd}, whitespace is
 * Python's str.isspace() set (it has \x1c-\x1f and \x85, JavaScript's \s has \ufeff instead),
 * matched case-insensitively (so "'ſ" is the contraction "'s", as in Python); then byte-level
 * BPE with '</w>' end-of-word marks; ids = [bos] + tokens[: max_length - 2] + [eos], padded with
 * eos. No ftfy and no NFC normalisation (the reference has neither).
 *
 * Why not a library: @huggingface/tokenizers (0.2) and transformers.js implement the HF CLIP
 * tokenizer (NFC normalisation, \p{L}/\p{N} split, no separate '_' rule), which differs from
 * the reference on decomposed accents, '_', and non-decimal numerals; they also read
 * tokenizer.json rather than the pack's vocab.json + merges.txt. Ids must match the reference
 * exactly (src/pipeline/text.test.ts runs the Python tokenizer over 200+ prompts).
 */
import { AppError } from '../errors';
import type { GpuTensor } from '../gpu/tensor';
import { uploadTensor } from '../gpu/tensor';
import type { ComponentSession, SessionOutput } from '../models/session';

/**
 * The negative prompt of the authors' demo (scripts/app.py, commit bc787e1, passed to both
 * stages verbatim: the "(...:1.4)" weights are plain text to the tokenizer). The app's default.
 */
export const DEFAULT_NEGATIVE_PROMPT =
  '(blur, haze, deformed iris, deformed pupils, semi-realistic, cgi, 3d, render, sketch, cartoon, drawing, anime, mutated hands and fingers:1.4), ' +
  '(deformed, distorted, disfigured:1.3), poorly drawn, bad anatomy, wrong anatomy, extra limb, missing limb, floating limbs, disconnected limbs, ' +
  'mutation, mutated, ugly, disgusting, amputation';

/** GPT-2/CLIP byte -> printable character table (bytes_to_unicode). */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table: string[] = new Array(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

/** Python's str.isspace() set (bidi WS/B/S or category Zs). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's \w for str patterns: letters, numbers, '_'. */
const PY_WORD = '\\p{L}\\p{N}_';
const WHITESPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'gu');
const EDGE_SPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
const PATTERN = new RegExp(
  [
    '<\\|startoftext\\|>',
    '<\\|endoftext\\|>',
    "'s",
    "'t",
    "'re",
    "'ve",
    "'m",
    "'ll",
    "'d",
    '[\\p{L}\\p{Nl}\\p{No}]+', // Python [^\W\d_]: word characters minus decimal digits and '_'
    '\\p{Nd}',
    `[^${PY_SPACE}${PY_WORD}]+`,
    '_+',
  ].join('|'),
  'giu',
);

export class ClipTokenizer {
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  private readonly ranks = new Map<string, number>();
  private readonly byteChars = bytesToUnicode();
  private readonly cache = new Map<string, string[]>();

  constructor(
    private readonly vocab: Readonly<Record<string, number>>,
    merges: readonly string[],
    readonly maxLength: number,
  ) {
    merges.forEach((m, i) => {
      const [a, b] = m.split(/ +/).filter(Boolean);
      // as the reference's dict comprehension: a repeated merge keeps its last rank
      this.ranks.set(`${a} ${b}`, i);
    });
    const special = (t: string): number => {
      const id = vocab[t];
      if (id === undefined)
        throw new AppError('model-pack', `The model pack's tokenizer vocabulary has no ${t} token. Re-download the pack.`);
      return id;
    };
    this.bos = special('<|startoftext|>');
    this.eos = special('<|endoftext|>');
    this.pad = this.eos;
    if (!Number.isInteger(maxLength) || maxLength < 2) throw new RangeError(`tokenizer max_length must be >= 2, got ${maxLength}`);
  }

  /** From the pack's files: vocab.json text and merges.txt text (its first line is a #version header). */
  static fromFiles(vocabJson: string, mergesTxt: string, maxLength: number): ClipTokenizer {
    let vocab: Record<string, number>;
    try {
      vocab = JSON.parse(vocabJson) as Record<string, number>;
    } catch (e) {
      throw new AppError('model-pack', "The model pack's tokenizer vocabulary (vocab.json) is not valid JSON. Re-download the pack.", {
        cause: e,
      });
    }
    const merges = mergesTxt
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '');
    return new ClipTokenizer(vocab, merges, maxLength);
  }

  private bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), chars[chars.length - 1] + '</w>'];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = word[best];
      const b = word[best + 1];
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          next.push(a + b);
          i += 2;
        } else {
          next.push(word[i]);
          i += 1;
        }
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }

  /** BPE token ids of `text`, without bos/eos/padding. */
  tokenize(text: string): number[] {
    const clean = text.replace(WHITESPACE_RUN, ' ').replace(EDGE_SPACE, '').toLowerCase();
    const ids: number[] = [];
    const utf8 = new TextEncoder();
    for (const m of clean.matchAll(PATTERN)) {
      const bytes = utf8.encode(m[0]);
      let s = '';
      for (const b of bytes) s += this.byteChars[b];
      for (const t of this.bpe(s)) {
        const id = this.vocab[t];
        if (id === undefined)
          throw new AppError(
            'model-pack',
            `The model pack's tokenizer cannot encode "${m[0]}" (its vocabulary lacks a merge result). Re-download the pack.`,
          );
        ids.push(id);
      }
    }
    return ids;
  }

  /** [bos] + tokens (truncated to maxLength - 2) + [eos], padded with eos to maxLength. */
  encode(text: string): Int32Array {
    const out = new Int32Array(this.maxLength).fill(this.pad);
    const toks = this.tokenize(text).slice(0, this.maxLength - 2);
    out[0] = this.bos;
    out.set(toks, 1);
    out[toks.length + 1] = this.eos;
    return out;
  }
}

/**
 * Encodes [negative, prompt] (classifier-free guidance order [uncond, cond]) into
 * encoder_hidden_states (2, L, D) on the GPU; with guidance off only the prompt (1, L, D).
 * `inputIds` must outlive the GPU work ORT queued (ORT may submit lazily): the caller destroys
 * it with the other per-run buffers at the end.
 */
export async function encodeText(
  device: GPUDevice,
  tokenizer: ClipTokenizer,
  textEncoder: ComponentSession,
  prompts: { prompt: string; negativePrompt: string; guidance: boolean },
): Promise<{ hiddenStates: SessionOutput; inputIds: GpuTensor }> {
  const texts = prompts.guidance ? [prompts.negativePrompt, prompts.prompt] : [prompts.prompt];
  const ids = new Int32Array(texts.length * tokenizer.maxLength);
  texts.forEach((t, i) => ids.set(tokenizer.encode(t), i * tokenizer.maxLength));
  const inputIds = uploadTensor(device, ids, [texts.length, tokenizer.maxLength], 'int32', 'input_ids');
  const out = await textEncoder.run({ input_ids: inputIds });
  return { hiddenStates: out.last_hidden_state, inputIds };
}
