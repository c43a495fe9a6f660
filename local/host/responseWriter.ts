/** The worker's HTTP response written as the host writes it. */
import type { ServerResponse } from "node:http";
import type { RpcHttpData, RpcTypedData } from "../functionsHost.js";

function bytesOf(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  const bytes = data.bytes ?? data.stream;
  if (bytes) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (typeof data.string === "string") return Buffer.from(data.string, "utf8");
  if (typeof data.json === "string") return Buffer.from(data.json, "utf8");
  const number = data.int ?? data.double;
  return Buffer.from(number === undefined || number === null ? "" : String(number), "utf8");
}

/**
 * Writes the worker's RpcHttp as the host's RawScriptResult does: the status code parsed from its string (200 if it
 * is not a number), each header as given (content-type as the response's), and the body's bytes with their length
 * (the app sets no cookies: the worker's cookies are not written). No RpcHttp at all is the host's empty 200.
 */
export function writeHttp(res: ServerResponse, http: RpcHttpData | null | undefined): number {
  const status = /^[+-]?\d+$/.test(http?.statusCode?.trim() ?? "") ? Number(http!.statusCode) : 200;
  for (const [name, value] of Object.entries(http?.headers ?? {})) res.setHeader(name, value);
  // The whole body in one write: Node sends its Content-Length (none for 204 and 304), as the host does.
  res.statusCode = status;
  res.end(bytesOf(http?.body));
  return status;
}
