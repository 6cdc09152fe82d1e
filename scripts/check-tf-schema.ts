import fs from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';

/**
 * `terraform validate` needs the provider binaries, which cannot be downloaded here. This is the
 * part of it that can run offline: every argument and block name of every azurerm resource and data
 * source in infra/ must exist in the azurerm provider's schema, read from the registry's cdktf
 * binding of that provider (@cdktf/provider-azurerm, generated from the schema; scripts/check-infra.sh
 * unpacks it and names the provider version). Names are checked per resource type, not per nesting
 * level, and types and values are not checked: a renamed or misspelt argument fails, a misplaced
 * one may not.
 *
 *   tsx scripts/check-tf-schema.ts <unpacked @cdktf/provider-azurerm> <infra dir>
 */
const [bindingDir, infraDir] = process.argv.slice(2);
if (!bindingDir || !infraDir) {
  console.error('usage: tsx scripts/check-tf-schema.ts <@cdktf/provider-azurerm dir> <infra dir>');
  process.exit(2);
}

const META = new Set(['for_each', 'count', 'depends_on', 'lifecycle', 'provider', 'provisioner']);
const lib = path.join(bindingDir, 'lib');

/** Every argument and block name the binding documents for a resource type (its registry anchors). */
function schemaNames(kind: 'resource' | 'data', type: string): Set<string> | undefined {
  // Resources are lib/<type>, data sources lib/data-azurerm-<type>.
  const dir = `${kind === 'data' ? 'data-azurerm-' : ''}${type.replace(/_/g, '-')}`;
  const file = path.join(lib, dir, 'index.d.ts');
  if (!fs.existsSync(file)) return undefined;
  const text = fs.readFileSync(file, 'utf8');
  return new Set([...text.matchAll(/#([a-z0-9_]+)\}/g)].map((m) => m[1]));
}

type Node = Record<string, unknown>;

/**
 * Names used in a block body. A block is a list of objects in hcl2json's output and is walked into;
 * an object value is a map attribute (tags, metadata), whose keys are data, not schema.
 */
function usedNames(body: Node, into: Set<string>): void {
  for (const [key, value] of Object.entries(body)) {
    if (META.has(key)) continue;
    if (key === 'dynamic') {
      for (const [block, uses] of Object.entries(value as Record<string, Node[]>)) {
        into.add(block);
        for (const use of uses)
          for (const content of (use.content as Node[] | undefined) ?? []) usedNames(content, into);
      }
      continue;
    }
    into.add(key);
    if (Array.isArray(value)) {
      for (const item of value)
        if (item && typeof item === 'object' && !Array.isArray(item)) usedNames(item as Node, into);
    }
  }
}

function tfFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() && e.name !== '.terraform'
        ? tfFiles(path.join(dir, e.name))
        : e.name.endsWith('.tf')
          ? [path.join(dir, e.name)]
          : [],
    );
}

async function main(): Promise<void> {
  const problems: string[] = [];
  let checked = 0;
  for (const file of tfFiles(infraDir)) {
    const doc = (await parse(file, fs.readFileSync(file, 'utf8'))) as Node;
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, byName] of Object.entries(
        (doc[kind] as Record<string, Record<string, Node[]>>) ?? {},
      )) {
        if (!type.startsWith('azurerm_')) continue;
        const known = schemaNames(kind, type.replace(/^azurerm_/, ''));
        const where = `${path.relative(infraDir, file)}: ${kind === 'data' ? 'data.' : ''}${type}`;
        if (!known) {
          problems.push(
            `${where} is not a ${kind === 'data' ? 'data source' : 'resource'} of this azurerm version`,
          );
          continue;
        }
        for (const [name, bodies] of Object.entries(byName)) {
          const used = new Set<string>();
          for (const body of bodies) usedNames(body, used);
          for (const arg of used)
            if (!known.has(arg)) problems.push(`${where}.${name}: no argument or block "${arg}"`);
          checked += 1;
        }
      }
    }
  }
  for (const p of problems) console.log(p);
  console.log(`azurerm schema: ${checked} resources checked, ${problems.length} problems`);
  process.exit(problems.length > 0 || checked === 0 ? 1 : 0);
}

void main();
