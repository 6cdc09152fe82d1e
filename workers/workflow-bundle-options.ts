import type { BundleOptions } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../temporal/data-converter';

/**
 * What every workflow bundle is built from: the worker bundling at start, the tests' shared bundle
 * and the image's pre-built dist/workflow-bundle.js. The failure converter must be inside the bundle,
 * or failures the workflows raise would keep their messages in plain text.
 *
 * With `tracing`, the OpenTelemetry workflow interceptors join ours: they only add a trace header to
 * the commands and hand spans to a sink, so a history replays the same with or without them
 * (test/replay runs both). They are a bundle of their own so that a worker with tracing off runs
 * no OpenTelemetry code in its workflow isolates.
 */
export function workflowBundleOptions(
  options: { tracing?: boolean } = {},
): Pick<BundleOptions, 'workflowsPath' | 'workflowInterceptorModules' | 'failureConverterPath'> {
  return {
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [
      require.resolve('../workflows/interceptors'),
      ...(options.tracing ? [require.resolve(TRACING_INTERCEPTORS_MODULE)] : []),
    ],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

export const TRACING_INTERCEPTORS_MODULE = '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';

/** Where the tracing twin of a pre-built bundle sits: dist/workflow-bundle.js → dist/workflow-bundle.tracing.js. */
export function tracingBundlePath(codePath: string): string {
  return codePath.replace(/(\.js)?$/, '.tracing.js');
}
