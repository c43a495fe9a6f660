/**
 * The OpenTelemetry pipeline under `shared/telemetry.ts`: a logs pipeline
 * (custom events and exceptions), a metrics pipeline (store metrics, queue
 * depths, change-feed lag) and a traces pipeline (the dependency calls: the
 * store, the queues, the webhooks), all exported by the Azure Monitor exporter
 * to Application Insights ingestion, and nothing else. It is the exporter `applicationinsights` itself sends through,
 * without that package's distro around it (its Node SDK, instrumentations and
 * OTLP, Prometheus and Zipkin exporters), which costs a cold start half a second
 * and instruments nothing in an ESM bundle; see docs/benchmarks.md.
 *
 * Loaded only when a connection string is set (the bundle keeps it in a chunk of
 * its own).
 */
import {
  AzureMonitorLogExporter,
  AzureMonitorMetricExporter,
  AzureMonitorTraceExporter,
} from "@azure/monitor-opentelemetry-exporter";
import type { TokenCredential } from "@azure/identity";
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Context,
  type Histogram,
} from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { parseTraceParent } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";

/** The exporter maps a log record with this attribute to a custom event (EventData) of that name. */
const CUSTOM_EVENT_NAME = "microsoft.custom_event.name";
const SCOPE = "team-operations-api";

export interface PipelineOptions {
  readonly connectionString: string;
  /** Entra ID ingestion: the app's managed identity; none for instrumentation-key ingestion. */
  readonly credential: TokenCredential | undefined;
  /** Becomes ai.cloud.role (`service.name`); ai.cloud.roleInstance is the host name, as the exporter sets it. */
  readonly serviceName: string;
  /** How often metrics are aggregated and sent. */
  readonly metricIntervalMs?: number;
}

/** One call the app made to something else (a dependency), recorded after it ended. */
export interface DependencyRecord {
  /** What the application map and the transaction view show for it. */
  readonly name: string;
  /** A call that waits for an answer (client), or a message handed to a queue (producer). */
  readonly kind: "client" | "producer";
  /** When it started (epoch milliseconds) and how long it took. */
  readonly startTime: number;
  readonly durationMs: number;
  readonly success: boolean;
  /** OpenTelemetry's semantic attributes (db.*, http.*, server.address) and the app's own. */
  readonly attributes: Readonly<Record<string, string | number | boolean | undefined>>;
}

export interface TelemetryPipeline {
  /** A dependency call, as a span under the invocation's trace (the host's request is its parent). */
  dependency(record: DependencyRecord, traceParent: string | undefined): void;
  event(name: string, properties: Record<string, string>, traceParent: string | undefined): void;
  exception(error: Error, properties: Record<string, string>, traceParent: string | undefined): void;
  /** One measurement; `dimensions` must have a bounded set of values, since every combination is a series. */
  metric(name: string, value: number, dimensions: Record<string, string>): void;
  flush(): Promise<void>;
}

/**
 * The context of a W3C `traceparent` (the one the Functions host gives each invocation), so that a record carries
 * its trace and span as ai.operation.id and ai.operation.parentId, like the host's own request telemetry.
 */
function contextOf(traceParent: string | undefined): Context {
  const parent = traceParent === undefined ? null : parseTraceParent(traceParent);
  if (!parent) return ROOT_CONTEXT;
  const traceFlags = (parent.traceFlags & TraceFlags.SAMPLED) as TraceFlags;
  return trace.setSpanContext(ROOT_CONTEXT, { ...parent, traceFlags, isRemote: true });
}

export function startPipeline(options: PipelineOptions): TelemetryPipeline {
  const exporterOptions = {
    connectionString: options.connectionString,
    credential: options.credential,
    // As before: no retry files on the instance's disk, which a scale-in discards.
    disableOfflineStorage: true,
  };
  const resource = resourceFromAttributes({ "service.name": options.serviceName });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter: new AzureMonitorLogExporter(exporterOptions) })],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new AzureMonitorMetricExporter(exporterOptions),
        exportIntervalMillis: options.metricIntervalMs ?? 60_000,
      }),
    ],
  });
  // Every dependency is kept: the host's W3C flags do not say what Application Insights samples (host.json does).
  const tracerProvider = new BasicTracerProvider({
    resource,
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(new AzureMonitorTraceExporter(exporterOptions))],
  });
  const tracer = tracerProvider.getTracer(SCOPE);
  const logger = loggerProvider.getLogger(SCOPE);
  const meter = meterProvider.getMeter(SCOPE);
  const histograms = new Map<string, Histogram>();

  return {
    dependency(record, traceParent) {
      const attributes: Attributes = {};
      for (const [key, value] of Object.entries(record.attributes)) if (value !== undefined) attributes[key] = value;
      const span = tracer.startSpan(
        record.name,
        {
          kind: record.kind === "producer" ? SpanKind.PRODUCER : SpanKind.CLIENT,
          startTime: record.startTime,
          attributes,
        },
        contextOf(traceParent),
      );
      if (!record.success) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(record.startTime + record.durationMs);
    },
    event(name, properties, traceParent) {
      logger.emit({ attributes: { ...properties, [CUSTOM_EVENT_NAME]: name }, context: contextOf(traceParent) });
    },
    exception(error, properties, traceParent) {
      logger.emit({
        severityNumber: SeverityNumber.ERROR,
        attributes: {
          ...properties,
          "exception.type": error.name,
          "exception.message": error.message,
          "exception.stacktrace": error.stack ?? `${error.name}: ${error.message}`,
        },
        context: contextOf(traceParent),
      });
    },
    metric(name, value, dimensions) {
      let histogram = histograms.get(name);
      if (!histogram) {
        // Application Insights keeps a metric's sum, count, min and max, never its buckets: none to count.
        histogram = meter.createHistogram(name, { advice: { explicitBucketBoundaries: [] } });
        histograms.set(name, histogram);
      }
      histogram.record(value, dimensions);
    },
    async flush() {
      await Promise.all([loggerProvider.forceFlush(), meterProvider.forceFlush(), tracerProvider.forceFlush()]);
    },
  };
}
