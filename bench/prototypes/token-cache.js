// Prototype: remember verified tokens (keyed by the exact token string) until
// min(exp, 5 minutes), at most 1000 of them, so a caller that polls with the same
// token pays jose's WebCrypto signature check once. Run on a COPY of the app.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function applyTokenCache(appRoot) {
  const file = join(appRoot, "dist/shared/auth/tokens.js");
  const source = readFileSync(file, "utf8");
  const head = "    return async (authorization) => {\n        const token = bearerToken(authorization, uri);\n";
  const tail = "        return { ...payload, tid: tid.toLowerCase() };\n";
  if (!source.includes(head) || !source.includes(tail)) throw new Error("tokens.js no longer has the expected shape");
  writeFileSync(
    file,
    source
      .replace(
        head,
        "    const verified = new Map();\n" +
          head +
          "        const hit = verified.get(token);\n" +
          "        if (hit !== undefined && hit.until > Date.now()) return hit.claims;\n",
      )
      .replace(
        tail,
        "        const claims = Object.freeze({ ...payload, tid: tid.toLowerCase() });\n" +
          "        if (verified.size >= 1000) verified.delete(verified.keys().next().value);\n" +
          "        verified.set(token, { claims, until: Math.min(payload.exp * 1000, Date.now() + 300_000) });\n" +
          "        return claims;\n",
      ),
  );
}
