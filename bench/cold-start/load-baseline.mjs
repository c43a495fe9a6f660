// Baseline: a process that loads only the two SDKs every function app here needs.
await import("@azure/functions");
await import("@azure/cosmos");
