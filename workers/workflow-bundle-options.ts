import type { BundleOptions } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../temporal/data-converter';

/**
 * What every workflow bundle is built from: the worker bundling at start, the tests' shared bundle
 * and the image's pre-built dist/workflow-bundle.js. The failure converter must be inside the bundle,
 * or failures the workflows raise would keep their messages in plain text.
 */
export function workflowBundleOptions(): Pick<
  BundleOptions,
  'workflowsPath' | 'workflowInterceptorModules' | 'failureConverterPath'
> {
  return {
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [require.resolve('../workflows/interceptors')],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
