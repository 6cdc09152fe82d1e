import { status as grpcStatus } from '@grpc/grpc-js';
import type { Connection } from '@temporalio/client';

/** Both the client's Connection and the worker's NativeConnection expose the operator service. */
type OperatorConnection = Pick<Connection, 'operatorService'>;
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from './search-attributes';

const INDEXED_VALUE_TYPES = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
} as const;

export type SearchAttributeSetupResult =
  { kind: 'ready'; added: string[] } | { kind: 'manual'; missing: string[]; reason: string };

/**
 * Makes sure the search attributes ops filter on exist. On a self-hosted cluster the operator
 * service adds them ("already exists" counts as success); where that is refused (Temporal Cloud),
 * the caller logs which ones to create by hand.
 */
export async function ensureSearchAttributes(
  connection: OperatorConnection,
  namespace: string,
): Promise<SearchAttributeSetupResult> {
  const wanted = Object.entries(SEARCH_ATTRIBUTE_CLI_TYPES);
  let existing: Record<string, unknown> = {};
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if (!isPermissionProblem(err)) throw err;
  }
  const missing = wanted.filter(([name]) => !(name in existing));
  if (missing.length === 0) return { kind: 'ready', added: [] };
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]])),
    });
    return { kind: 'ready', added: missing.map(([name]) => name) };
  } catch (err) {
    if (grpcCode(err) === grpcStatus.ALREADY_EXISTS) return { kind: 'ready', added: [] };
    if (isPermissionProblem(err)) {
      return {
        kind: 'manual',
        missing: missing.map(([name, type]) => `${name}=${type}`),
        reason: err instanceof Error ? err.message : String(err),
      };
    }
    throw err;
  }
}

function grpcCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number'
    ? err.code
    : undefined;
}

function isPermissionProblem(err: unknown): boolean {
  const code = grpcCode(err);
  return (
    code === grpcStatus.PERMISSION_DENIED ||
    code === grpcStatus.UNIMPLEMENTED ||
    code === grpcStatus.UNAUTHENTICATED
  );
}
