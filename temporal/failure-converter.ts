import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces travel as an encoded payload instead of plain text, so the
 * payload codec encrypts them too: a provider's error text can quote the recipient or the message.
 * Loaded by path (DataConverter.failureConverterPath) because the workflow bundle needs it as well;
 * workflow-safe, no I/O. Failures recorded before it (plain messages) still read as they are.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
