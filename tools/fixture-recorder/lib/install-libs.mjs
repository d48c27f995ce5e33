// Each recorder scenario set lives in libs/<convention>/ with its OWN package.json,
// because the libraries under test need mutually incompatible dependency trees
// (e.g. @opentelemetry/api 1.9 vs 1.10, openai 4/5/6, ai 6 vs 7, two Traceloop majors).
// `npm install` at the recorder root runs this script (postinstall) to install each one.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const libs = readdirSync(join(root, 'libs')).filter(
  (d) => existsSync(join(root, 'libs', d, 'package.json')) && (only.length === 0 || only.includes(d)),
);
let failed = 0;
for (const d of libs) {
  console.log(`[install-libs] npm install in libs/${d}`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: join(root, 'libs', d),
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    failed++;
    console.error(`[install-libs] libs/${d}: npm install failed (exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
