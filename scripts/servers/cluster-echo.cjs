// The engine most users would pick for a multicore echo server: Node's `cluster` module with
// a `net` server in each worker (the primary accepts and hands connections round-robin, the
// default policy on Linux). Prints "listening on 127.0.0.1:<port> (<n> workers, cluster)".
//
//   node scripts/servers/cluster-echo.cjs [workers] [port]
'use strict';
const cluster = require('node:cluster');
const net = require('node:net');
const os = require('node:os');

const workers = Number(process.argv[2] ?? os.availableParallelism());
if (cluster.isPrimary) {
  // Workers that all listen on port 0 share one handle in the primary, hence one port.
  const port = process.argv[3] ?? '0';
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork({ ECHO_PORT: port }).on('listening', (address) => {
      if (++listening === workers) console.log(`listening on 127.0.0.1:${address.port} (${workers} workers, cluster)`);
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill();
    process.exit(0);
  });
} else {
  net
    .createServer((sock) => {
      sock.on('data', (d) => sock.write(d));
      sock.on('error', () => sock.destroy());
    })
    .listen(Number(process.env.ECHO_PORT), '127.0.0.1');
}
