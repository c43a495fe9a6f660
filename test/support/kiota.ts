/**
 * A Kiota Graph client as an application builds one: its token for its API's host, over https only (the SDK's own
 * rule), and only the base URL set, as for a national cloud.
 */
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  validateProtocol,
  type AccessTokenProvider,
} from "@microsoft/kiota-abstractions";
import { createGraphServiceClient, GraphRequestAdapter, type GraphServiceClient } from "@microsoft/msgraph-sdk";

/** What an application supplies the SDK: its token, for 127.0.0.1 only, over https only. */
function tokens(token: string): AccessTokenProvider {
  const hosts = new AllowedHostsValidator(new Set(["127.0.0.1"]));
  return {
    getAllowedHostsValidator: () => hosts,
    getAuthorizationToken: (url) => {
      if (!url || !hosts.isUrlHostValid(url)) return Promise.resolve("");
      validateProtocol(url);
      return Promise.resolve(token);
    },
  };
}

/** The SDK's client (and its request adapter) for the API at `origin` + /v1.0, calling with `token`. */
export function graphClient(
  origin: string,
  token: string,
): { client: GraphServiceClient; adapter: GraphRequestAdapter } {
  const adapter = new GraphRequestAdapter(new BaseBearerTokenAuthenticationProvider(tokens(token)));
  adapter.baseUrl = `${origin}/v1.0`;
  return { client: createGraphServiceClient(adapter), adapter };
}
