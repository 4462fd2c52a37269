'use strict';
// The echo service on grpc-js, behaving like EchoService.cs. Binds 127.0.0.1:0, prints "PORT <n>",
// and runs until its standard input closes or it is sent SIGTERM.
const { grpc, echo, echoedMetadata } = require('./common');

const maxReceive = Number(process.env.MAX_RECEIVE_MESSAGE_SIZE || 64 * 1024);

function remainingMs(call) {
  // grpc-js gives a Date or a number of ms since the epoch (Infinity when there is no deadline).
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return Number.isFinite(at) ? at - Date.now() : -1;
}

function failure(request, trailers) {
  if (!request.fail_code) {
    return null;
  }
  trailers.set('x-failure', 'asked');
  return { code: request.fail_code, details: request.fail_message, metadata: trailers };
}

function sleep(call, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    call.on('cancelled', () => {
      clearTimeout(timer);
      reject(new Error('cancelled'));
    });
  });
}

function startHeaders(call) {
  const echoed = echoedMetadata(call.metadata);
  if (Object.keys(echoed.getMap()).length > 0) {
    call.sendMetadata(echoed);
  }
  return echoedMetadata(call.metadata);
}

const service = {
  async Unary(call, callback) {
    const remaining = remainingMs(call);
    const trailers = startHeaders(call);
    const request = call.request;
    try {
      if (request.delay_ms > 0) {
        await sleep(call, request.delay_ms);
      }
    } catch {
      return;
    }
    const error = failure(request, trailers);
    if (error) {
      callback(error);
      return;
    }
    const payload = request.reply_payload_size > 0 ? Buffer.alloc(request.reply_payload_size) : request.payload;
    callback(null, { text: request.text, payload, count: 1, deadline_remaining_ms: remaining }, trailers);
  },

  ClientStream(call, callback) {
    const trailers = startHeaders(call);
    const texts = [];
    let bytes = 0;
    let done = false;
    call.on('data', (request) => {
      if (done) {
        return;
      }
      const error = failure(request, trailers);
      if (error) {
        done = true;
        callback(error);
        return;
      }
      texts.push(request.text);
      bytes += request.payload.length;
    });
    call.on('end', () => {
      if (!done) {
        done = true;
        callback(null, { text: texts.join(','), count: texts.length, index: bytes, deadline_remaining_ms: remainingMs(call) }, trailers);
      }
    });
  },

  async ServerStream(call) {
    const trailers = startHeaders(call);
    const request = call.request;
    try {
      for (let i = 0; i < request.repeat; i++) {
        if (request.delay_ms > 0) {
          await sleep(call, request.delay_ms);
        }
        const payload = request.reply_payload_size > 0 ? Buffer.alloc(request.reply_payload_size) : Buffer.alloc(0);
        call.write({ text: request.text, index: i, payload });
      }
    } catch {
      return;
    }
    const error = failure(request, trailers);
    if (error) {
      call.emit('error', error);
      return;
    }
    call.end(trailers);
  },
};

const server = new grpc.Server({ 'grpc.max_receive_message_length': maxReceive });
server.addService(echo.Echo.service, service);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  process.stdout.write(`PORT ${port}\n`);
});

function stop() {
  server.forceShutdown();
  process.exit(0);
}
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
