'use strict';
// Loads echo.proto for the grpc-js peer scripts.
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const definition = protoLoader.loadSync(path.join(__dirname, 'echo.proto'), {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const echo = grpc.loadPackageDefinition(definition).conformance.v1;

// Custom metadata as a plain object: binary values as base64, for JSON output.
function metadataToObject(metadata) {
  const result = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    result[key] = Buffer.isBuffer(value) ? value.toString('base64') : value;
  }
  return result;
}

// Request metadata whose key starts with "x-", copied for echoing.
function echoedMetadata(metadata) {
  const copy = new grpc.Metadata();
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    if (key.startsWith('x-')) {
      for (const value of values) {
        copy.add(key, value);
      }
    }
  }
  return copy;
}

module.exports = { grpc, echo, definition, metadataToObject, echoedMetadata };
