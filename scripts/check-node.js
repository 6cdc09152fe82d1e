/* global console, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: it must load on any Node, untranspiled */
// Plain CommonJS, no TypeScript and no syntax newer than Node 12: this runs as `prestart`/`pretest`
// on whatever Node is first on PATH, which is exactly the case where that Node may be too old for
// tsx or for the project itself.
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

/** The Node major package.json's engines asks for (`^24.11.0` → 24). */
function wantedMajor(pkg) {
  const match = /(\d+)/.exec((pkg.engines && pkg.engines.node) || '');
  if (!match) throw new Error('package.json has no engines.node');
  return Number(match[1]);
}

/**
 * Decides whether npm scripts can run, and what to tell the user.
 *   version:      the running Node (in an npm script: node_modules/.bin/node when the `node`
 *                 package installed, else the system Node)
 *   provisioned:  whether the optional `node` package left its binary in node_modules
 *   wanted:       the major from engines
 *   platform:     `${process.platform}-${process.arch}`, named in the advice
 * Returns { ok, message }; message is null when there is nothing worth saying.
 */
function decide(input) {
  const major = Number(String(input.version).replace(/^v/, '').split('.')[0]);
  const ok = major >= input.wanted;
  if (ok && input.provisioned) return { ok: true, message: null };
  if (ok) {
    return {
      ok: true,
      message:
        `Using the system Node ${input.version}: the provisioned Node ${input.wanted} is not installed ` +
        `(npm skips the optional \`node\` package when the registry has no build for ${input.platform}).`,
    };
  }
  const why = input.provisioned
    ? `A provisioned Node ${input.wanted} is in node_modules/.bin, but this command did not run through npm, ` +
      'so it got the system Node. Use npm start / npm test / npx …, or put Node ' +
      `${input.wanted} first on PATH:`
    : `npm could not provision Node ${input.wanted} for ${input.platform} (the optional \`node\` package ` +
      `was skipped; its install log says why), and the system Node is too old. Install Node ${input.wanted}:`;
  return {
    ok: false,
    message:
      `Node ${input.version} is too old: this project runs on Node ${input.wanted}.\n${why}\n` +
      `  nvm install && nvm use     # reads .nvmrc (${input.wanted}); https://github.com/nvm-sh/nvm\n` +
      `  npm install                # again, on Node ${input.wanted}\n` +
      `or any other Node ${input.wanted} (fnm, volta, asdf, nodejs.org's installer) first on PATH.`,
  };
}

function provisionedBinary(root) {
  const bin = process.platform === 'win32' ? 'bin/node.exe' : 'bin/node';
  return fs.existsSync(path.join(root, 'node_modules', 'node', bin));
}

function main() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const result = decide({
    version: process.versions.node,
    provisioned: provisionedBinary(ROOT),
    wanted: wantedMajor(pkg),
    platform: `${process.platform}-${process.arch}`,
  });
  if (result.message) console.error(result.message);
  process.exitCode = result.ok ? 0 : 1;
}

module.exports = { decide, wantedMajor, provisionedBinary };

if (require.main === module) main();
