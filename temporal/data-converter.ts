import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { AesGcmPayloadCodec } from './payload-codec';

/**
 * The failure converter's module, resolved next to this file so it works from the sources (tsx,
 * jest) and from dist/ alike. Workflow bundles must be built with it too (workflowBundleOptions).
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The one DataConverter every client and worker of this service uses: payloads (arguments, results,
 * memo, summaries, queries, signals) and failure messages encrypted with the configured keys
 * (docs/adr/0010-payload-codec-and-ids.md).
 */
export function createDataConverter(config: Pick<Config['temporal'], 'payloadCodecKeys'>): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(config.payloadCodecKeys)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
