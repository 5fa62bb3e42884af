import { createServer } from 'node:http';
import { createDashboard } from '@ergon/dashboard';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

const store = await SqliteExecutionLog.open({ path: './ergon.db' });
const dashboard = createDashboard({
  client: new Client({ store }),
  token: process.env.ERGON_DASHBOARD_TOKEN ?? 'change-me-to-a-long-secret',
  basePath: '/ergon', // the prefix it is mounted under
  traceUrl: 'http://localhost:16686/trace/{traceId}', // Jaeger
});

const server = createServer((req, res) => {
  if (req.url?.startsWith('/ergon')) return void dashboard.listener(req, res);
  res.end('my app');
});
server.listen(3000, '127.0.0.1');
// Open http://127.0.0.1:3000/ergon/?token=… once; the page keeps the token in a cookie.
