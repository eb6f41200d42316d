import assert from "node:assert/strict";
import { test } from "node:test";

import { movedTo } from "../src/connection";

test("a cluster's MOVED close names the node's WebSocket URL, and nothing else is followed", () => {
  assert.equal(movedTo(4007, "ws://10.0.0.7:8080/ws"), "ws://10.0.0.7:8080/ws");
  assert.equal(movedTo(4007, "wss://play.example.org/ws"), "wss://play.example.org/ws");
  assert.equal(movedTo(4007, "wss://play.example.org/node-a/ws"), "wss://play.example.org/node-a/ws", "behind a proxy");
  assert.equal(movedTo(4006, "ws://10.0.0.7:8080/ws"), null, "another code is not a redirect");
  assert.equal(movedTo(4007, "javascript:alert(1)"), null);
  assert.equal(movedTo(4007, "http://10.0.0.7:8080/"), null);
  assert.equal(movedTo(4007, "ws://evil host/ws"), null);
});
