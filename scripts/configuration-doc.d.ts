// Types of configuration-doc.js, for the test that holds docs/configuration.md to the catalogues.

export const CONFIGURATION_DOC: string;

interface Setting {
  readonly name: string;
  readonly description: string;
  readonly default?: string;
  readonly localOnly?: boolean;
  readonly host?: boolean;
}

/** docs/configuration.md as the catalogues make it, formatted as prettier formats Markdown here. */
export function configurationDoc(catalogues: {
  settings: readonly Setting[];
  runnerSettings: readonly (Setting & { readonly default: string; readonly allowed: string })[];
  receiverSettings: readonly (Setting & { readonly default: string })[];
}): Promise<string>;
