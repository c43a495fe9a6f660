// Types of compile-validators.js, for the tests that call it.

export const GENERATED_FILE: string;
export const COMMAND: string;
export const SUBSCRIPTION_VALIDATORS_FILE: string;
export const SUBSCRIPTIONS_ORIGIN: string;
export const BATCH_VALIDATORS_FILE: string;
export const BATCH_ORIGIN: string;
/** The format names the generated code expects shared/operations/formats.ts to export. */
export const FORMAT_NAMES: readonly string[];
/** `createOperation` → `validateCreateOperation`. */
export function exportName(schemaId: string): string;
/** The generated module's source for these schemas (each with a `$id`). */
export function validatorsModuleSource(schemas: readonly object[], origin?: string): string;
