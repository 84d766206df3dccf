// A misbehaving HTTP proxy for S3_ tests: forwards to 127.0.0.1:UPSTREAM, but every Nth
// request is answered with 503 SlowDown, has its connection dropped, or gets a truncated
// body, or answered 403 SignatureDoesNotMatch (MODE signature), or a 206 with half its
// body (MODE short206), depending on MODE. Usage: node faulty_proxy.js PORT UPSTREAM MODE N
'use strict';
const http = require('http');
const [port, upstream, mode, every] = process.argv.slice(2);
let count = 0;
const server = http.createServer((req, res) => {
  count += 1;
  const faulty = count % Number(every) === 0;
  if (faulty && mode === '503') {
    res.writeHead(503, {'Content-Type': 'application/xml'});
    res.end('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>');
    return;
  }
  if (faulty && mode === 'signature') {  // what a signature-checking store says to a wrong secret
    res.writeHead(403, {'Content-Type': 'application/xml'});
    res.end('<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request ' +
            'signature we calculated does not match the signature you provided.</Message></Error>');
    return;
  }
  if (faulty && mode === 'drop') {
    req.socket.destroy();
    return;
  }
  const forward = http.request(
      {host: '127.0.0.1', port: Number(upstream), method: req.method, path: req.url, headers: req.headers},
      (up) => {
        if (faulty && mode === 'short206' && up.statusCode === 206) {
          // A well-formed but short range: Content-Range claims it all, the body is half.
          const parts = [];
          up.on('data', (chunk) => parts.push(chunk));
          up.on('end', () => {
            const body = Buffer.concat(parts);
            const half = body.subarray(0, body.length >> 1);
            const headers = Object.assign({}, up.headers, {'content-length': String(half.length)});
            res.writeHead(206, headers);
            res.end(half);
          });
          return;
        }
        if (faulty && mode === 'truncate' && req.method === 'GET') {
          res.writeHead(up.statusCode, up.headers);
          let sent = 0;
          up.on('data', (chunk) => {
            if (sent === 0) res.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)));
            sent += chunk.length;
          });
          up.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      });
  forward.on('error', () => req.socket.destroy());
  req.pipe(forward);
});
server.keepAliveTimeout = 5000;
server.listen(Number(port), '127.0.0.1');
