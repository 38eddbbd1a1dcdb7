// multidb.mjs — contact centers on two PostgreSQL clusters: the second cluster that
// scripts/test starts for tests/integration/9[0-4]_* (MI_PG2PORT, in MI_VAR/db2), SQL on it,
// and the <Location> of a contact center that names its database.
import fs from 'node:fs';
import path from 'node:path';
import { env, stack, sqlAt, basePath } from './harness.mjs';

const port2 = Number(process.env.MI_PG2PORT || 0);
if (!port2) throw new Error('MI_PG2PORT is not set: scripts/test starts the second cluster for tests 90-94');

export const cluster2 = {
  dir: path.join(env.varDir, 'db2'),
  port: port2,
  stop() { stack('pg-stop', this.dir, 'fast'); },
  start() { stack('pg-start', this.dir); },
};
export const sql2 = sqlAt(cluster2.dir, port2);

/** The module's connection string for the cluster on @port. */
export function conninfo(port) {
  return `host=127.0.0.1 port=${port} dbname=interactions user=interactions_app target_session_attrs=read-write`;
}

/** The <Location> of contact center @cc served from the cluster on @port (as location.conf.in
 *  writes one, with InteractionsDatabase). */
export function location(cc, port) {
  return `<Location ${basePath(cc)}>
    SetHandler interactions
    InteractionsContactCenter ${cc}
    InteractionsDatabase "${conninfo(port)}"
    InteractionsPoolMax 8
    AuthType Basic
    AuthName "${cc} contact center"
    AuthBasicProvider interactions
    Require valid-user
</Location>
`;
}

/** Write @text into a file of MI_VAR to include (EXTRA of httpd-conf); returns its path. */
export function extraConf(name, text) {
  const file = path.join(env.varDir, name);
  fs.writeFileSync(file, text);
  return file;
}
