import { DEFAULT_INSTRUCTION, TASK_INSTRUCTIONS } from "../format/task-instructions.js";
import type { ProbeSet } from "./reference-data.js";

/**
 * Built-in probe sets, used when the user gives no texts: Chinese, English, mixed Chinese/English, code, formulas
 * and tables (the kinds of input a deployment comparison should cover: scripts, tokenizer edge cases, layout).
 * Each category has queries and a handful of documents, some answering the queries and some not; every query is
 * embedded with the category's instruction and reranked (default instruction) against its category's documents,
 * every document is embedded.
 */
interface ProbeCategory {
    name: string;
    instruction: string;
    queries: string[];
    documents: string[];
}

export const PROBE_CATEGORIES: readonly ProbeCategory[] = [
    {
        name: "chinese",
        instruction: DEFAULT_INSTRUCTION,
        queries: ["中国的首都是哪里？", "如何缓解长时间伏案工作带来的颈椎疼痛？"],
        documents: [
            "北京是中华人民共和国的首都，也是全国的政治和文化中心。",
            "上海位于长江入海口，是中国最大的经济中心和国际港口城市。",
            "长时间低头看屏幕会加重颈椎负担。建议每隔四十分钟起身活动，做缩下巴和耸肩练习，并把显示器调到与视线平齐。",
            "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
            "办理护照需要携带身份证原件，到户籍所在地的出入境管理部门提交申请并采集指纹。",
        ],
    },
    {
        name: "english",
        instruction: DEFAULT_INSTRUCTION,
        queries: ["What is the capital of China?", "How do vaccines train the immune system?"],
        documents: [
            "The capital of China is Beijing.",
            "Gravity is a force that attracts two bodies towards each other. It gives weight to physical objects and is responsible for the movement of planets around the sun.",
            "Vaccines expose the immune system to a harmless piece or weakened form of a pathogen, so that memory B and T cells can respond quickly to a later infection.",
            "To reset your router, hold the recessed button on the back for ten seconds until the status light blinks amber.",
            "Shanghai is the most populous city in China and a global financial hub.",
        ],
    },
    {
        name: "mixed",
        instruction: DEFAULT_INSTRUCTION,
        queries: ["怎么用 Docker 部署 PostgreSQL？", "iPhone 电池健康度下降到 80% 以下怎么办"],
        documents: [
            "使用 docker run -d --name pg -e POSTGRES_PASSWORD=secret -p 5432:5432 postgres:16 即可启动一个 PostgreSQL 容器，数据目录建议挂载到 volume。",
            "当 iPhone 的 Battery Health 低于 80%，系统可能启用 performance management；可以到 Apple Store 更换电池，费用取决于机型。",
            "Kubernetes 中的 Deployment 通过 ReplicaSet 管理 Pod 的副本数，支持 rolling update。",
            "这家 café 的 latte 很好喝，周末 brunch 要提前 booking。",
            "MySQL 和 PostgreSQL 都是开源的 relational database，但 PostgreSQL 对 JSONB 和扩展的支持更丰富。",
        ],
    },
    {
        name: "code",
        instruction: TASK_INSTRUCTIONS["code-search"],
        queries: ["reverse a linked list in place", "read a file line by line in Python"],
        documents: [
            "function reverse(head) {\n  let prev = null;\n  while (head) {\n    const next = head.next;\n    head.next = prev;\n    prev = head;\n    head = next;\n  }\n  return prev;\n}",
            "with open(\"data.txt\", encoding=\"utf-8\") as f:\n    for line in f:\n        print(line.rstrip(\"\\n\"))",
            "SELECT department, COUNT(*) AS staff FROM employees GROUP BY department HAVING COUNT(*) > 10;",
            "#include <stdio.h>\nint main(void) { printf(\"hello, world\\n\"); return 0; }",
            "fn fib(n: u64) -> u64 { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }",
        ],
    },
    {
        name: "formulas",
        instruction: DEFAULT_INSTRUCTION,
        queries: ["quadratic formula for the roots of ax^2 + bx + c = 0", "欧拉公式是什么"],
        documents: [
            "The roots of $ax^2 + bx + c = 0$ are $x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}$, real when the discriminant $b^2 - 4ac \\ge 0$.",
            "欧拉公式：$e^{i\\theta} = \\cos\\theta + i\\sin\\theta$，当 $\\theta = \\pi$ 时得到 $e^{i\\pi} + 1 = 0$。",
            "E = mc² relates the rest energy of a body to its mass; c ≈ 2.998 × 10⁸ m/s.",
            "∫₀^∞ e^{-x²} dx = √π / 2 (the Gaussian integral).",
            "The derivative of sin(x) is cos(x), and d/dx ln(x) = 1/x for x > 0.",
        ],
    },
    {
        name: "tables",
        instruction: DEFAULT_INSTRUCTION,
        queries: ["Which quarter had the highest revenue in 2023?", "各城市的人口数量对比"],
        documents: [
            "| Quarter | Revenue (M$) | Margin |\n|---|---|---|\n| Q1 2023 | 12.4 | 31% |\n| Q2 2023 | 15.9 | 34% |\n| Q3 2023 | 14.1 | 29% |\n| Q4 2023 | 18.7 | 36% |",
            "| 城市 | 人口（万） | 面积（km²） |\n|---|---|---|\n| 北京 | 2185 | 16410 |\n| 上海 | 2487 | 6340 |\n| 广州 | 1882 | 7434 |",
            "Name,Role,Start date\nAlice,Engineer,2021-04-01\nBob,Designer,2019-11-15\nCarol,Manager,2018-02-20",
            "<table><tr><th>Model</th><th>Params</th></tr><tr><td>Qwen3-Embedding-0.6B</td><td>0.6B</td></tr><tr><td>Qwen3-Embedding-8B</td><td>8B</td></tr></table>",
            "Meeting notes: the team agreed to move the release to next Tuesday and to freeze the API on Friday.",
        ],
    },
];

/** The built-in probes: every query and document embedded, every query reranked against its category's documents. */
export function builtInProbeSet(): ProbeSet {
    const probes: ProbeSet = { embeddings: [], rerankings: [] };
    for (const category of PROBE_CATEGORIES) {
        category.queries.forEach((query, index) => {
            const id = `${category.name}/query-${index + 1}`;
            probes.embeddings.push({ id, text: query, instruction: category.instruction });
            // Reranking keeps the official default instruction: not every hosted rerank API takes an instruction.
            probes.rerankings.push({ id, query, documents: [...category.documents] });
        });
        category.documents.forEach((text, index) => probes.embeddings.push({ id: `${category.name}/document-${index + 1}`, text }));
    }
    return probes;
}
