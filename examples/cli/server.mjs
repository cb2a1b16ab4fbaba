// A small HTTP server for `tlob run` (docs/cli.md). It serves 44 requests to itself on 127.0.0.1,
// 11 at a time, then exits. Run it under tlob from the repository's root (the probes on its
// handlers are in examples/cli/tlob.config.json):
//   npx tlob run --config examples/cli/tlob.config.json --report report.html examples/cli/server.mjs
import { createServer } from 'node:http';
import { getUser, renderReport } from './handlers.mjs';

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/report') {
    res.end(renderReport(Number(url.searchParams.get('rows') ?? 10)));
    return;
  }
  const user = await getUser(Number(url.searchParams.get('id') ?? 1));
  res.end(JSON.stringify(user));
});

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const get = (path) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.text());

for (let round = 0; round < 4; round++) {
  const requests = [];
  for (let i = 1; i <= 10; i++) requests.push(get(`/user?id=${round * 10 + i}`));
  requests.push(get(`/report?rows=${round === 3 ? 80 : 20}`));
  await Promise.all(requests);
}
server.close();
console.log('served 44 requests');
