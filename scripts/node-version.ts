/** The Node major this project runs on: package.json engines, the optional `node` package, .nvmrc, the image. */
export const SUPPORTED_NODE_MAJOR = 24;

/**
 * Stops the local stack and the test run on an older Node with a way out, instead of the segfault
 * better-sqlite3 13 gives on Node 20. npm scripts run the Node 24 that `npm install` put in
 * node_modules/.bin (the optional `node` package), or the system Node where that package had no build
 * for the platform (scripts/check-node.js says so first); a globally installed jest or tsx runs the
 * system one.
 */
export function assertSupportedNode(version: string = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (major >= SUPPORTED_NODE_MAJOR) return;
  throw new Error(
    `Node ${version} is too old: this project runs on Node ${SUPPORTED_NODE_MAJOR}. ` +
      'Run it through npm (npm start, npm test, npx …): `npm install` provisions Node ' +
      `${SUPPORTED_NODE_MAJOR} into node_modules/.bin, which npm puts first on PATH. Where it cannot ` +
      `(no build for this platform), install Node ${SUPPORTED_NODE_MAJOR}: nvm install && nvm use (.nvmrc).`,
  );
}
