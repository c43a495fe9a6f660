/** The origin a request came to, and absolute URLs on a base. */
import { describe, expect, it } from "vitest";
import { absoluteUrl, originOf } from "../../../shared/http/urls.js";

describe("originOf", () => {
  it("is everything before the path for http and https", () => {
    expect(originOf("http://127.0.0.1:7071/v1.0/teams?x=1")).toBe("http://127.0.0.1:7071");
    expect(originOf("https://api.contoso.com/v1.0")).toBe("https://api.contoso.com");
    expect(originOf("https://api.contoso.com")).toBe("https://api.contoso.com");
  });

  it("is the URL parser's origin for anything else, and the same as it for http(s)", () => {
    expect(originOf("HTTP://Example.COM:80/a")).toBe("http://example.com");
    for (const url of ["http://a.example:8080/x/y", "https://[::1]:8443/v1.0/", "http://h/"]) {
      expect(originOf(url)).toBe(new URL(url).origin);
    }
  });
});

describe("absoluteUrl", () => {
  it("puts a path under the API on the base URL", () => {
    expect(absoluteUrl({ baseUrl: "https://api.contoso.com" }, "/v1.0/teams/t/operations/o")).toBe(
      "https://api.contoso.com/v1.0/teams/t/operations/o",
    );
  });
});
