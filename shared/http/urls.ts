/** The URLs a response points at: the origin the client used, and absolute URLs below it. */

/**
 * The origin of a request's URL. The URL a request object gives is already serialised by the WHATWG parser (and
 * never has credentials), so for http and https its origin is everything before the path.
 */
export function originOf(url: string): string {
  const scheme = url.startsWith("https://") ? 8 : url.startsWith("http://") ? 7 : 0;
  if (scheme === 0) return new URL(url).origin;
  const path = url.indexOf("/", scheme);
  return path === -1 ? url : url.slice(0, path);
}

/** The absolute URL of a path under the API, e.g. `/v1.0/teams/...`, on a base URL without a trailing slash. */
export function absoluteUrl(wire: { readonly baseUrl: string }, path: string): string {
  return `${wire.baseUrl}${path}`;
}
