// Types of openapi.js, for the tests that call it.
import type { RegisteredFunction } from "../local/functionsHost.js";

export declare const OPENAPI_FILE: string;
/** The functions the built app registers, loaded as the Functions host loads them (once per process). */
export declare function builtApp(): Promise<readonly RegisteredFunction[]>;
/** The OpenAPI document the built app serves, as text. */
export declare function servedOpenApi(): Promise<string>;
