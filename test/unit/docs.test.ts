/**
 * The README fits on a few screens, and every relative link of the README, CONTRIBUTING.md and docs/ reaches a file,
 * and, where it names one, a heading of that file (GitHub's anchors).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const pages = [
  "README.md",
  "CONTRIBUTING.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
}

describe("README.md", () => {
  it("is at most 250 lines", () => {
    expect(readFileSync(join(root, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });

  it("has a table of contents naming each of its sections", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => anchor(m[1]!));
    const listed = [...readme.matchAll(/^- \[[^\]]+\]\(#([^)]+)\)$/gm)].map((m) => m[1]);
    expect(listed).toEqual(sections);
  });
});

it.each(pages)("every relative link of %s reaches its file and heading", (page) => {
  const text = readFileSync(join(root, page), "utf8").replace(/```[\s\S]*?```/g, "");
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
  const broken = links.filter((link) => {
    const [path = "", hash] = link.split("#");
    const target = path === "" ? join(root, page) : join(root, dirname(page), path);
    return !existsSync(target) || (hash !== undefined && !anchorsOf(target).has(hash));
  });
  expect(broken).toEqual([]);
});
