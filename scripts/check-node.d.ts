// Types for scripts/check-node.js, which stays plain JavaScript so that it runs on any Node.
export interface NodeCheckInput {
  version: string;
  provisioned: boolean;
  wanted: number;
  platform: string;
}
export function decide(input: NodeCheckInput): { ok: boolean; message: string | null };
export function wantedMajor(pkg: { engines?: { node?: string } }): number;
export function provisionedBinary(root: string): boolean;
