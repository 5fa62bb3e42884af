import { createDashboard } from '@ergon/dashboard';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const store = await SqliteExecutionLog.open({ path: './ergon.db' });
const dashboard = createDashboard({
  client: new Client({ store }),
  // Your own authentication instead of a token: call next() to let a request in.
  authenticate: async (c, next) => {
    if (c.req.header('x-forwarded-user') === undefined) return c.text('sign in first', 401);
    await next();
  },
  readOnly: true,
});

const app = new Hono();
app.get('/', (c) => c.text('my app'));
app.route('/ops/ergon', dashboard.app); // the page is at /ops/ergon
serve({ fetch: app.fetch, port: 3000, hostname: '127.0.0.1' });
