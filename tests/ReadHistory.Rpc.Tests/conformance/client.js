'use strict';
// grpc-js client cases against a server at argv[2] (host:port); argv[3] names the case. Prints one JSON
// line with what it observed ({code, details, ...}) and exits 0; the C# test asserts on it.
const { grpc, echo, metadataToObject } = require('./common');

const [address, caseName] = process.argv.slice(2);

function client(options = {}) {
  return new echo.Echo(address, grpc.credentials.createInsecure(), options);
}

function unary(stub, request, options = {}, metadata = new grpc.Metadata()) {
  return new Promise((resolve) => {
    const result = {};
    const call = stub.Unary(request, metadata, options, (error, reply) => {
      if (error) {
        Object.assign(result, { code: error.code, details: error.details, trailers: metadataToObject(error.metadata) });
      } else {
        Object.assign(result, { code: 0, text: reply.text, payloadLength: reply.payload.length, count: reply.count, deadlineRemainingMs: reply.deadline_remaining_ms });
      }
    });
    call.on('metadata', (headers) => { result.headers = metadataToObject(headers); });
    call.on('status', (status) => {
      result.trailers = metadataToObject(status.metadata);
      setImmediate(() => resolve(result));
    });
  });
}

function raw(path) {
  return new Promise((resolve) => {
    const generic = new grpc.Client(address, grpc.credentials.createInsecure());
    generic.makeUnaryRequest(path, (x) => x, (x) => x, Buffer.alloc(0), (error) => {
      resolve(error ? { code: error.code, details: error.details } : { code: 0 });
    });
  });
}

const cases = {
  async unary() {
    return unary(client(), { text: 'hello', payload: Buffer.from([1, 2, 3]) });
  },

  async deadline() {
    const started = Date.now();
    const result = await unary(client(), { delay_ms: 20000 }, { deadline: new Date(Date.now() + 300) });
    return { ...result, elapsedMs: Date.now() - started };
  },

  async 'deadline-seen'() {
    return unary(client(), { text: 'd' }, { deadline: new Date(Date.now() + 20000) });
  },

  async 'oversize-request'() {
    return unary(client(), { payload: Buffer.alloc(100 * 1024) });
  },

  async 'oversize-response'() {
    return unary(client({ 'grpc.max_receive_message_length': 1024 }), { reply_payload_size: 4096 });
  },

  async 'unknown-method'() {
    return raw('/conformance.v1.Echo/Missing');
  },

  async 'unknown-service'() {
    return raw('/conformance.v1.Nowhere/Unary');
  },

  async metadata() {
    const metadata = new grpc.Metadata();
    metadata.set('x-ascii', 'hello world');
    metadata.set('x-data-bin', Buffer.from([0, 1, 2, 254, 255]));
    return unary(client(), { text: 'md' }, {}, metadata);
  },

  async 'error-non-ascii'() {
    return unary(client(), { fail_code: 9, fail_message: 'résumé ✓ 中文 100% done' });
  },

  async 'handler-exception'() {
    return unary(client(), { text: 'throw' });
  },

  async gzip() {
    return unary(client({ 'grpc.default_compression_algorithm': 2 }), { text: 'gz', payload: Buffer.alloc(20000) });
  },

  async 'client-stream'() {
    return new Promise((resolve) => {
      const call = client().ClientStream((error, reply) => {
        resolve(error ? { code: error.code, details: error.details } : { code: 0, text: reply.text, count: reply.count, bytes: reply.index });
      });
      for (const text of ['a', 'b', 'c']) {
        call.write({ text, payload: Buffer.alloc(10) });
      }
      call.end();
    });
  },

  async 'server-stream'() {
    return new Promise((resolve) => {
      const indices = [];
      const call = client().ServerStream({ text: 's', repeat: 5 });
      call.on('data', (reply) => indices.push(reply.index));
      call.on('error', (error) => resolve({ code: error.code, details: error.details, indices }));
      call.on('status', (status) => {
        if (status.code === 0) {
          setImmediate(() => resolve({ code: 0, indices }));
        }
      });
    });
  },

  async 'server-stream-error'() {
    return new Promise((resolve) => {
      const indices = [];
      const call = client().ServerStream({ repeat: 3, fail_code: 10, fail_message: 'stopped ✗' });
      call.on('data', (reply) => indices.push(reply.index));
      call.on('error', (error) => resolve({ code: error.code, details: error.details, indices, trailers: metadataToObject(error.metadata) }));
    });
  },

  async health() {
    return new Promise((resolve) => {
      const generic = new grpc.Client(address, grpc.credentials.createInsecure());
      // HealthCheckRequest{service:""} is the empty message; the answer {status: SERVING} is 08 01.
      generic.makeUnaryRequest('/grpc.health.v1.Health/Check', (x) => x, (x) => x, Buffer.alloc(0), (error, reply) => {
        resolve(error ? { code: error.code, details: error.details } : { code: 0, bytes: reply.toString('hex') });
      });
    });
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
