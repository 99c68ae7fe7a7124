// Preloaded (`node --import`) into a gateway started with OTEL_SDK_DISABLED=true, to isolate one
// ingredient of "telemetry on": the AsyncLocalStorage context manager NodeSDK registers. With it, the
// gateway's `context.with(...)` calls really switch contexts and every async operation of the process
// carries the context along, while no span is recorded and no metric is exported.
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
