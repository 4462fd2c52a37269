'use strict';
// grpc-js client cases against a readhistory server at argv[2] (host:port, roles all); argv[3] names the case.
// Prints one JSON line with what it observed ({code, details, ...}) and exits 0; the C# test asserts on it.
const path = require('path');
const { grpc, metadataToObject } = require('./common');
const protoLoader = require('@grpc/proto-loader');

const protos = path.join(__dirname, '..', '..', '..', '..', 'protos');
const definition = protoLoader.loadSync(
  [path.join(protos, 'readhistory', 'v1', 'read_history.proto'), path.join(protos, 'readhistory', 'internal', 'v1', 'cache_node.proto')],
  { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protos] });
const loaded = grpc.loadPackageDefinition(definition);
const api = loaded.readhistory.v1;
const internal = loaded.readhistory.internal.v1;

const [address, caseName] = process.argv.slice(2);

function client(options = {}) {
  return new api.ReadHistory(address, grpc.credentials.createInsecure(), options);
}

function unary(method, request, options = {}, metadata = new grpc.Metadata()) {
  return new Promise((resolve) => {
    const result = {};
    const stub = client();
    stub[method](request, metadata, options, (error, reply) => {
      if (error) {
        Object.assign(result, { code: error.code, details: error.details, trailers: metadataToObject(error.metadata) });
      } else {
        Object.assign(result, { code: 0, reply });
      }
      setImmediate(() => resolve(result));
    });
  });
}

function raw(pathName, request = Buffer.alloc(0)) {
  return new Promise((resolve) => {
    const generic = new grpc.Client(address, grpc.credentials.createInsecure());
    generic.makeUnaryRequest(pathName, (x) => x, (x) => x, request, (error, reply) => {
      resolve(error ? { code: error.code, details: error.details } : { code: 0, bytes: reply.toString('hex') });
    });
  });
}

function ids(count, first) {
  return Array.from({ length: count }, (_, i) => String(first + i));
}

const cases = {
  async unary() {
    const marked = await unary('MarkRead', { user_id: '4242', content_type: 1, items: [{ content_id: '7' }] });
    if (marked.code !== 0) {
      return marked;
    }
    const checked = await unary('Check', { user_id: '4242', content_type: 1, content_ids: ['1', '7'] });
    return checked.code !== 0 ? checked : { code: 0, written: marked.reply.written, bitmap: checked.reply.read_bitmap.toString('hex'), unread: checked.reply.unread_count };
  },

  async 'client-stream'() {
    return new Promise((resolve) => {
      const call = client().Ingest((error, reply) => {
        resolve(error ? { code: error.code, details: error.details } : { code: 0, accepted: reply.accepted, rejected: reply.rejected, firstError: reply.first_error });
      });
      for (const user of ['501', '502', '503']) {
        call.write({ batch: { user_id: user, content_type: 1, items: [{ content_id: '1' }, { content_id: '2' }] } });
      }
      call.write({ batch: { user_id: '0', content_type: 1, items: [{ content_id: '3' }] } });
      call.end();
    });
  },

  async deadline() {
    const started = Date.now();
    const result = await unary('Check', { user_id: '9', content_type: 1, content_ids: ids(1000, 1) }, { deadline: new Date(Date.now() + 1) });
    return { ...result, elapsedMs: Date.now() - started };
  },

  async 'oversize-request'() {
    // 600,000 fixed64 ids: about 4.8 MB, over the server's 4 MiB receive limit.
    return unary('Check', { user_id: '9', content_type: 1, content_ids: ids(600000, 1) });
  },

  async 'invalid-argument'() {
    return unary('Check', { user_id: '0', content_ids: ['1'] });
  },

  async 'unknown-method'() {
    return raw('/readhistory.v1.ReadHistory/Missing');
  },

  async 'unknown-service'() {
    return raw('/readhistory.v1.Nowhere/Check');
  },

  async metadata() {
    const metadata = new grpc.Metadata();
    metadata.set('x-ascii', 'hello world');
    metadata.set('x-data-bin', Buffer.from([0, 1, 2, 254, 255]));
    const result = await unary('Check', { user_id: '9', content_type: 1, content_ids: ['1'] }, {}, metadata);
    return result.code !== 0 ? result : { code: 0, unread: result.reply.unread_count };
  },

  async 'error-non-ascii'() {
    // The node names the pool it was asked for in its NOT_FOUND.
    return new Promise((resolve) => {
      const node = new internal.CacheNode(address, grpc.credentials.createInsecure());
      const call = node.Snapshot({ pool: 'résumé ✓ 中文 100% done' });
      call.on('data', () => {});
      call.on('error', (error) => resolve({ code: error.code, details: error.details }));
      call.on('status', (status) => {
        if (status.code === 0) {
          setImmediate(() => resolve({ code: 0 }));
        }
      });
    });
  },

  async health() {
    // HealthCheckRequest{service:""} is the empty message; the answer {status: SERVING} is 08 01.
    return raw('/grpc.health.v1.Health/Check');
  },
};

const run = cases[caseName];
if (!run) {
  console.error(`unknown case ${caseName}; known: ${Object.keys(cases).join(', ')}`);
  process.exit(2);
}
const watchdog = setTimeout(() => {
  process.stdout.write(JSON.stringify({ code: -1, details: 'client.js watchdog: no answer in 20 s' }) + '\n');
  process.exit(0);
}, 20000);
run().then((result) => {
  clearTimeout(watchdog);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}, (error) => {
  clearTimeout(watchdog);
  process.stdout.write(JSON.stringify({ code: -2, details: String(error && error.stack || error) }) + '\n');
  process.exit(0);
});
